"""The delivery team's work: an agent's (or everyone's) tasks, and the report of a visit or a posting."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select

from services.delivery import access
from services.delivery.deps import DeliveryDeps
from services.delivery.domain import law
from services.delivery.domain.inputs import TaskReported
from services.delivery.domain.state import Place, RecipientState
from services.delivery.models import DeliveryEvidence, DeliveryRecipient, DeliveryTask, TaskStatus
from services.delivery.requests import OutcomeIn, OutcomeOut, TaskCard
from services.delivery.workflow import advance
from shared.contracts.events import Channel, Signature
from shared.contracts.values import mask_id_number
from shared.plumbing.auth import Principal, Role
from shared.plumbing.problems import Problem


async def tasks(deps: DeliveryDeps, *, principal: Principal, agent: str | None, status: TaskStatus) -> list[TaskCard]:
    """An agent sees only their own tasks, soonest window first; a supervisor sees everyone's or one agent's."""
    who = principal.sub if principal.role is Role.agent else agent
    statement = select(DeliveryTask).where(DeliveryTask.status == status).order_by(col(DeliveryTask.window_start))
    if who is not None:
        statement = statement.where(DeliveryTask.agent_id == who)
    async with deps.db.sessions() as session:
        rows = (await session.exec(statement.limit(500))).all()
        recipients = select(DeliveryRecipient).where(col(DeliveryRecipient.id).in_({t.recipient_id for t in rows}))
        states = {r.id: RecipientState.model_validate(r.state) for r in (await session.exec(recipients)).all()}
    return [_card(task, states[task.recipient_id]) for task in rows]


def _card(task: DeliveryTask, state: RecipientState) -> TaskCard:
    recipient = state.recipient
    return TaskCard(
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
        outcomes=sorted(law.TASK_OUTCOMES[Channel(task.kind)]),
    )


def _invalid(field: str, message: str) -> Problem:
    return Problem(422, "Invalid outcome", f"{field}: {message}", errors=[{"field": field, "message": message}])


async def report_outcome(deps: DeliveryDeps, *, task_id: str, report: OutcomeIn, principal: Principal) -> OutcomeOut:
    """Records the outcome of the caller's open task; a service, refusal or posting that names evidence counts once evidence recorded it unflagged."""
    now = deps.clock.now()
    async with deps.db.transaction() as session:
        task = await session.get(DeliveryTask, task_id)
        if task is None or not access.reaches_task(principal, task):
            raise access.missing_task(task_id)
        # The recipient's row first, as the evidence consumer takes it: an item recorded meanwhile is then
        # either read below or finds the recipient awaiting it, never neither (handlers.messages.evidence_recorded).
        await session.exec(select(DeliveryRecipient.id).where(DeliveryRecipient.id == task.recipient_id).with_for_update())
        task = (await session.exec(select(DeliveryTask).where(DeliveryTask.id == task_id).with_for_update().execution_options(populate_existing=True))).one()
        if task.status != TaskStatus.open:
            raise Problem(409, "Task already reported", f"Task {task_id} is {task.status}.")
        if report.outcome not in law.TASK_OUTCOMES[Channel(task.kind)]:
            raise _invalid("outcome", f"a {task.kind} task cannot be reported as {report.outcome.value}")
        recorded = {e.id: e for e in (await session.exec(select(DeliveryEvidence).where(col(DeliveryEvidence.id).in_(report.evidence_ids)))).all()}
        known = {e.id: e.flags for e in recorded.values()}
        reported = _reported(report, task=task, known=known, now=now)
        if (requirement := law.unmet(reported)) is not None:
            raise _invalid(requirement.field, requirement.rule)
        if law.lacks_signature(report.outcome, {e: recorded[e].kind if e in recorded else None for e in report.evidence_ids}):
            raise _invalid("evidence_ids", "none of these items is the signature drawn on screen or a photo of the signed 送达回证 (CPL 87, 88)")
        task.status = TaskStatus.reported
        task.reported_at = now
        task.outcome = report.model_dump(mode="json")
        session.add(task)
        decision = await advance(session, recipient_id=task.recipient_id, event=reported, now=now, setup=deps.setup, causation=None)
    assert decision is not None
    return OutcomeOut(task_id=task_id, status=task.status, recipient_status=decision.state.status, waiting_for_evidence=sorted(set(report.evidence_ids) - set(known)))


def _reported(report: OutcomeIn, *, task: DeliveryTask, known: dict[str, list[str]], now: datetime) -> TaskReported:
    signer = report.signer
    return TaskReported(
        attempt_id=task.attempt_id,
        at=report.at or now,
        outcome=report.outcome,
        agent_id=task.agent_id,
        signer=Signature(name=signer.name, role=signer.role, relation=signer.relation) if signer else None,
        witness=report.witness,
        evidence={e: known.get(e) for e in report.evidence_ids},
        new_place=Place(text=report.new_address.text, postcode=report.new_address.postcode) if report.new_address else None,
        note=report.note,
    )
