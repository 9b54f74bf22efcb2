"""Messages and calls: sending each at most once (side-effect ledger), and applying the provider's answer, callback, status or bounce."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import Select, bindparam, update
from sqlalchemy import select as select_rows
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.delivery.adapters import dsn, mail_mapper, twilio_mapper
from services.delivery.adapters.mail import MailResult, MailUnavailable
from services.delivery.adapters.twilio import ProviderResult, ProviderStatus, ProviderUnavailable, notice_twiml
from services.delivery.deps import DeliveryDeps
from services.delivery.domain.inputs import Accepted, Input
from services.delivery.domain.machine import MAILED
from services.delivery.models import DeliveryCallback, DeliveryOutgoing, SendStatus
from services.delivery.workflow import RECIPIENT, advance
from shared.contracts.events import Channel
from shared.plumbing import ledger
from shared.plumbing.db import core_rows, insert_ignoring_duplicates, table_of

log = structlog.get_logger(__name__)

Call = Callable[[], Awaitable[dict[str, Any]]]
Reconcile = Callable[[], Awaitable[dict[str, Any] | None]]
OUTGOING = table_of(DeliveryOutgoing)


def status_callback(deps: DeliveryDeps, attempt_id: str) -> str:
    """The exact URL Twilio signs its callbacks for this attempt with."""
    return f"{deps.setup.public_url}/webhooks/twilio/status?attempt={attempt_id}"


async def dispatch(deps: DeliveryDeps, *, outgoing: DeliveryOutgoing) -> None:
    """Sends one queued message or call through the ledger and applies the provider's answer."""
    await dispatch_all(deps, [outgoing])


async def dispatch_all(deps: DeliveryDeps, outgoings: Sequence[DeliveryOutgoing]) -> int:
    """Sends queued messages and calls through the ledger, claimed together and recorded together, and applies each provider's answer.

    Returns how many were this process's to send: another replica may be sending the rest right now.
    """
    by_key = {f"{outgoing.channel}:{outgoing.attempt_id}": outgoing for outgoing in outgoings}

    async def still_pending(session: AsyncSession, keys: Sequence[str]) -> set[str]:
        ids = [by_key[key].attempt_id for key in keys]
        statement = select(DeliveryOutgoing.attempt_id).where(col(DeliveryOutgoing.attempt_id).in_(ids), DeliveryOutgoing.status == SendStatus.pending)
        pending = set((await session.exec(statement)).all())
        return {key for key in keys if by_key[key].attempt_id in pending}

    effects = [ledger.Effect(key, outgoing.channel, *_operations(deps, outgoing)) for key, outgoing in by_key.items()]
    outcomes = await ledger.perform_all(deps.db, effects, clock=deps.clock, wanted=still_pending)
    await asyncio.gather(*(_settle(deps, outgoing, outcome) for outgoing, outcome in zip(by_key.values(), outcomes, strict=True)))
    return sum(not isinstance(outcome, ledger.Busy) for outcome in outcomes)


async def _settle(deps: DeliveryDeps, outgoing: DeliveryOutgoing, outcome: dict[str, Any] | BaseException) -> None:
    match outcome:
        case ledger.NotWanted():
            # Withdrawn since it was queued: another channel served first (OLR Art. 32).
            return
        case ledger.Busy():
            # Another replica of delivery is sending it, and applies the answer.
            return
        case ledger.SideEffectInDoubt():
            # Sent or not, nobody can tell; sending again could serve twice. The attempt's due time moves the plan on.
            log.error("dispatch.in_doubt", attempt_id=outgoing.attempt_id, channel=outgoing.channel, error=str(outcome))
            await _mark(deps, outgoing.attempt_id, status=SendStatus.in_doubt, error=str(outcome))
            return
        case ProviderUnavailable() | MailUnavailable():
            log.warning("dispatch.retry", attempt_id=outgoing.attempt_id, channel=outgoing.channel, tries=outgoing.tries + 1, error=type(outcome).__name__)
            await _mark(deps, outgoing.attempt_id, status=SendStatus.pending, error=str(outcome), retry_in=timedelta(seconds=min(2 ** (outgoing.tries + 1), 300)))
            return
        case BaseException():
            raise outcome
    await _apply_answer(deps, outgoing.attempt_id, outcome)


async def _apply_answer(deps: DeliveryDeps, attempt_id: str, result: dict[str, Any]) -> None:
    now = deps.clock.now()
    async with deps.db.transaction() as session:
        row = await _locked(session, attempt_id)
        if row is None or row.status != SendStatus.pending:
            return
        event = _answer(deps, row, result, now=now)
        # Accepted waits for its final status (a callback or a status check); anything else is final now.
        status = SendStatus.sent if isinstance(event, Accepted) else SendStatus.settled
        await _store(session, attempt_id, status=status, provider_ref=result.get("provider_ref") or result.get("message_id"))
        await advance(session, recipient_id=row.recipient_id, event=event, now=now, setup=deps.setup, causation=None)


