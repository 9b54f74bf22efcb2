"""The delivery team's work: the tasks, one task in full, beginning a visit, reassigning, the report of a visit or a posting, and the 送达回证 to sign."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.delivery import access, cards, receipts
from services.delivery.deps import DeliveryDeps
from services.delivery.domain import law
from services.delivery.domain.inputs import TaskReported
from services.delivery.domain.state import Place, RecipientState
from services.delivery.models import DeliveryAgent, DeliveryEvidence, DeliveryNotice, DeliveryRecipient, DeliveryTask, TaskStatus
from services.delivery.policy import Policy
from services.delivery.requests import OutcomeIn, OutcomeOut, ReassignIn, TaskCard, TaskDetail, WitnessIn
from services.delivery.standing import standing
from services.delivery.workflow import advance, emit, task_assigned
from shared.contracts.events import Channel, Signature, Witness
from shared.plumbing import audit
from shared.plumbing.auth import Principal, Role
from shared.plumbing.clock import local_date
from shared.plumbing.documents import read_or_problem
from shared.plumbing.problems import Problem


async def tasks(deps: DeliveryDeps, *, principal: Principal, agent: str | None, status: TaskStatus) -> list[TaskCard]:
    """An agent sees only their own tasks, late ones first, then soonest window first; a supervisor sees everyone's or one agent's."""
    now = deps.clock.now()
    who = principal.sub if principal.role is Role.agent else agent
    late = and_(col(DeliveryTask.status) == TaskStatus.open, col(DeliveryTask.window_end) < now)
    statement = select(DeliveryTask).where(DeliveryTask.status == status).order_by(case((late, 0), else_=1), col(DeliveryTask.window_start))
    if who is not None:
        statement = statement.where(DeliveryTask.agent_id == who)
    async with deps.db.sessions() as session:
        rows = (await session.exec(statement.limit(500))).all()
        recipients = select(DeliveryRecipient).where(col(DeliveryRecipient.id).in_({t.recipient_id for t in rows}))
        states = {r.id: RecipientState.model_validate(r.state) for r in (await session.exec(recipients)).all()}
    return [cards.card(task, states[task.recipient_id], now=now) for task in rows]


async def task(deps: DeliveryDeps, *, task_id: str, principal: Principal, client: str | None) -> TaskDetail:
    """Returns the caller's task in full; its phones only once the visit is begun and while the task is open, each showing audited."""
    now = deps.clock.now()
    async with deps.db.transaction() as session:
        row, state = await _reached(session, task_id=task_id, principal=principal)
        if principal.audited:
            audit.record(session, principal, action="task.read", target=task_id, now=now, party_ids=cards.party_ids(state), client=client)
        shown = None
        if row.begun_at is not None and row.status == TaskStatus.open:
            shown = _show_phones(session, principal, row, state, purpose=row.begun_reason, now=now, client=client)
        notice = await session.get(DeliveryNotice, row.notice_id)
    assert notice is not None
    return cards.detail(row, state, now=now, shown=shown, notice=notice)


async def begin(deps: DeliveryDeps, *, task_id: str, reason: str, principal: Principal, client: str | None) -> TaskDetail:
    """Notes the visit as begun (the first time, with its reason) and shows the recipient's phones, audited with this reason; only for an open task."""
    now = deps.clock.now()
    async with deps.db.transaction() as session:
        row, state = await _reached(session, task_id=task_id, principal=principal, lock=True)
        if row.status != TaskStatus.open:
            raise Problem(409, "Task not open", f"Task {task_id} is {row.status}; a visit is begun only while its task is open.")
        if row.begun_at is None:
            row.begun_at, row.begun_reason = now, reason
            session.add(row)
        shown = _show_phones(session, principal, row, state, purpose=reason, now=now, client=client)
        notice = await session.get(DeliveryNotice, row.notice_id)
    assert notice is not None
    return cards.detail(row, state, now=now, shown=shown, notice=notice)


def _show_phones(session: AsyncSession, principal: Principal, task: DeliveryTask, state: RecipientState, *, purpose: str | None, now: datetime, client: str | None) -> list[str]:
    # Staged authorisation: contact data is shown for the step worked on, and every showing is in the audit log.
    audit.record(session, principal, action="task.contacts", target=task.id, now=now, purpose=purpose, party_ids=cards.party_ids(state), client=client)
    return cards.phones(state)


