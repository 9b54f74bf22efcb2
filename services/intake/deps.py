"""What intake's handlers are given: database and clock, and the store of the courts' documents."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from shared.plumbing.documents import DocumentStore
from shared.plumbing.runtime import Deps, get_deps


@dataclass(frozen=True)
class IntakeDeps(Deps):
    documents: DocumentStore


DepsDep = Annotated[IntakeDeps, Depends(get_deps)]
