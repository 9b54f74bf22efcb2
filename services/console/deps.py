"""What the console's handlers are given: database and clocks, passwords and the sign-in policy, and the services it calls."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from services.console.adapters.delivery import Delivery
from services.console.adapters.evidence import Evidence
from services.console.domain import SignInPolicy
from services.console.passwords import Passwords
from services.console.strangers import Strangers
from shared.plumbing.clock import Clock
from shared.plumbing.runtime import Deps, get_deps


@dataclass(frozen=True)
class ConsoleDeps(Deps):
    # Sessions, locks and tokens count wall-clock time, as the person and PyJWT do, even when the domain clock is scaled.
    wall: Clock
    passwords: Passwords
    policy: SignInPolicy
    strangers: Strangers
    delivery: Delivery
    evidence: Evidence
    # The largest file the console takes to pass on to evidence.
    max_upload_bytes: int


DepsDep = Annotated[ConsoleDeps, Depends(get_deps)]
