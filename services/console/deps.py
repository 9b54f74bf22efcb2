"""What the console's handlers are given: database and clocks, passwords and the sign-in policy, and the services it calls."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from services.console.adapters.batches import Batches
from services.console.adapters.delivery import Delivery
from services.console.adapters.evidence import Evidence
from services.console.adapters.firms import Firms
from services.console.adapters.inbox import Inbox
from services.console.adapters.intake import Intake
from services.console.adapters.notices import Notices
from services.console.adapters.oversight import Oversight
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
    # Delivery's supervisors' API and its notice list, and intake's court registry (to name courts).
    oversight: Oversight
    notices: Notices
    intake: Intake
    # Intake's workbook batches, and the largest upload of a workbook with its documents the console passes on.
    batches: Batches
    max_batch_bytes: int
    # The largest file the console takes to pass on to evidence.
    max_upload_bytes: int
    # Intake's registry of law firms and their standing agreements.
    firms: Firms
    # Delivery's firm inbox, for lawyers.
    inbox: Inbox


DepsDep = Annotated[ConsoleDeps, Depends(get_deps)]