def _operations(deps: DeliveryDeps, outgoing: DeliveryOutgoing) -> tuple[Call, Reconcile | None]:
    message, to = outgoing.message, outgoing.target
    callback = status_callback(deps, outgoing.attempt_id)
    if outgoing.channel == Channel.sms:

        async def sms() -> dict[str, Any]:
            return (await deps.telephony.send_sms(to=to, body=message["body"], status_callback=callback)).to_dict()

        async def find() -> dict[str, Any] | None:
            found = await deps.telephony.find_sms(to=to, containing=message["token_hint"])
            return found.to_dict() if found else None

        return sms, find
    if outgoing.channel == Channel.voice:

        async def voice() -> dict[str, Any]:
            twiml = notice_twiml(court_name=message["court_name"], case_number=message["case_number"], callback_hint="送达人员将与您联系，请留意短信或上门送达")
            return (await deps.telephony.place_call(to=to, twiml=twiml, status_callback=callback)).to_dict()

        return voice, None

    async def mail() -> dict[str, Any]:
        sent = await deps.mailer.send(to=to, subject=message["subject"], text=message["text"], html=None, message_id=f"<{outgoing.attempt_id}@songda>", now=deps.clock.now())
        return sent.to_dict()

    return mail, None


def _answer(deps: DeliveryDeps, outgoing: DeliveryOutgoing, result: dict[str, Any], *, now: datetime) -> Input:
    if outgoing.channel in (Channel.sms, Channel.voice):
        return twilio_mapper.answer_input(outgoing.attempt_id, ProviderResult.from_dict(result), at=now)
    return mail_mapper.answer_input(outgoing.attempt_id, MailResult.from_dict(result), sender=deps.sender_address, receiver=outgoing.target, at=now)


async def _mark(deps: DeliveryDeps, attempt_id: str, *, status: SendStatus, error: str, retry_in: timedelta | None = None) -> None:
    # One conditional UPDATE, not load-change-flush: a row no longer pending (withdrawn, settled) is left alone,
    # and the database counts the tries, so two marks never lose one.
    still_pending = (col(DeliveryOutgoing.attempt_id) == attempt_id, col(DeliveryOutgoing.status) == SendStatus.pending)
    next_try_at = deps.clock.now() + retry_in if retry_in else None
    async with deps.db.transaction() as session:
        marked = update(DeliveryOutgoing).where(*still_pending).values(status=status, tries=col(DeliveryOutgoing.tries) + 1, last_error=error[:500], next_try_at=next_try_at)
        await session.exec(marked)


async def _locked(session: AsyncSession, attempt_id: str) -> DeliveryOutgoing | None:
    """Locks the attempt's recipient, then the attempt, in one statement: the order workflow's actions hold them in when they withdraw a rival channel's message.

    Returns the attempt's row as a copy the session does not hold: changes go back through `_store`.
    """
    rows = await core_rows(session, _LOCKED, {"attempt": attempt_id})
    return DeliveryOutgoing(**rows[0]._mapping) if rows else None


async def _store(session: AsyncSession, attempt_id: str, **values: Any) -> None:
    """Writes these columns of the attempt's row, which `_locked` holds."""
    await session.exec(_STORED, params={"attempt": attempt_id, **values})


def _locking() -> Select[Any]:
    # The other order deadlocks: parallel channels answering at once would each hold one row and wait for the other's.
    # The recipient is locked in a materialised CTE, which the join must read before the outer FOR UPDATE sees the
    # attempt's row: the recipient's lock always comes first, and the attempt's row is re-read once it is locked.
    recipient_id = select_rows(OUTGOING.c.recipient_id).where(OUTGOING.c.attempt_id == bindparam("attempt")).scalar_subquery()
    recipient = select_rows(RECIPIENT.c.id).where(RECIPIENT.c.id == recipient_id).with_for_update().cte("locked_recipient").prefix_with("MATERIALIZED", dialect="postgresql")
    attempt = select_rows(OUTGOING).join(recipient, recipient.c.id == OUTGOING.c.recipient_id).where(OUTGOING.c.attempt_id == bindparam("attempt"))
    return attempt.with_for_update(of=OUTGOING)


# Core statements built once with bound parameters, as workflow.advance reads and writes the recipient: loading and
# flushing through the ORM, and building the statements around their values on every call, were most of an answer's
# and a callback's own CPU (bench/delivery_steps.py).
_LOCKED = _locking()
# The columns set are the parameters' keys other than "attempt".
_STORED = update(OUTGOING).where(OUTGOING.c.attempt_id == bindparam("attempt"))


def _status_input(outgoing: DeliveryOutgoing, params: Mapping[str, str], *, at: datetime) -> Input | None:
    return twilio_mapper.status_input(outgoing.attempt_id, dict(params), target=outgoing.target, sent_at=outgoing.queued_at, documents=outgoing.message.get("documents", []), at=at)


class NoSuchCall(LookupError):
    """A callback named an attempt that has no message or call."""


