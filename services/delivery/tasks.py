"""The delivery team's queue: `GET /v1/tasks` and `POST /v1/tasks/{id}/outcome` for visits and postings."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlmodel import col, select

from services.delivery import access
from services.delivery.deps import DepsDep
from services.delivery.domain.machine import TaskOutcome, TaskReported
from services.delivery.domain.state import Place, RecipientState, RecipientStatus
from services.delivery.models import DeliveryEvidence, DeliveryRecipient, DeliveryTask
from services.delivery.workflow import advance
from shared.contracts.events import Channel, SignerRole, Witness
from shared.contracts.values import mask_id_number
from shared.plumbing.auth import Principal, Role, require
from shared.plumbing.openapi import problems
from shared.plumbing.problems import Problem
from shared.plumbing.runtime import RuntimeDep

router = APIRouter(prefix="/v1", tags=["tasks"])

Workers = Annotated[Principal, Depends(require(Role.agent, Role.supervisor))]

# Which outcomes a kind of task can have: a visit serves, is refused, finds nobody or learns of a move; a posting is posted or finds no place.
ALLOWED: dict[Channel, frozenset[TaskOutcome]] = {
    Channel.visit: frozenset({TaskOutcome.served, TaskOutcome.refused, TaskOutcome.not_found, TaskOutcome.moved}),
    Channel.posting: frozenset({TaskOutcome.posted, TaskOutcome.not_found}),
}


class TaskCard(BaseModel):
    """What an agent needs for one visit or posting, and nothing more."""

    task_id: str
    notice_id: str
    kind: str
    status: str
    case_number: str
    court_name: str
    recipient_name: str
    recipient_kind: str
    id_number_masked: str | None
    address: str
    postcode: str | None
    window_start: datetime
    window_end: datetime
    documents: list[str]
    outcomes: list[TaskOutcome]


@router.get("/tasks", response_model=list[TaskCard], summary="The caller's open visits and postings")
async def my_tasks(
    principal: Workers,
    runtime: RuntimeDep,
    agent: Annotated[str | None, Query(max_length=64, description="supervisors only: one agent's queue")] = None,
    status: Annotated[str, Query(pattern="^(open|reported|closed)$")] = "open",
) -> list[TaskCard]:
    """An agent sees only their own tasks, soonest window first; a supervisor sees everyone's or one agent's."""
    who = principal.sub if principal.role is Role.agent else agent
    statement = select(DeliveryTask).where(DeliveryTask.status == status).order_by(col(DeliveryTask.window_start))
    if who is not None:
        statement = statement.where(DeliveryTask.agent_id == who)
    async with runtime.db.sessions() as session:
        tasks = (await session.exec(statement.limit(500))).all()
        states = {
            r.id: RecipientState.model_validate(r.state)
            for r in (await session.exec(select(DeliveryRecipient).where(col(DeliveryRecipient.id).in_({t.recipient_id for t in tasks})))).all()
        }
    cards = []
    for task in tasks:
        state = states[task.recipient_id]
        recipient = state.recipient
        cards.append(
            TaskCard(
                task_id=task.id,
                notice_id=task.notice_id,
                kind=task.kind,
                status=task.status,
                case_number=state.case.case_number,
                court_name=state.case.court_name,
                recipient_name=recipient.name,
                recipient_kind=recipient.kind,
                id_number_masked=mask_id_number(recipient.id_number) if recipient.id_number else None,
                address=task.address,
                postcode=task.postcode,
                window_start=task.window_start,
                window_end=task.window_end,
                documents=state.case.documents,
                outcomes=sorted(ALLOWED[Channel(task.kind)]),
            )
        )
    return cards


class SignerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    role: SignerRole
    relation: str | None = Field(default=None, max_length=100)


class AddressIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=4, max_length=300)
    postcode: str | None = Field(default=None, pattern=r"^\d{6}$")


class OutcomeIn(BaseModel):
    """An agent's report of a visit or a posting."""

    model_config = ConfigDict(extra="forbid")

    outcome: TaskOutcome
    at: AwareDatetime | None = Field(default=None, description="when it happened; now when omitted")
    signer: SignerIn | None = None
    witness: Witness | None = None
    evidence_ids: list[str] = Field(default=[], max_length=20)
    new_address: AddressIn | None = None
    note: str | None = Field(default=None, max_length=500)


