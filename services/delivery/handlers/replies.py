"""Replies to delivery's messages: an SMS sent back, an e-mail answering one; each matched to its open attempt, kept once (length and hash, never the words) and applied as the recipient's reply (OLR Art. 31(2))."""

from __future__ import annotations

import hashlib

import structlog
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.delivery.deps import DeliveryDeps
from services.delivery.domain.inputs import Replied
from services.delivery.domain.machine import MAILED
from services.delivery.domain.state import AttemptStatus
from services.delivery.models import DeliveryNotice, DeliveryOutgoing, DeliveryRecipient, DeliveryReply
from services.delivery.workflow import advance, emit
from shared.contracts.events import Channel, DocumentsAcknowledged
from shared.contracts.values import Phone
from shared.plumbing.db import insert_ignoring_duplicates

log = structlog.get_logger(__name__)

# DocumentsAcknowledged.by for a reply: the report names the recipient's reply by its channel, not a lawyer's account.
REPLIED_BY = {Channel.sms: "reply:sms", Channel.email: "reply:email"}


async def sms_reply(deps: DeliveryDeps, *, key: str, sender: str, text: str) -> bool | None:
    """Applies an SMS from `sender` to the latest open SMS attempt to that number: None for a repeat, False when none is open to it."""
    try:
        number = Phone.parse(sender).e164
    except ValueError:
        return False
    async with deps.db.transaction() as session:
        if await session.get(DeliveryReply, key) is not None:
            return None
        rows = await session.exec(
            select(DeliveryOutgoing).where(DeliveryOutgoing.channel == Channel.sms, DeliveryOutgoing.target == number).order_by(col(DeliveryOutgoing.queued_at).desc())
        )
        for outgoing in rows.all():
            if await _open(session, outgoing):
                return await _apply(deps, session, outgoing, channel=Channel.sms, key=key, text=text)
    return False


async def mail_reply(deps: DeliveryDeps, *, key: str, attempt_id: str, sender: str, text: str) -> bool | None:
    """Applies an e-mail answering the attempt's e-mail, from the address it went to: None for a repeat, False when it is not open or another wrote."""
    async with deps.db.transaction() as session:
        if await session.get(DeliveryReply, key) is not None:
            return None
        outgoing = await session.get(DeliveryOutgoing, attempt_id)
        # Only the mailbox written to replies for the recipient; an answer from elsewhere (a forward, a colleague) is not its reply.
        if outgoing is None or outgoing.channel not in MAILED or outgoing.target.casefold() != sender.casefold() or not await _open(session, outgoing):
            return False
        return await _apply(deps, session, outgoing, channel=Channel.email, key=key, text=text)


async def _open(session: AsyncSession, outgoing: DeliveryOutgoing) -> bool:
    """Whether the message's attempt is still open in its recipient's state: sent, and nothing has decided it yet."""
    # Locked for the transaction: what is open now stays open until the reply is applied (workflow.advance locks it too).
    recipient = await session.get(DeliveryRecipient, outgoing.recipient_id, with_for_update=True)
    attempts = recipient.state.get("attempts", []) if recipient is not None else []
    return any(a["attempt_id"] == outgoing.attempt_id and a["status"] == AttemptStatus.open for a in attempts)


async def _apply(deps: DeliveryDeps, session: AsyncSession, outgoing: DeliveryOutgoing, *, channel: Channel, key: str, text: str) -> bool | None:
    now = deps.clock.now()
    digest = hashlib.sha256(text.encode()).hexdigest()
    kept = insert_ignoring_duplicates(session, DeliveryReply).values(key=key, attempt_id=outgoing.attempt_id, channel=channel, received_at=now, length=len(text), sha256=digest)
    if (await session.exec(kept)).rowcount != 1:
        return None
    notice = await session.get(DeliveryNotice, outgoing.notice_id)
    assert notice is not None
    # The reply is the recipient's own word that it received the documents: evidence of the e-service, as an acknowledgement is.
    replied = DocumentsAcknowledged(notice_id=notice.id, recipient_id=outgoing.recipient_id, attempt_id=outgoing.attempt_id, at=now, by=REPLIED_BY[channel])
    emit(session, replied, notice=notice, now=now, causation=None)
    decision = await advance(session, recipient_id=outgoing.recipient_id, event=Replied(attempt_id=outgoing.attempt_id, at=now), now=now, setup=deps.setup, causation=None)
    log.info("reply.applied", attempt_id=outgoing.attempt_id, channel=str(channel), length=len(text))
    return bool(decision and decision.changed)
