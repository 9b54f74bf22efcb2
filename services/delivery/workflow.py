"""Runs the state machine inside a handler's transaction: load a recipient for update, apply, save state, events, commands and actions."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import bindparam, func, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.delivery import roster, texts
from services.delivery.domain.decision import CloseTask, Decision, OpenTask, Send, Withdraw
from services.delivery.domain.inputs import Input
from services.delivery.domain.machine import apply
from services.delivery.domain.moves import start
from services.delivery.domain.plan import choose_agent
from services.delivery.domain.state import Case, RecipientState, RecipientStatus, wake_at
from services.delivery.models import DeliveryLink, DeliveryNotice, DeliveryOutgoing, DeliveryRecipient, DeliveryTask, NoticeStatus, SendStatus, TaskStatus
from services.delivery.policy import Policy
from shared.contracts.events import Channel, GeoPoint, NoticeCompleted, Recipient, ServedRecipient, TaskAssigned
from shared.contracts.registry import Event
from shared.contracts.topics import CARRIER_GATEWAY_COMMANDS, DELIVERY_EVENTS
from shared.plumbing import outbox, staging
from shared.plumbing.db import core_rows, table_of

log = structlog.get_logger(__name__)

SOURCE = "songda/delivery"
_TASKS = uuid.UUID("0c8f3b5e-3f1d-4a8e-9e0b-7d4c2a61f5a9")
# Marks a transaction that queued a message or call, so its commit wakes the dispatcher (workers.Dispatcher).
QUEUED = "songda.delivery.queued"
RECIPIENT = table_of(DeliveryRecipient)
LINK = table_of(DeliveryLink)
OUTGOING = table_of(DeliveryOutgoing)
# Built once with bound parameters, as the hot paths run them: building a statement around its values cost more than
# running it.
_RECIPIENT_LOCKED = select(RECIPIENT.c.notice_id, RECIPIENT.c.state).where(RECIPIENT.c.id == bindparam("recipient")).with_for_update()
# The columns set are the parameters' keys other than "recipient".
_RECIPIENT_STORED = update(RECIPIENT).where(RECIPIENT.c.id == bindparam("recipient"))
_NOTICE_RECIPIENTS = select(RECIPIENT.c.id, RECIPIENT.c.status, RECIPIENT.c.state).where(RECIPIENT.c.notice_id == bindparam("notice")).order_by(RECIPIENT.c.position)


@dataclass(frozen=True)
class Setup:
    """What the workflow needs besides the database: the policy and where links and callbacks point."""

    policy: Policy
    public_url: str


def emit(session: AsyncSession, event: Event, *, notice: DeliveryNotice, now: datetime, causation: str | None, topic: str = DELIVERY_EVENTS) -> None:
    """Stages an event (or, on the commands topic, a command) for the notice in this transaction's outbox."""
    envelope = event.envelope(source=SOURCE, subject=notice.id, time=now, correlationid=notice.correlation_id, causationid=causation)
    outbox.add(session, envelope, topic=topic, now=now)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def begin_recipient(
    session: AsyncSession, *, notice: DeliveryNotice, case: Case, recipient: Recipient, position: int, now: datetime, setup: Setup, causation: str | None
) -> None:
    """Plans a new recipient and saves its first step."""
    decision = start(case=case, recipient=recipient, now=now, policy=setup.policy)
    row = {"id": recipient.recipient_id, "notice_id": notice.id, "position": position, "name": recipient.name, "role": recipient.role}
    staging.stage(session, RECIPIENT, {**row, "whereabouts_unknown": recipient.whereabouts_unknown, **_stored(decision.state, now=now)})
    await _carry_out(session, decision, notice=notice, now=now, setup=setup, causation=causation)


async def advance(session: AsyncSession, *, recipient_id: str, event: Input, now: datetime, setup: Setup, causation: str | None) -> Decision | None:
    """Applies one input to a recipient (row locked for the transaction); None when there is no such recipient."""
    # The recipient's row is read and written with Core statements, cheaper than the ORM's loading and flushing
    # (bench/delivery_steps.py). They do not flush what the session holds as objects, so that goes first; a recipient
    # begun earlier in this transaction is a staged row, written before any statement (staging.stage).
    await session.flush()
    found = await core_rows(session, _RECIPIENT_LOCKED, {"recipient": recipient_id})
    if not found:
        return None
    before = RecipientState.model_validate(found[0].state)
    decision = apply(before, event, now=now, policy=setup.policy)
    if decision.state != before:
        # Only a change needs the notice (its events, a task, completion): an input that changes nothing reads one row.
        notice = await session.get(DeliveryNotice, found[0].notice_id)
        assert notice is not None
        values = _stored(decision.state, now=now)
        await session.exec(_RECIPIENT_STORED, params={"recipient": recipient_id, **values})
        _in_step(session, recipient_id, values)
        await _carry_out(session, decision, notice=notice, now=now, setup=setup, causation=causation)
    return decision


def _stored(state: RecipientState, *, now: datetime) -> dict[str, Any]:
    """Returns the recipient's columns that hold its state."""
    return {"state": state.model_dump(mode="json"), "status": state.status, "tier": state.step.tier, "wake_at": wake_at(state), "updated_at": now}


def _in_step(session: AsyncSession, recipient_id: str, values: dict[str, Any]) -> None:
    """Gives a recipient this transaction already loaded as an object the values just written, as stored: a handler reading it after advance sees the new state, and flushing it writes nothing."""
    loaded = session.identity_map.get(identity_key(DeliveryRecipient, recipient_id))
    if loaded is not None:
        for name, value in values.items():
            set_committed_value(loaded, name, value)


