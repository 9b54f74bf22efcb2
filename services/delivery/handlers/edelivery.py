"""The e-delivery link's use cases: opening the page, opening a document (each opening recorded as evidence and a read report), acknowledging the documents."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

import structlog

from services.delivery.deps import DeliveryDeps
from services.delivery.domain.inputs import Acknowledged, Read
from services.delivery.models import DeliveryLink, DeliveryNotice, DeliveryRecipient
from services.delivery.workflow import advance, emit, token_hash
from shared.contracts.events import Disposition, DocumentOpened, DocumentsAcknowledged
from shared.plumbing.documents import DocumentCorrupt, DocumentMissing

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Refused:
    """The link does not exist (404) or has expired (410); or the link is good but names no such document, or its file cannot be read (503 missing, 500 changed)."""

    status: int
    no_document: bool = False
    unavailable: bool = False


@dataclass(frozen=True)
class Opened:
    """A document of the link's notice as it is served: its title, sha256, type and bytes."""

    title: str
    sha256: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Page:
    """What the page shows the link's holder."""

    link: DeliveryLink
    notice: DeliveryNotice
    recipient_name: str


def _usable(link: DeliveryLink | None, *, now: datetime) -> DeliveryLink | Refused:
    if link is None:
        return Refused(404)
    if link.expires_at <= now:
        return Refused(410)
    return link


async def open_page(deps: DeliveryDeps, *, token: str) -> Page | Refused:
    """Returns the notice and its documents for the holder of an unexpired link, noting the first opening."""
    now = deps.clock.now()
    async with deps.db.transaction() as session:
        link = _usable(await session.get(DeliveryLink, token_hash(token)), now=now)
        if isinstance(link, Refused):
            return link
        notice = await session.get(DeliveryNotice, link.notice_id)
        recipient = await session.get(DeliveryRecipient, link.recipient_id)
        assert notice is not None and recipient is not None
        if link.opened_at is None:
            link.opened_at = now
            session.add(link)
    return Page(link=link, notice=notice, recipient_name=recipient.name)


async def open_document(deps: DeliveryDeps, *, token: str, number: int, disposition: Disposition, ip: str | None, user_agent: str) -> Opened | Refused:
    """Returns one listed document of the link's notice (numbered from 1) from the document store, and records the opening as delivery.DocumentOpened."""
    async with deps.db.sessions() as session:
        link = _usable(await session.get(DeliveryLink, token_hash(token)), now=deps.clock.now())
        if isinstance(link, Refused):
            return link
        notice = await session.get(DeliveryNotice, link.notice_id)
    assert notice is not None
    return await serve_document(
        deps, notice=notice, recipient_id=link.recipient_id, attempt_id=link.attempt_id, number=number, disposition=disposition, ip=ip, user_agent=user_agent
    )


async def serve_document(
    deps: DeliveryDeps,
    *,
    notice: DeliveryNotice,
    recipient_id: str,
    attempt_id: str,
    number: int,
    disposition: Disposition,
    ip: str | None,
    user_agent: str,
    by: str | None = None,
) -> Opened | Refused:
    """Returns one listed document of the notice (numbered from 1) from the document store, and records the opening (by a link's holder, or the named lawyer) as delivery.DocumentOpened."""
    if not 1 <= number <= len(notice.documents) or not notice.documents[number - 1].get("content_type"):
        # A notice registered before files were kept lists titles only (no content type): there is nothing to open.
        return Refused(404, no_document=True)
    document = notice.documents[number - 1]
    sha256 = document["sha256"]
    try:
        data = await asyncio.to_thread(deps.documents.read, sha256)
    except DocumentMissing:
        log.error("edelivery.document_missing", notice_id=notice.id, sha256=sha256, store=str(deps.documents.root))
        return Refused(503, unavailable=True)
    except DocumentCorrupt:
        log.error("edelivery.document_corrupt", notice_id=notice.id, sha256=sha256, store=str(deps.documents.root))
        return Refused(500, unavailable=True)
    now = deps.clock.now()
    async with deps.db.transaction() as session:
        opened = DocumentOpened(
            notice_id=notice.id,
            recipient_id=recipient_id,
            attempt_id=attempt_id,
            sha256=sha256,
            title=document["title"],
            disposition=disposition,
            opened_at=now,
            ip=ip,
            user_agent=user_agent,
            by=by,
        )
        emit(session, opened, notice=notice, now=now, causation=None)
        # Evidence of the e-service, and the system's read report: at an address the recipient did not confirm it presumes service (OLR Art. 31(2)).
        await advance(session, recipient_id=recipient_id, event=Read(attempt_id=attempt_id, at=now), now=now, setup=deps.setup, causation=None)
    log.info("edelivery.document_opened", attempt_id=attempt_id, sha256=sha256, disposition=str(disposition))
    return Opened(title=document["title"], sha256=sha256, content_type=document["content_type"], data=data)


async def acknowledge(deps: DeliveryDeps, *, token: str, ip: str | None, user_agent: str) -> Refused | None:
    """Records the acknowledgement once, with time, IP address and browser, and lets the recipient's plan count it."""
    now = deps.clock.now()
    async with deps.db.transaction() as session:
        link = _usable(await session.get(DeliveryLink, token_hash(token), with_for_update=True), now=now)
        if isinstance(link, Refused):
            return link
        notice = await session.get(DeliveryNotice, link.notice_id)
        assert notice is not None
        if link.acknowledged_at is None:
            link.acknowledged_at, link.ip, link.user_agent = now, ip, user_agent
            session.add(link)
            acknowledged = DocumentsAcknowledged(notice_id=link.notice_id, recipient_id=link.recipient_id, attempt_id=link.attempt_id, at=now, ip=ip, user_agent=user_agent)
            emit(session, acknowledged, notice=notice, now=now, causation=None)
            await advance(session, recipient_id=link.recipient_id, event=Acknowledged(attempt_id=link.attempt_id, at=now), now=now, setup=deps.setup, causation=None)
            log.info("edelivery.acknowledged", attempt_id=link.attempt_id)
    return None
