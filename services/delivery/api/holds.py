"""Routes for services held by an evidence check: the list, and a supervisor's acceptance of the evidence or order to make the step again."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from services.delivery.deps import DepsDep
from services.delivery.handlers import holds
from services.delivery.requests import HoldOut, RecipientDelivery, ReviewIn
from shared.plumbing.auth import Principal, Role, require
from shared.plumbing.openapi import problems

router = APIRouter(prefix="/v1", tags=["holds"])

Overseers = Annotated[Principal, Depends(require(Role.supervisor, Role.auditor, Role.service))]
Supervisors = Annotated[Principal, Depends(require(Role.supervisor))]
RecipientId = Annotated[str, Path(max_length=64)]


@router.get("/holds", response_model=list[HoldOut], summary="Reported services held by an evidence check")
async def held(principal: Overseers, deps: DepsDep) -> list[HoldOut]:
    """Every visit or posting reported with evidence whose checks raised a blocking flag, with each item's flags, the oldest report first."""
    return await holds.holds(deps, principal=principal)


@router.post("/holds/{recipient_id}/accept", response_model=RecipientDelivery, summary="Accept the held evidence", responses=problems(409))
async def accept(recipient_id: RecipientId, body: ReviewIn, principal: Supervisors, deps: DepsDep) -> RecipientDelivery:
    """The service counts as it would with unflagged evidence (served, or the posting's thirty days begin), stating who set which flags aside and why."""
    return await holds.accept(deps, recipient_id=recipient_id, reason=body.reason, principal=principal)


@router.post("/holds/{recipient_id}/revisit", response_model=RecipientDelivery, summary="Refuse the held evidence and make the step again", responses=problems(409))
async def revisit(recipient_id: RecipientId, body: ReviewIn, principal: Supervisors, deps: DepsDep) -> RecipientDelivery:
    """The attempt fails with its flags and the reason, and a new visit (or posting) is assigned."""
    return await holds.revisit(deps, recipient_id=recipient_id, reason=body.reason, principal=principal)