async def _carry_out(session: AsyncSession, decision: Decision, *, notice: DeliveryNotice, now: datetime, setup: Setup, causation: str | None) -> None:
    """Stages the decision's events, commands and actions, then completes the notice when everyone is served."""
    state = decision.state
    for event in decision.events:
        emit(session, event, notice=notice, now=now, causation=causation)
    for command in decision.commands:
        emit(session, command, notice=notice, now=now, causation=causation, topic=CARRIER_GATEWAY_COMMANDS)
    for action in decision.actions:
        match action:
            case Send():
                await _prepare_send(session, action, state=state, setup=setup, now=now)
            case OpenTask():
                await _open_task(session, action, state=state, notice=notice, setup=setup, now=now, causation=causation)
            case CloseTask():
                task = (await session.exec(select(DeliveryTask).where(DeliveryTask.attempt_id == action.attempt_id))).one_or_none()
                if task is not None and task.status == TaskStatus.open:
                    task.status = TaskStatus.closed
                    session.add(task)
            case Withdraw():
                await _withdraw(session, action.attempt_id)
    if state.status is RecipientStatus.served:
        await session.flush()
        await _maybe_complete(session, notice, now=now, causation=causation)


async def _prepare_send(session: AsyncSession, action: Send, *, state: RecipientState, setup: Setup, now: datetime) -> None:
    """Queues the message or call for the dispatcher, with its words and (for documents) a fresh e-delivery link."""
    link = None
    owner = {"attempt_id": action.attempt_id, "notice_id": state.case.notice_id, "recipient_id": state.recipient.recipient_id}
    if action.channel is not Channel.voice:
        token = secrets.token_urlsafe(24)
        firm = state.recipient.lawyer.firm_uscc if action.channel is Channel.lawyer_firm and state.recipient.lawyer else None
        expires_at = now + timedelta(days=setup.policy.electronic.link_valid_days)
        staging.stage(session, LINK, {"token_hash": token_hash(token), **owner, "expires_at": expires_at, "created_at": now, "firm_uscc": firm})
        link = f"{setup.public_url}/e/{token}"
    words = texts.message(action.channel, case=state.case, recipient=state.recipient, link=link, valid_days=setup.policy.electronic.link_valid_days)
    queued = {"channel": action.channel, "target": action.target, "queued_at": now, "status": SendStatus.pending, "next_try_at": now, "message": words}
    staging.stage(session, OUTGOING, {**owner, **queued})
    session.info[QUEUED] = True


async def _withdraw(session: AsyncSession, attempt_id: str) -> None:
    """Keeps a queued message from going out: its attempt was superseded (OLR Art. 32); one already sent stays sent."""
    outgoing = (await session.exec(select(DeliveryOutgoing).where(DeliveryOutgoing.attempt_id == attempt_id).with_for_update())).one_or_none()
    if outgoing is not None and outgoing.status == SendStatus.pending:
        outgoing.status = SendStatus.withdrawn
        outgoing.next_try_at = None
        session.add(outgoing)


async def _open_task(session: AsyncSession, action: OpenTask, *, state: RecipientState, notice: DeliveryNotice, setup: Setup, now: datetime, causation: str | None) -> None:
    turn = (await session.exec(select(func.count()).select_from(DeliveryTask))).one()
    # The roster keeps one agent active at least (roster.put), and is seeded before anything is consumed.
    agent = choose_agent(await roster.active(session), place=action.place, assignment=setup.policy.direct.assignment, turn=turn)
    task = DeliveryTask(
        id=str(uuid.uuid5(_TASKS, action.attempt_id)),
        attempt_id=action.attempt_id,
        notice_id=notice.id,
        recipient_id=state.recipient.recipient_id,
        kind=action.kind,
        agent_id=agent.id,
        status=TaskStatus.open,
        address=action.place.text,
        postcode=action.place.postcode,
        window_start=action.window_start,
        window_end=action.window_end,
        created_at=now,
    )
    session.add(task)
    emit(session, task_assigned(task, location=action.place.location), notice=notice, now=now, causation=causation)


def task_assigned(task: DeliveryTask, *, location: GeoPoint | None) -> TaskAssigned:
    """Returns the event that says who works a task, where and when: when it opens, and again when a supervisor reassigns it."""
    return TaskAssigned(
        notice_id=task.notice_id,
        recipient_id=task.recipient_id,
        attempt_id=task.attempt_id,
        task_id=task.id,
        kind=Channel(task.kind),
        agent_id=task.agent_id,
        address=task.address,
        location=location,
        window_start=task.window_start,
        window_end=task.window_end,
    )


async def _maybe_complete(session: AsyncSession, notice: DeliveryNotice, *, now: datetime, causation: str | None) -> None:
    # Core, as advance reads the recipient: three columns, not an object per recipient to load and track.
    rows = await core_rows(session, _NOTICE_RECIPIENTS, {"notice": notice.id})
    if notice.completed_at is not None or any(r.status != RecipientStatus.served for r in rows):
        return
    served = []
    for r in rows:
        outcome = RecipientState.model_validate(r.state).served
        assert outcome is not None
        served.append(ServedRecipient(recipient_id=r.id, method=outcome.method, service_date=outcome.service_date, deemed=outcome.deemed))
    notice.status = NoticeStatus.completed
    notice.completed_at = now
    session.add(notice)
    emit(session, NoticeCompleted(notice_id=notice.id, completed_at=now, recipients=served, overdue=notice.overdue_at is not None), notice=notice, now=now, causation=causation)