async def _known_call(deps: DeliveryDeps, attempt_id: str) -> None:
    """Raises NoSuchCall unless the attempt is a message or a call."""
    async with deps.db.sessions() as session:
        channel = (await session.exec(select(DeliveryOutgoing.channel).where(DeliveryOutgoing.attempt_id == attempt_id))).first()
    if channel not in (Channel.sms, Channel.voice):
        raise NoSuchCall(attempt_id)


async def apply_callback(deps: DeliveryDeps, *, attempt_id: str, params: Mapping[str, str], sid: str, status: str) -> bool | None:
    """Applies a verified status callback once: None for a repeated final status, otherwise whether it changed the recipient's delivery."""
    if not twilio_mapper.is_final(status):
        # Queued, sent, ringing: nothing to apply, so no locks and no claim row, only the check that the attempt is ours.
        await _known_call(deps, attempt_id)
        return False
    now = deps.clock.now()
    async with deps.db.transaction() as session:
        row = await _locked(session, attempt_id)
        if row is None or row.channel not in (Channel.sms, Channel.voice):
            raise NoSuchCall(attempt_id)
        # The values as parameters, as for _LOCKED.
        claim = {"key": f"{sid}:{status}", "attempt_id": attempt_id, "received_at": now}
        if (await session.exec(insert_ignoring_duplicates(session, DeliveryCallback), params=claim)).rowcount != 1:
            return None
        event = _status_input(row, params, at=now)
        if event is None:
            return False
        await _store(session, attempt_id, status=SendStatus.settled)
        decision = await advance(session, recipient_id=row.recipient_id, event=event, now=now, setup=deps.setup, causation=None)
    return bool(decision and decision.changed)


async def apply_bounce(deps: DeliveryDeps, *, bounce: dsn.Bounce) -> bool | None:
    """Applies a verified bounce of one of delivery's e-mails once: None for a repeat, otherwise whether it changed the recipient's delivery."""
    now = deps.clock.now()
    async with deps.db.transaction() as session:
        row = await _locked(session, bounce.attempt_id)
        if row is None or row.channel not in MAILED:
            raise NoSuchCall(bounce.attempt_id)
        claim = insert_ignoring_duplicates(session, DeliveryCallback).values(
            key=f"dsn:{bounce.attempt_id}:{bounce.action}:{bounce.status}", attempt_id=bounce.attempt_id, received_at=now
        )
        if (await session.exec(claim)).rowcount != 1:
            return None
        event = dsn.bounce_input(bounce, at=now)
        if event is None:
            return False
        # A bounce about an attempt that already served, or was stopped, changes nothing (machine.apply).
        decision = await advance(session, recipient_id=row.recipient_id, event=event, now=now, setup=deps.setup, causation=None)
    return bool(decision and decision.changed)


async def check_status(deps: DeliveryDeps, *, outgoing: DeliveryOutgoing, quiet: timedelta, give_up: timedelta) -> None:
    """Fetches a sent message's or call's status from Twilio and applies it as its lost callback would have been applied."""
    now = deps.clock.now()
    try:
        status = await deps.telephony.status(channel="sms" if outgoing.channel == Channel.sms else "voice", sid=outgoing.provider_ref or "")
    except ProviderUnavailable as exc:
        log.warning("status_check.retry", attempt_id=outgoing.attempt_id, error=str(exc))
        await _check_later(deps, outgoing.attempt_id, at=now + quiet)
        return
    await _apply_status(deps, outgoing.attempt_id, status, now=now, quiet=quiet, give_up=give_up)


async def _apply_status(deps: DeliveryDeps, attempt_id: str, status: ProviderStatus, *, now: datetime, quiet: timedelta, give_up: timedelta) -> None:
    async with deps.db.transaction() as session:
        row = await _locked(session, attempt_id)
        if row is None or row.status != SendStatus.sent:
            return
        # The time Twilio reached the status, not the time we asked: the arrival date is the service date (Interp. 135).
        event = _status_input(row, status.params, at=status.at or now)
        if event is None:
            # Twilio keeps nothing back once a message has been sent for a day; an attempt still open by then is left to its due time.
            settled, next_try_at = (SendStatus.unconfirmed, None) if row.queued_at <= now - give_up else (SendStatus.sent, now + quiet)
            await _store(session, attempt_id, status=settled, next_try_at=next_try_at)
            return
        await _store(session, attempt_id, status=SendStatus.settled)
        decision = await advance(session, recipient_id=row.recipient_id, event=event, now=now, setup=deps.setup, causation=None)
    log.info("status_check.applied", attempt_id=attempt_id, applied=bool(decision and decision.changed))


async def _check_later(deps: DeliveryDeps, attempt_id: str, *, at: datetime) -> None:
    async with deps.db.transaction() as session:
        row = await session.get(DeliveryOutgoing, attempt_id)
        if row is not None and row.status == SendStatus.sent:
            row.next_try_at = at
            session.add(row)
