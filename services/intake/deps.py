"""What intake's handlers are given: database and clock, the store of the courts' documents, and the turn batches take to register."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends

from shared.plumbing.documents import DocumentStore
from shared.plumbing.runtime import Deps, get_deps


@dataclass(frozen=True)
class IntakeDeps(Deps):
    documents: DocumentStore
    # Held while a batch of notices registers, so that concurrent batches register one after the other (handlers.submit_batch).
    batch_turn: asyncio.Lock = field(default_factory=asyncio.Lock, compare=False)


DepsDep = Annotated[IntakeDeps, Depends(get_deps)]