async def reassign(deps: DeliveryDeps, *, task_id: str, body: ReassignIn, principal: Principal) -> TaskCard:
    """Gives an open task to another active agent of the roster, audited with the supervisor's reason; evidence learns of it through delivery.TaskAssigned."""
    now = deps.clock.now()
    async with deps.db.transaction() as session:
        row, state = await _reached(session, task_id=task_id, principal=principal, lock=True)
        if row.status != TaskStatus.open:
            raise Problem(409, "Task not open", f"Task {task_id} is {row.status}; only an open task is reassigned.")
        agent = await session.get(DeliveryAgent, body.agent_id)
        if agent is None or not agent.active:
            message = f"no active agent {body.agent_id} in the roster"
            raise Problem(422, "Invalid reassignment", f"agent_id: {message}", errors=[{"field": "agent_id", "message": message}])
        if row.agent_id != agent.id:
            row.agent_id = agent.id
            session.add(row)
            notice = await session.get(DeliveryNotice, row.notice_id)
            assert notice is not None
            emit(session, task_assigned(row, location=cards.location(row, state)), notice=notice, now=now, causation=None)
        audit.record(session, principal, action="task.reassign", target=task_id, now=now, purpose=body.reason, party_ids=cards.party_ids(state))
    return cards.card(row, state, now=now)


async def receipt(deps: DeliveryDeps, *, task_id: str, principal: Principal, client: str | None) -> bytes:
    """Returns the task's 送达回证 as a PDF to print and have signed; a supervisor's read is audited."""
    row, state, notice = await _read_for_print(deps, task_id=task_id, principal=principal, client=client, action="task.receipt")
    form = receipts.form(row, state, notice=notice)
    # WeasyPrint lays the page out for a while and would hold up every other request meanwhile.
    return await asyncio.to_thread(receipts.render_pdf, form)


async def print_out(deps: DeliveryDeps, *, task_id: str, principal: Principal, client: str | None) -> bytes:
    """Returns what the agent prints for the visit: the 送达回证 followed by every PDF document of the notice; a supervisor's read is audited."""
    row, state, notice = await _read_for_print(deps, task_id=task_id, principal=principal, client=client, action="task.print")
    # A document the store cannot give is an error the agent sees, never a print-out short of it.
    documents = [await read_or_problem(deps.documents, d["sha256"], task_id=task_id) for d in receipts.printed(notice)]
    form = receipts.form(row, state, notice=notice)
    return await asyncio.to_thread(receipts.print_out, form, documents)


async def _read_for_print(deps: DeliveryDeps, *, task_id: str, principal: Principal, client: str | None, action: str) -> tuple[DeliveryTask, RecipientState, DeliveryNotice]:
    """Returns the task the caller reaches, its recipient's state and its notice, the read audited as `action` when the caller's reads are."""
    now = deps.clock.now()
    async with deps.db.transaction() as session:
        row, state = await _reached(session, task_id=task_id, principal=principal)
        notice = await session.get(DeliveryNotice, row.notice_id)
        assert notice is not None
        if principal.audited:
            audit.record(session, principal, action=action, target=task_id, now=now, party_ids=cards.party_ids(state), client=client)
    return row, state, notice


async def task_document(deps: DeliveryDeps, *, task_id: str, sha256: str, principal: Principal, client: str | None) -> tuple[dict[str, Any], bytes]:
    """Returns one document of the task's notice (an OFD to print separately, say) with its bytes; a supervisor's read is audited."""
    now = deps.clock.now()
    async with deps.db.transaction() as session:
        row, state = await _reached(session, task_id=task_id, principal=principal)
        notice = await session.get(DeliveryNotice, row.notice_id)
        assert notice is not None
        document = next((d for d in notice.documents if d.get("sha256") == sha256 and d.get("content_type")), None)
        if document is None:
            raise Problem(404, "Not found", f"Task {task_id} serves no document {sha256}.")
        if principal.audited:
            audit.record(session, principal, action="task.document", target=task_id, now=now, party_ids=cards.party_ids(state), client=client)
    return document, await read_or_problem(deps.documents, sha256, task_id=task_id)


async def _reached(session: AsyncSession, *, task_id: str, principal: Principal, lock: bool = False) -> tuple[DeliveryTask, RecipientState]:
    """Returns the task the caller reaches (locked for update when asked) and its recipient's state; another's task answers as a missing one."""
    statement = select(DeliveryTask).where(DeliveryTask.id == task_id)
    row = (await session.exec(statement.with_for_update() if lock else statement)).one_or_none()
    if row is None or not access.reaches_task(principal, row):
        raise access.missing_task(task_id)
    recipient = await session.get(DeliveryRecipient, row.recipient_id)
    assert recipient is not None
    return row, RecipientState.model_validate(recipient.state)


