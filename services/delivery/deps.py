"""What delivery's handlers are given: database and clock, the workflow setup, and the Twilio token that signs callbacks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from services.delivery.workflow import Setup
from shared.plumbing.runtime import Deps, get_deps


@dataclass(frozen=True)
class DeliveryDeps(Deps):
    setup: Setup
    twilio_auth_token: str


DepsDep = Annotated[DeliveryDeps, Depends(get_deps)]