def incomplete(report: OutcomeIn) -> tuple[str, str] | None:
    """Names the field a report lacks for its outcome, with the rule that asks for it."""
    if report.outcome is TaskOutcome.served and report.signer is None:
        return "signer", "a service needs the signer's name and role (CPL 88)"
    if report.outcome is TaskOutcome.refused and report.witness is None and not report.evidence_ids:
        return "witness", "a refusal needs a witness (name and organisation) or photo/video evidence_ids (CPL 89)"
    if report.outcome is TaskOutcome.posted and not report.evidence_ids:
        return "evidence_ids", "a posting needs the photo of the posted notice (Interp. 138)"
    if report.outcome is TaskOutcome.moved and report.new_address is None:
        return "new_address", "a move needs the new address"
    return None


def _invalid(field: str, message: str) -> Problem:
    return Problem(422, "Invalid outcome", f"{field}: {message}", errors=[{"field": field, "message": message}])


class OutcomeOut(BaseModel):
    task_id: str
    status: str
    recipient_status: RecipientStatus
    waiting_for_evidence: list[str]


@router.post("/tasks/{task_id}/outcome", response_model=OutcomeOut, summary="Report what happened on a visit or posting", responses=problems(409))
async def report_outcome(task_id: Annotated[str, Path(max_length=64)], report: OutcomeIn, principal: Workers, runtime: RuntimeDep, deps: DepsDep) -> OutcomeOut:
    """Records the outcome of the caller's open task; a service, refusal or posting that names evidence counts once evidence recorded it unflagged."""
    now = runtime.clock.now()
    async with runtime.db.transaction() as session:
        task = await session.get(DeliveryTask, task_id)
        if task is None or not access.reaches_task(principal, task):
            raise access.missing_task(task_id)
        # The recipient's row first, as the evidence consumer takes it: an item recorded meanwhile is then
        # either read below or finds the recipient awaiting it, never neither (handlers.evidence_recorded).
        await session.exec(select(DeliveryRecipient.id).where(DeliveryRecipient.id == task.recipient_id).with_for_update())
        task = (await session.exec(select(DeliveryTask).where(DeliveryTask.id == task_id).with_for_update().execution_options(populate_existing=True))).one()
        if task.status != "open":
            raise Problem(409, "Task already reported", f"Task {task_id} is {task.status}.")
        if report.outcome not in ALLOWED[Channel(task.kind)]:
            raise _invalid("outcome", f"a {task.kind} task cannot be reported as {report.outcome.value}")
        if (missing := incomplete(report)) is not None:
            raise _invalid(*missing)
        known = {e.id: e.flags for e in (await session.exec(select(DeliveryEvidence).where(col(DeliveryEvidence.id).in_(report.evidence_ids)))).all()}
        signer = report.signer
        event = TaskReported(
            attempt_id=task.attempt_id,
            at=report.at or now,
            outcome=report.outcome,
            agent_id=task.agent_id,
            signer_name=signer.name if signer else None,
            signer_role=signer.role if signer else None,
            relation=signer.relation if signer else None,
            witness=report.witness,
            evidence={e: known.get(e) for e in report.evidence_ids},
            new_place=Place(text=report.new_address.text, postcode=report.new_address.postcode) if report.new_address else None,
            note=report.note,
        )
        task.status = "reported"
        task.reported_at = now
        task.outcome = report.model_dump(mode="json")
        session.add(task)
        decision = await advance(session, recipient_id=task.recipient_id, event=event, now=now, setup=deps.setup, causation=None)
    assert decision is not None
    return OutcomeOut(task_id=task_id, status=task.status, recipient_status=decision.state.status, waiting_for_evidence=sorted(set(report.evidence_ids) - set(known)))