def _invalid(field: str, message: str) -> Problem:
    return Problem(422, "Invalid outcome", f"{field}: {message}", errors=[{"field": field, "message": message}])


async def report_outcome(deps: DeliveryDeps, *, task_id: str, report: OutcomeIn, principal: Principal, key: str | None = None) -> OutcomeOut:
    """Records the outcome of the caller's open task; a service, refusal or posting that names evidence counts once evidence recorded it unflagged.

    A retry under the `key` the report was recorded with is answered as the report was, from what is stored, and records nothing.
    """
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
            if key is not None and task.report_key == key:
                return await _as_reported(session, task, policy=deps.setup.policy)
            raise Problem(409, "Task already reported", f"Task {task_id} is {task.status}.")
        if report.outcome not in law.TASK_OUTCOMES[Channel(task.kind)]:
            raise _invalid("outcome", f"a {task.kind} task cannot be reported as {report.outcome.value}")
        recorded = {e.id: e for e in (await session.exec(select(DeliveryEvidence).where(col(DeliveryEvidence.id).in_(report.evidence_ids)))).all()}
        known = {e.id: e.flags for e in recorded.values()}
        reported = _reported(report, task=task, known=known, kinds={e.id: e.kind for e in recorded.values()}, now=now)
        if reported.witness is not None and reported.witness.witnessed_on is not None and reported.witness.witnessed_on > local_date(reported.at):
            raise _invalid("witness.witnessed_on", "the witness cannot have seen the documents left after the day of the report")
        if (requirement := law.unmet(reported)) is not None:
            raise _invalid(requirement.field, requirement.rule)
        if law.lacks_signature(report.outcome, {e: recorded[e].kind if e in recorded else None for e in report.evidence_ids}):
            raise _invalid("evidence_ids", "none of these items is the signature drawn on screen or a photo of the signed 送达回证 (CPL 87, 88)")
        task.status = TaskStatus.reported
        task.reported_at = now
        task.outcome = report.model_dump(mode="json")
        task.report_key = key
        session.add(task)
        decision = await advance(session, recipient_id=task.recipient_id, event=reported, now=now, setup=deps.setup, causation=None)
    assert decision is not None
    return _answer(task, decision.state, waiting=sorted(set(report.evidence_ids) - set(known)), policy=deps.setup.policy)


async def _as_reported(session: AsyncSession, task: DeliveryTask, *, policy: Policy) -> OutcomeOut:
    """Answers a retried report from what the first one stored: the task, where its recipient stands now, the evidence still awaited."""
    recipient = await session.get(DeliveryRecipient, task.recipient_id)
    assert recipient is not None and task.outcome is not None
    named = OutcomeIn.model_validate(task.outcome).evidence_ids
    recorded = set((await session.exec(select(DeliveryEvidence.id).where(col(DeliveryEvidence.id).in_(named)))).all())
    return _answer(task, RecipientState.model_validate(recipient.state), waiting=sorted(set(named) - recorded), policy=policy)


def _answer(task: DeliveryTask, state: RecipientState, *, waiting: list[str], policy: Policy) -> OutcomeOut:
    """The answer to a report: the task, its recipient's status, the evidence still awaited, and where the reported service stands, in words."""
    return OutcomeOut(
        task_id=task.id,
        status=task.status,
        recipient_status=state.status,
        waiting_for_evidence=waiting,
        standing=standing(state, attempt_id=task.attempt_id, policy=policy, waiting=waiting),
    )


def _reported(report: OutcomeIn, *, task: DeliveryTask, known: dict[str, list[str]], kinds: dict[str, str], now: datetime) -> TaskReported:
    signer = report.signer
    return TaskReported(
        attempt_id=task.attempt_id,
        at=report.at or now,
        outcome=report.outcome,
        agent_id=task.agent_id,
        signer=Signature(name=signer.name, role=signer.role, relation=signer.relation) if signer else None,
        witness=_witness(report.witness, at=report.at or now),
        evidence={e: known.get(e) for e in report.evidence_ids},
        kinds=kinds,
        new_place=Place(text=report.new_address.text, postcode=report.new_address.postcode) if report.new_address else None,
        note=report.note,
    )


def _witness(given: WitnessIn | None, *, at: datetime) -> Witness | None:
    """The witness as the event carries it; CPL 89's date is the report's day in Beijing unless the agent gave another."""
    if given is None:
        return None
    return Witness(name=given.name, organisation=given.organisation, witnessed_on=given.witnessed_on or local_date(at), refusal_reason=given.refusal_reason or None)
