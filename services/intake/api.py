"""Intake's HTTP API: notices, address confirmations, address lookups and their audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response, status

from services.intake import access, courts, handlers
from services.intake.courts import COURT_ID, CourtIn, CourtOut
from services.intake.models import IntakeCourt, IntakeNotice
from services.intake.requests import ConfirmationIn, ConfirmationOut, LookupIn, LookupOut, NoticeIn, NoticeOut
from shared.contracts.casenumber import CaseNumber
from shared.contracts.events import Stage
from shared.plumbing import audit
from shared.plumbing.auth import Principal, Role, require
from shared.plumbing.openapi import problems
from shared.plumbing.problems import Problem, validation_problem
from shared.plumbing.runtime import RuntimeDep

router = APIRouter(prefix="/v1", tags=["intake"])

CourtOrService = Annotated[Principal, Depends(require(Role.court, Role.service))]
Readers = Annotated[Principal, Depends(require(Role.court, Role.lawyer, Role.service, Role.supervisor, Role.auditor))]
# Agents get what a visit needs on their task card; a lookup would show them every contact and consent (PIPL Art. 6).
LookupRoles = Annotated[Principal, Depends(require(Role.court, Role.supervisor, Role.service))]
Supervisors = Annotated[Principal, Depends(require(Role.supervisor))]
Anyone = Annotated[Principal, Depends(require(*Role))]
NoticeId = Annotated[str, Path(max_length=64)]
CourtId = Annotated[str, Path(pattern=COURT_ID)]


@router.post(
    "/notices",
    status_code=status.HTTP_201_CREATED,
    response_model=NoticeOut,
    summary="Submit a notice to serve (idempotent on court_id + court_reference)",
    responses=problems(409) | {200: {"description": "The same notice was submitted before; the first one is returned"}},
)
async def submit_notice(body: NoticeIn, response: Response, principal: CourtOrService, runtime: RuntimeDep) -> NoticeOut:
    """Validates and registers a notice of a registered court in one of its cases, under the registry's court name, publishing intake.NoticeRegistered."""
    if principal.role is Role.court and principal.sub != body.court_id:
        raise Problem(403, "Forbidden", f"A court may submit only its own notices; this token is for court {principal.sub}.")
    async with runtime.db.sessions() as session:
        # A court is refused unless registered and active; a service may name any court, checked below.
        court = await access.calling_court(session, principal) if principal.role is Role.court else await courts.find(session, body.court_id)
    payload = body.model_dump(mode="json") | {"court_name": _registered_name(body, court, principal)}
    notice, created = await handlers.register_notice(runtime, payload)
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    response.headers["Location"] = f"/v1/notices/{notice.id}"
    return _view(notice)


def _registered_name(body: NoticeIn, court: IntakeCourt | None, principal: Principal) -> str:
    """Returns the court's name from the registry, refusing an unknown court, a case of another court and a name that differs."""
    if court is None or not court.active:
        raise _invalid("court_id", f"{body.court_id} is not a registered, active court")
    case = CaseNumber.parse(body.case_number)
    if not courts.owns_case(court, case):
        if principal.role is Role.court:
            raise access.not_your_case(case, court)
        raise _invalid("case_number", access.not_its_case(case, court))
    if body.court_name is not None and body.court_name != court.name:
        raise _invalid("court_name", f"court {court.id} is registered as {court.name}")
    return court.name


def _invalid(field: str, message: str) -> Problem:
    return validation_problem([{"loc": ("body", field), "msg": message, "type": "value_error"}])


@router.get("/notices/{notice_id}", response_model=NoticeOut, summary="Read a notice as registered, with each recipient's ranked addresses")
async def read_notice(notice_id: NoticeId, principal: Readers, runtime: RuntimeDep) -> NoticeOut:
    """Returns the notice: a court its own, a lawyer the recipients its firm represents; others answer 404, never revealing it exists."""
    async with runtime.db.transaction() as session:
        notice = await session.get(IntakeNotice, notice_id)
        recipients = access.visible_recipients(principal, notice) if notice is not None else None
        if notice is None or recipients is None:
            raise access.missing_notice(notice_id)
        if principal.audited:
            party_ids = [r["party"]["party_id"] for r in recipients if (r.get("party") or {}).get("party_id")]
            audit.record(session, principal, action="notice.read", target=notice_id, now=runtime.clock.now(), party_ids=party_ids)
    return _view(notice, recipients)


@router.post(
    "/address-confirmations",
    status_code=status.HTTP_201_CREATED,
    response_model=ConfirmationOut,
    summary="Record a 送达地址确认书 (a later one for the same party and case supersedes the earlier)",
    responses={200: {"description": "This confirmation was recorded before"}},
)
async def confirm_address(body: ConfirmationIn, response: Response, principal: CourtOrService, runtime: RuntimeDep) -> ConfirmationOut:
    """Records an address confirmation in one of the caller's own cases and tells delivery about open notices of the case."""
    async with runtime.db.sessions() as session:
        await access.check_case(session, principal, CaseNumber.parse(body.case_number))
    confirmation = await handlers.confirm_address(runtime, body)
    response.status_code = status.HTTP_201_CREATED if confirmation.created else status.HTTP_200_OK
    return confirmation


@router.post("/address-lookups", response_model=LookupOut, summary="Rank a party's known addresses without creating a notice (audited)")
async def look_up(body: LookupIn, principal: LookupRoles, runtime: RuntimeDep) -> LookupOut:
    """Returns the party's candidate addresses in legal order, to a court only for a party its own case names; every lookup is in the audit log."""
    return await handlers.look_up(runtime, body, principal=principal)


@router.get("/courts", response_model=list[CourtOut], summary="The courts Songda serves")
async def court_list(_: Anyone, runtime: RuntimeDep) -> list[CourtOut]:
    """Returns every registered court with its case code."""
    async with runtime.db.sessions() as session:
        return [_court(c) for c in await courts.every(session)]


@router.get("/courts/{court_id}", response_model=CourtOut, summary="One registered court")
async def court_read(court_id: CourtId, _: Anyone, runtime: RuntimeDep) -> CourtOut:
    """Returns the court."""
    async with runtime.db.sessions() as session:
        court = await courts.find(session, court_id)
    if court is None:
        raise Problem(404, "Not found", f"No court {court_id}.")
    return _court(court)


@router.put("/courts/{court_id}", response_model=CourtOut, summary="Register or change a court (supervisors)", responses=problems(409) | {201: {"description": "Registered"}})
async def court_put(court_id: CourtId, body: CourtIn, response: Response, _: Supervisors, runtime: RuntimeDep) -> CourtOut:
    """Registers a court or changes its name, case code or whether it is active; a case code belongs to one court."""
    async with runtime.db.transaction() as session:
        court, created = await courts.put(session, court_id, body, now=runtime.clock.now())
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return _court(court)


def _court(court: IntakeCourt) -> CourtOut:
    return CourtOut(id=court.id, name=court.name, case_code=court.case_code, active=court.active, updated_at=court.updated_at)


def _view(notice: IntakeNotice, recipients: list[dict] | None = None) -> NoticeOut:
    data = notice.notice
    recipients = data["recipients"] if recipients is None else recipients
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
        recipients=recipients,
        lawyers=[r["lawyer"] for r in recipients if r.get("lawyer")],
    )
