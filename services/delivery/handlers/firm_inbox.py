"""A law firm's inbox: what was sent to the firm for the parties its lawyers represent, each opening recorded, and the acknowledgement (签收) that makes the certificate."""

from __future__ import annotations

from datetime import date, datetime

import structlog
from pydantic import BaseModel
from sqlalchemy import case
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.delivery.deps import DeliveryDeps
from services.delivery.domain.inputs import Acknowledged
from services.delivery.domain.state import RecipientState
from services.delivery.handlers.edelivery import Opened, Refused, serve_document
from services.delivery.models import DeliveryLink, DeliveryNotice, DeliveryRecipient
from services.delivery.workflow import advance, emit
from shared.contracts.events import Disposition, DocumentsAcknowledged
from shared.plumbing.auth import Principal
from shared.plumbing.problems import Problem

log = structlog.get_logger(__name__)


class InboxDocument(BaseModel):
    """One document served, numbered from 1 as its file is opened; `openable` is False for a notice that lists titles only."""

    number: int
    title: str
    kind: str | None
    pages: int | None
    sha256: str | None
    openable: bool


class Acknowledgement(BaseModel):
    """The firm's acknowledgement: when, by which lawyer (None: the e-mailed link's holder), from which address, with which browser."""

    at: datetime
    by: str | None
    ip: str | None
    user_agent: str | None


class InboxItem(BaseModel):
    """One thing served on the firm: the case, the court, the party it represents, the documents, when it was sent and arrived, and where it stands."""

    attempt_id: str
    notice_id: str
    case_number: str
    cause: str
    court_id: str
    court_name: str
    recipient_id: str
    recipient_name: str
    recipient_role: str
    firm: str
    firm_uscc: str
    lawyer: str
    # The firm's address the documents were sent to.
    address: str | None
    documents: list[InboxDocument]
    sent_at: datetime
    arrived_at: datetime | None
    due_date: date
    opened: bool
    opened_at: datetime | None
    acknowledged: Acknowledgement | None
    # The attempt's status (open, succeeded, failed, …) and the recipient's (served once any method served).
    status: str
    recipient_status: str


class Inbox(BaseModel):
    """The firm's items, unread first, then the newest."""

    items: list[InboxItem]


def missing_item(attempt_id: str) -> Problem:
    """The answer for an item that does not exist and for another firm's: the same, so nothing leaks."""
    return Problem(404, "Not found", f"Your firm's inbox has no item {attempt_id}.")


def _item(link: DeliveryLink, notice: DeliveryNotice, row: DeliveryRecipient) -> InboxItem:
    state = RecipientState.model_validate(row.state)
    attempt = state.attempt(link.attempt_id)
    lawyer = state.recipient.lawyer
    # A link gets its firm from the recipient's lawyer, whom the notice names once and for all.
    assert lawyer is not None and link.firm_uscc is not None
    documents = [
        InboxDocument(
            number=number,
            title=d["title"],
            kind=d.get("kind"),
            pages=d.get("pages"),
            sha256=d.get("sha256"),
            openable=bool(d.get("content_type")),
        )
        for number, d in enumerate(notice.documents, start=1)
    ]
    acknowledged = None
    if link.acknowledged_at is not None:
        acknowledged = Acknowledgement(at=link.acknowledged_at, by=link.acknowledged_by, ip=link.ip, user_agent=link.user_agent)
    return InboxItem(
        attempt_id=link.attempt_id,
        notice_id=notice.id,
        case_number=notice.case_number,
        cause=notice.cause,
        court_id=notice.court_id,
        court_name=notice.court_name,
        recipient_id=row.id,
        recipient_name=row.name,
        recipient_role=row.role,
        firm=lawyer.firm,
        firm_uscc=link.firm_uscc,
        lawyer=lawyer.name,
        address=attempt.target if attempt else None,
        documents=documents,
        sent_at=attempt.started_at if attempt and attempt.started_at else link.created_at,
        arrived_at=attempt.arrived_at if attempt else None,
        due_date=notice.due_date,
        opened=link.opened_at is not None,
        opened_at=link.opened_at,
        acknowledged=acknowledged,
        status=attempt.status if attempt else "unknown",
        recipient_status=row.status,
    )


