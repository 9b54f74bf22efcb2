"""Intake's HTTP API: notices, address confirmations, address lookups and their audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status
from pydantic import BaseModel

from services.intake import handlers
from services.intake.models import IntakeNotice
from services.intake.requests import ConfirmationIn, ConfirmationOut, LookupIn, LookupOut, NoticeIn, NoticeOut
from shared.auth import Principal, Role, require
from shared.events import Stage
from shared.problems import Problem
from shared.runtime import RuntimeDep

router = APIRouter(prefix="/v1", tags=["intake"])

CourtOrService = Annotated[Principal, Depends(require(Role.court, Role.service))]
Readers = Annotated[Principal, Depends(require(Role.court, Role.service, Role.supervisor, Role.auditor))]
LookupRoles = Annotated[Principal, Depends(require(Role.court, Role.agent, Role.supervisor, Role.service))]
Auditors = Annotated[Principal, Depends(require(Role.auditor, Role.supervisor))]


@router.post(
    "/notices",
    status_code=status.HTTP_201_CREATED,
    response_model=NoticeOut,
    summary="Submit a notice to serve (idempotent on court_id + court_reference)",
    responses={200: {"description": "The same notice was submitted before; the first one is returned"}, 409: {"description": "The court reference was used for a different notice"}},
)
async def submit_notice(body: NoticeIn, response: Response, principal: CourtOrService, runtime: RuntimeDep) -> NoticeOut:
    """Validates and registers a notice, publishing intake.NoticeRegistered through the outbox."""
    if not principal.may_see(body.court_id):
        raise Problem(403, "Forbidden", f"A court may submit only its own notices; this token is for court {principal.sub}.")
    notice, created = await handlers.register_notice(runtime, body.model_dump(mode="json"))
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    response.headers["Location"] = f"/v1/notices/{notice.id}"
    return _view(notice)


@router.get("/notices/{notice_id}", response_model=NoticeOut, summary="Read a notice as registered, with each recipient's ranked addresses")
async def read_notice(notice_id: str, principal: Readers, runtime: RuntimeDep) -> NoticeOut:
    """Returns the notice; a court sees only its own (others answer 404, never revealing they exist)."""
    notice = await handlers.find_notice(runtime, notice_id)
    if notice is None or not principal.may_see(notice.court_id):
        raise Problem(404, "Not found", f"No notice {notice_id}.")
    return _view(notice)


@router.post(
    "/address-confirmations",
    status_code=status.HTTP_201_CREATED,
    response_model=ConfirmationOut,
    summary="Record a 送达地址确认书 (a later one for the same party and case supersedes the earlier)",
    responses={200: {"description": "This confirmation was recorded before"}},
)
async def confirm_address(body: ConfirmationIn, response: Response, _: CourtOrService, runtime: RuntimeDep) -> ConfirmationOut:
    """Records an address confirmation and tells delivery about open notices of the case."""
    confirmation = await handlers.confirm_address(runtime, body)
    response.status_code = status.HTTP_201_CREATED if confirmation.created else status.HTTP_200_OK
    return confirmation


@router.post("/address-lookups", response_model=LookupOut, summary="Rank a party's known addresses without creating a notice (audited)")
async def look_up(body: LookupIn, principal: LookupRoles, runtime: RuntimeDep) -> LookupOut:
    """Returns the party's candidate addresses in legal order; the lookup is recorded in the audit log."""
    return await handlers.look_up(runtime, body, principal=principal)


class AuditEntryOut(BaseModel):
    id: str
    at: datetime
    actor_role: str
    actor_sub: str
    action: str
    purpose: str | None
    party_ids: list[str]
    outcome: str


@router.get("/audit-log", response_model=list[AuditEntryOut], summary="Latest reads of personal data, newest first")
async def audit_log(
    _: Auditors, runtime: RuntimeDep, actor: Annotated[str | None, Query(max_length=64)] = None, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[AuditEntryOut]:
    """Returns who looked whom up, when and why."""
    return [AuditEntryOut.model_validate(e, from_attributes=True) for e in await handlers.audit_entries(runtime, actor=actor, limit=limit)]


def _view(notice: IntakeNotice) -> NoticeOut:
    data = notice.notice
    return NoticeOut(
        id=notice.id,
        court_id=notice.court_id,
        court_reference=notice.court_reference,
        case_number=notice.case_number,
        earlier_case_numbers=data.get("earlier_case_numbers", []),
        cause=notice.cause,
        stage=Stage(notice.stage),
        due_date=notice.due_date,
        received_at=notice.received_at,
        documents=data["documents"],
        recipients=data["recipients"],
        lawyers=[r["lawyer"] for r in data["recipients"] if r.get("lawyer")],
    )
