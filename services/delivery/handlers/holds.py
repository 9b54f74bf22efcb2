"""Reported services held by an evidence check: the overseers' list, and a supervisor's acceptance of the evidence or order to make the step again."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select

from services.delivery import access
from services.delivery.deps import DeliveryDeps
from services.delivery.domain.inputs import EvidenceAccepted, RevisitOrdered, TaskOutcome
from services.delivery.domain.state import RecipientState, RecipientStatus
from services.delivery.handlers.notices import recipient_view
from services.delivery.models import DeliveryRecipient, DeliveryTask
from services.delivery.requests import HoldOut, RecipientDelivery
from services.delivery.workflow import advance
from shared.contracts.events import ServiceMethod
from shared.plumbing import audit
from shared.plumbing.auth import Principal
from shared.plumbing.problems import Problem

# The longest held first, at most this many: each waits for a person, so the list is a queue, not an archive.
LIMIT = 500

_OUTCOME = {ServiceMethod.direct: TaskOutcome.served, ServiceMethod.refusal: TaskOutcome.refused, ServiceMethod.posting: TaskOutcome.posted}


async def holds(deps: DeliveryDeps, *, principal: Principal) -> list[HoldOut]:
    """Returns every held service with its items' flags, the oldest report first; audited for supervisors and auditors."""
    now = deps.clock.now()
    async with deps.db.transaction() as session:
        held = select(DeliveryRecipient).where(DeliveryRecipient.status == RecipientStatus.held).order_by(col(DeliveryRecipient.updated_at), col(DeliveryRecipient.id))
        rows = (await session.exec(held.limit(LIMIT))).all()
        states = {row.id: RecipientState.model_validate(row.state) for row in rows}
        claimed = {state.claim.attempt_id for state in states.values() if state.claim is not None}
        tasks = {task.attempt_id: task for task in (await session.exec(select(DeliveryTask).where(col(DeliveryTask.attempt_id).in_(claimed)))).all()}
        if principal.audited:
            parties = sorted({s.recipient.party.party_id for s in states.values() if s.recipient.party and s.recipient.party.party_id})
            audit.record(session, principal, action="holds.read", target="holds", now=now, party_ids=parties)
    found = [_hold(row, states[row.id], tasks) for row in rows]
    return sorted(found, key=lambda hold: (hold.reported_at, hold.recipient_id))


def _hold(row: DeliveryRecipient, state: RecipientState, tasks: dict[str, DeliveryTask]) -> HoldOut:
    claim = state.claim
    assert claim is not None
    task = tasks.get(claim.attempt_id)
    return HoldOut(
        recipient_id=row.id,
        notice_id=row.notice_id,
        court_id=state.case.court_id,
        case_number=state.case.case_number,
        recipient_name=row.name,
        task_id=task.id if task else None,
        agent_id=task.agent_id if task else None,
        outcome=_OUTCOME[claim.method],
        reported_at=task.reported_at if task and task.reported_at else claim.at,
        flags=claim.checked,
    )


async def accept(deps: DeliveryDeps, *, recipient_id: str, reason: str, principal: Principal) -> RecipientDelivery:
    """Counts the held service as if its evidence were unflagged, recording who accepted the flags, when and why."""
    now = deps.clock.now()
    event = EvidenceAccepted(by=principal.sub, reason=reason, at=now)
    return await _decide(deps, recipient_id=recipient_id, event=event, action="hold.accept", principal=principal, now=now)


async def revisit(deps: DeliveryDeps, *, recipient_id: str, reason: str, principal: Principal) -> RecipientDelivery:
    """Fails the held attempt with its flags and the reason, and makes the step again (a new visit or posting)."""
    now = deps.clock.now()
    event = RevisitOrdered(by=principal.sub, reason=reason, at=now)
    return await _decide(deps, recipient_id=recipient_id, event=event, action="hold.revisit", principal=principal, now=now)


async def _decide(deps: DeliveryDeps, *, recipient_id: str, event: EvidenceAccepted | RevisitOrdered, action: str, principal: Principal, now: datetime) -> RecipientDelivery:
    async with deps.db.transaction() as session:
        row = (await session.exec(select(DeliveryRecipient).where(DeliveryRecipient.id == recipient_id).with_for_update())).one_or_none()
        if row is None:
            raise access.missing_recipient(recipient_id)
        if row.status != RecipientStatus.held:
            raise Problem(409, "Not held", f"Recipient {recipient_id} is {row.status}: only a service held by an evidence check waits for a supervisor's decision.")
        party = RecipientState.model_validate(row.state).recipient.party
        await advance(session, recipient_id=recipient_id, event=event, now=now, setup=deps.setup, causation=None)
        audit.record(session, principal, action=action, target=recipient_id, now=now, purpose=event.reason, party_ids=[party.party_id] if party and party.party_id else [])
        await session.flush()
        return await recipient_view(session, row, principal)