async def inbox(deps: DeliveryDeps, *, principal: Principal, limit: int) -> Inbox:
    """Returns what was served on the caller's firm across cases and courts: never opened first, then the newest."""
    statement = (
        select(DeliveryLink, DeliveryNotice, DeliveryRecipient)
        .join(DeliveryNotice, col(DeliveryNotice.id) == col(DeliveryLink.notice_id))
        .join(DeliveryRecipient, col(DeliveryRecipient.id) == col(DeliveryLink.recipient_id))
        .where(DeliveryLink.firm_uscc == principal.sub)
        .order_by(case((col(DeliveryLink.opened_at).is_(None), 0), else_=1), col(DeliveryLink.created_at).desc(), col(DeliveryLink.attempt_id))
        .limit(limit)
    )
    async with deps.db.sessions() as session:
        rows = (await session.exec(statement)).all()
    # The link's firm was the recipient's when it was sent; a firm no longer representing the party keeps what it was served.
    return Inbox(items=[_item(link, notice, row) for link, notice, row in rows])


async def _mine(session: AsyncSession, principal: Principal, attempt_id: str, *, lock: bool = False) -> tuple[DeliveryLink, DeliveryNotice, DeliveryRecipient]:
    statement = select(DeliveryLink).where(DeliveryLink.attempt_id == attempt_id, DeliveryLink.firm_uscc == principal.sub)
    link = (await session.exec(statement.with_for_update() if lock else statement)).first()
    if link is None:
        raise missing_item(attempt_id)
    notice = await session.get(DeliveryNotice, link.notice_id)
    row = await session.get(DeliveryRecipient, link.recipient_id)
    assert notice is not None and row is not None
    return link, notice, row


async def _note_opened(session: AsyncSession, link: DeliveryLink, *, now: datetime) -> None:
    # The first look, from the inbox or the e-mailed link alike, makes the item read.
    if link.opened_at is None:
        link.opened_at = now
        session.add(link)


async def item(deps: DeliveryDeps, *, principal: Principal, attempt_id: str) -> InboxItem:
    """Returns one item of the caller's firm (404 for another firm's), noting the first opening."""
    async with deps.db.transaction() as session:
        link, notice, row = await _mine(session, principal, attempt_id, lock=True)
        await _note_opened(session, link, now=deps.clock.now())
    return _item(link, notice, row)


async def document(deps: DeliveryDeps, *, principal: Principal, attempt_id: str, number: int, disposition: Disposition, ip: str | None, user_agent: str) -> Opened | Refused:
    """Returns one document of the firm's item from the document store, recording the opening with the lawyer's name, address and browser."""
    async with deps.db.transaction() as session:
        link, notice, _ = await _mine(session, principal, attempt_id, lock=True)
        await _note_opened(session, link, now=deps.clock.now())
    return await serve_document(
        deps,
        notice=notice,
        recipient_id=link.recipient_id,
        attempt_id=link.attempt_id,
        number=number,
        disposition=disposition,
        ip=ip,
        user_agent=user_agent,
        by=principal.user or None,
    )


async def acknowledge(deps: DeliveryDeps, *, principal: Principal, attempt_id: str, ip: str | None, user_agent: str) -> InboxItem:
    """Records the firm's acknowledgement once (time, lawyer, address, browser) and lets the recipient's plan count it; a second answers the first."""
    now = deps.clock.now()
    async with deps.db.transaction() as session:
        link, notice, row = await _mine(session, principal, attempt_id, lock=True)
        if link.acknowledged_at is None:
            by = principal.user or None
            link.acknowledged_at, link.ip, link.user_agent, link.acknowledged_by = now, ip, user_agent, by
            await _note_opened(session, link, now=now)
            session.add(link)
            acknowledged = DocumentsAcknowledged(notice_id=notice.id, recipient_id=row.id, attempt_id=link.attempt_id, at=now, ip=ip, user_agent=user_agent, by=by)
            emit(session, acknowledged, notice=notice, now=now, causation=None)
            await advance(session, recipient_id=row.id, event=Acknowledged(attempt_id=link.attempt_id, at=now), now=now, setup=deps.setup, causation=None)
            log.info("firm_inbox.acknowledged", attempt_id=link.attempt_id)
        # The plan's move (if any) is on `row` itself: the session loads each row once.
        return _item(link, notice, row)
