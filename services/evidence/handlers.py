"""Evidence's use cases, one per input: each consumed event, each request, each tick of the checkpointer, the report renderer and the court pusher."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial

import orjson
import structlog
from sqlalchemy import exists, insert, tuple_, update
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.evidence import access, items, kpi_facts, log, rendering, reports, thumbnails
from services.evidence.adapters.courts import Push
from services.evidence.deps import EvidenceDeps
from services.evidence.domain import kpis
from services.evidence.domain.timeline import event_entry, message_digest
from services.evidence.models import (
    EvidenceCheckpoint,
    EvidenceCourtHook,
    EvidenceCourtPush,
    EvidenceItem,
    EvidenceLogEntry,
    EvidenceNotice,
    EvidenceReport,
    EvidenceTask,
    EvidenceTimelineEntry,
)
from services.evidence.photos import PhotoError, PhotoFacts
from services.evidence.sniffing import acceptable, sniff
from services.evidence.targets import TargetRefused
from services.evidence.uploads import Upload
from shared.contracts.envelope import Envelope
from shared.contracts.events import AttemptFailed, AttemptSucceeded, NoticeCompleted, NoticeRegistered, TaskAssigned
from shared.contracts.evidence import EvidenceFlag, EvidenceKind
from shared.contracts.registry import Event
from shared.contracts.report import DeliveryReport, canonical
from shared.plumbing import audit
from shared.plumbing.auth import Principal, Role
from shared.plumbing.blobs import BlobWriter, Stored
from shared.plumbing.consumer import MessageContext
from shared.plumbing.db import insert_ignoring_duplicates, table_of
from shared.plumbing.problems import Problem

logger = structlog.get_logger(__name__)
TIMELINE = table_of(EvidenceTimelineEntry)


# Messages: every consumed event is recorded (`record`); a few also keep what later checks need.


async def record_notice(deps: EvidenceDeps, *, message: MessageContext, event: NoticeRegistered) -> None:
    """Keeps the notice's court, who reaches its evidence, and its correlation id, which what evidence publishes about it carries."""
    values = {"id": message.envelope.subject, "court_id": event.court_id, "correlation_id": message.envelope.correlationid}
    message.pending("evidence.notices", _keep_notices).append(values)


async def _keep_notices(session: AsyncSession, notices: list[dict[str, str]]) -> None:
    # One statement for a batch's notices; the first registration of a notice keeps its court, as before.
    await session.exec(insert_ignoring_duplicates(session, EvidenceNotice), params=notices)


async def remember_task(deps: EvidenceDeps, *, message: MessageContext, event: TaskAssigned) -> None:
    """Keeps a visit's or posting's task: its agent may upload for it, and its photos are checked against its place and window.

    A task assigned again (a supervisor reassigned it) changes hands: from then on only its new agent uploads for it.
    """
    known = await message.session.get(EvidenceTask, event.task_id)
    if known is not None:
        known.agent_id = event.agent_id
        message.session.add(known)
        return
    location = event.location
    message.session.add(
        EvidenceTask(
            task_id=event.task_id,
            notice_id=event.notice_id,
            recipient_id=event.recipient_id,
            attempt_id=event.attempt_id,
            agent_id=event.agent_id,
            lat=location.lat if location else None,
            lon=location.lon if location else None,
            window_start=event.window_start,
            window_end=event.window_end,
        )
    )


async def close_task(deps: EvidenceDeps, *, message: MessageContext, event: AttemptSucceeded | AttemptFailed) -> None:
    """Closes the attempt's task: it is over, and so is its agent's access to it."""
    await message.session.exec(update(EvidenceTask).where(col(EvidenceTask.attempt_id) == event.attempt_id).values(closed=True))


@dataclass(frozen=True)
class _Received:
    """A consumed message waiting for the end of its transaction to be logged with the rest."""

    envelope: Envelope
    event: Event | None
    raw: bytes
    sha256: str
    recorded_at: datetime


async def record(deps: EvidenceDeps, *, message: MessageContext) -> None:
    """Gathers any consumed message for its transaction's `record_all`, which logs it once every handler of the batch has run."""
    received = _Received(envelope=message.envelope, event=message.event, raw=message.raw, sha256=message_digest(message.raw), recorded_at=message.clock.now())
    message.pending("evidence.record", partial(record_all, deps)).append(received)


async def record_all(deps: EvidenceDeps, session: AsyncSession, received: list[_Received]) -> None:
    """Logs a transaction's consumed messages in the order applied, puts them on their notices' timelines, refreshes each notice's KPI facts once, and issues each notice's report once when it completes (a new version after that)."""
    leaves = [
        log.Leaf(entry=event_entry(r.envelope, sha256=r.sha256), kind="event", ref=str(r.envelope.id), notice_id=r.envelope.subject, recorded_at=r.recorded_at) for r in received
    ]
    first = await log.append_all(session, leaves)
    timeline = [
        {
            "notice_id": r.envelope.subject,
            "log_index": first + offset,
            "event_id": str(r.envelope.id),
            "event_type": r.envelope.type,
            "source": r.envelope.source,
            "event_time": r.envelope.time,
            "sha256": r.sha256,
            "envelope": orjson.loads(r.raw),
            "recorded_at": r.recorded_at,
        }
        for offset, r in enumerate(received)
    ]
    await session.exec(insert(TIMELINE), params=timeline)
    # A notice folded again reads back only its events logged before this batch's (log index `first`); the batch's are at hand.
    await kpi_facts.refresh(session, [(r.envelope, r.event) for r in received if r.envelope.type in kpis.READS], logged_from=first)
    completed = {r.envelope.subject for r in received if r.envelope.type == NoticeCompleted.type}
    notices = list(dict.fromkeys(r.envelope.subject for r in received))
    await reports.after_entries(session, signer=deps.signer, notice_ids=notices, completed=completed, now=received[-1].recorded_at)


# Requests. Each refuses what the caller may not reach (access.py) inside the transaction that reads it.


def _read_and_keep(file: BlobWriter, *, is_photo: bool) -> tuple[PhotoFacts | None, Stored]:
    # One trip to a worker thread for both blocking steps; a photo whose EXIF cannot be read is refused before it is kept.
    photo = items.read_photo(file.written()) if is_photo else None
    return photo, file.commit()


async def record_upload(deps: EvidenceDeps, *, principal: Principal, upload: Upload, meta: items.UploadMetadata, key: str | None) -> tuple[EvidenceItem, bool]:
    """Checks an upload, stores it under its sha256 and records the item, its log entry and EvidenceRecorded; returns the item and whether it is new."""
    # One transaction from the access check to the item: the task is still open when the item is recorded. The log head
    # is locked only from the append on, so the checks and the fsync below never hold up other writers.
    async with deps.db.transaction() as session:
        # Authorised first: a key is looked up only among the caller's own uploads to a notice it may add to.
        notice, task = await access.upload_target(session, principal, meta)
        earlier = await items.existing(session, key)
        if earlier is not None:
            upload.discard()
            return earlier, False
        if task is not None:
            meta = meta.model_copy(update={"attempt_id": meta.attempt_id or task.attempt_id, "recipient_id": meta.recipient_id or task.recipient_id})
        facts, flags = None, list[EvidenceFlag]()
        if upload.file is not None:
            content_type = sniff(upload.file.head) or "application/octet-stream"
            if not acceptable(meta.kind, content_type):
                raise Problem(415, "Unsupported media type", f"file: a {meta.kind} cannot be {content_type} (judged by its content, not its name)")
            photo, stored = await asyncio.to_thread(_read_and_keep, upload.file, is_photo=meta.kind is EvidenceKind.photo)
            if photo is not None:
                facts, flags = items.check_photo(photo, meta=meta, task=task)
        else:
            content_type = "application/json"
            stored = await asyncio.to_thread(deps.blobs.put, items.details_bytes(meta))
        now = deps.clock.now()
        item = await items.record(
            session,
            meta=meta,
            stored=stored,
            content_type=content_type,
            filename=upload.filename,
            facts=facts,
            flags=flags,
            uploaded_by=principal.sub,
            key=key,
            correlation_id=notice.correlation_id if notice else None,
            now=now,
        )
        if notice is not None:
            await reports.after_entry(session, signer=deps.signer, notice_id=item.notice_id, completed=False, now=now)
    return item, True


async def read_item(deps: EvidenceDeps, *, principal: Principal, evidence_id: str, action: str, client: str | None) -> EvidenceItem:
    """Returns an item the caller reaches and audits the read as `action`."""
    async with deps.db.transaction() as session:
        item = await _item(session, principal, evidence_id)
        audit.record(session, principal, action=action, target=evidence_id, client=client, now=deps.clock.now())
    return item


async def read_thumbnail(deps: EvidenceDeps, *, principal: Principal, evidence_id: str, client: str | None) -> bytes:
    """Returns a small upright JPEG of a picture the caller reaches, without its EXIF, and audits the read like the content's; an item that is no picture has none (404)."""
    item = await read_item(deps, principal=principal, evidence_id=evidence_id, action="evidence.thumbnail", client=client)
    if not thumbnails.has_thumbnail(item.kind, item.content_type):
        raise Problem(404, "Not found", f"Evidence {evidence_id} is no picture and has no thumbnail.")
    data = await asyncio.to_thread(deps.blobs.path(item.sha256).read_bytes)
    try:
        return await asyncio.to_thread(thumbnails.thumbnail, data)
    except PhotoError:
        # Sniffed as a picture at upload but not decodable now: there is nothing to preview, and the bytes stay at /content.
        raise Problem(404, "Not found", f"Evidence {evidence_id} has no thumbnail.") from None


async def notice_items(deps: EvidenceDeps, *, principal: Principal, notice_id: str, client: str | None) -> Sequence[EvidenceItem]:
    """Returns the items recorded for a notice the caller reaches, in log order, and audits the read."""
    async with deps.db.transaction() as session:
        if not access.sees_notice(principal, await session.get(EvidenceNotice, notice_id)):
            raise Problem(404, "Not found", f"Evidence has no notice {notice_id}.")
        found = (await session.exec(select(EvidenceItem).where(EvidenceItem.notice_id == notice_id).order_by(col(EvidenceItem.leaf_index)))).all()
        audit.record(session, principal, action="evidence.list", target=notice_id, client=client, now=deps.clock.now())
    return found


async def _item(session: AsyncSession, principal: Principal, evidence_id: str) -> EvidenceItem:
    item = await session.get(EvidenceItem, evidence_id)
    if item is None or not await access.sees_item(session, principal, item):
        raise Problem(404, "Not found", f"No evidence {evidence_id}.")
    return item


@dataclass(frozen=True)
class ItemProof:
    """An item's leaf, and the path from it to the root of the log at `tree_size`, signed there when `checkpoint` is set."""

    item: EvidenceItem
    entry: EvidenceLogEntry
    tree_size: int
    path: list[bytes]
    checkpoint: EvidenceCheckpoint | None


async def prove_item(deps: EvidenceDeps, *, principal: Principal, evidence_id: str, size: int | None) -> ItemProof:
    """Returns an item's inclusion proof to the latest checkpoint, or to the log at `size`."""
    async with deps.db.sessions() as session:
        item = await _item(session, principal, evidence_id)
        latest = await log.latest_checkpoint(session)
        tree_size = size or (latest.size if latest else await log.size(session))
        if not item.leaf_index < tree_size <= await log.size(session):
            raise Problem(422, "Invalid size", f"size: the item is leaf {item.leaf_index}; ask for a size between {item.leaf_index + 1} and the log's size")
        path = await log.inclusion(session, item.leaf_index, tree_size)
        entry = (await log.entries(session, [item.leaf_index]))[item.leaf_index]
        anchor = await session.get(EvidenceCheckpoint, tree_size)
    return ItemProof(item=item, entry=entry, tree_size=tree_size, path=path, checkpoint=anchor)


async def latest_checkpoint(deps: EvidenceDeps) -> EvidenceCheckpoint:
    """Returns the checkpoint of the largest size signed."""
    async with deps.db.sessions() as session:
        latest = await log.latest_checkpoint(session)
    if latest is None:
        raise Problem(404, "Not found", "The log has no checkpoint yet.")
    return latest


@dataclass(frozen=True)
class Consistency:
    """The roots of the log at two sizes and the proof that the first is a prefix of the second."""

    first_root: bytes
    second_root: bytes
    path: list[bytes]


async def prove_consistency(deps: EvidenceDeps, *, first: int, second: int) -> Consistency:
    """Returns the consistency proof between two sizes of the log."""
    async with deps.db.sessions() as session:
        if not first <= second <= await log.size(session):
            raise Problem(422, "Invalid size", "second: ask for 1 ≤ first ≤ second ≤ the log's size")
        path = await log.consistency(session, first, second)
        return Consistency(first_root=await log.root(session, first), second_root=await log.root(session, second), path=path)


async def read_report(deps: EvidenceDeps, *, principal: Principal, notice_id: str, version: int | None, action: str, client: str | None) -> EvidenceReport:
    """Returns a version of a notice's report (the newest by default) the caller reaches, and audits the read as `action`."""
    async with deps.db.transaction() as session:
        statement = select(EvidenceReport).where(EvidenceReport.notice_id == notice_id)
        statement = statement.where(EvidenceReport.version == version) if version else statement.order_by(col(EvidenceReport.version).desc())
        report = (await session.exec(statement.limit(1))).first()
        if report is None or not principal.reaches_court(report.court_id):
            raise Problem(404, "Not found", f"No delivery report for notice {notice_id}" + (f" in version {version}." if version else " yet."))
        audit.record(session, principal, action=action, target=f"{notice_id}/{report.version}", client=client, now=deps.clock.now())
    return report


@dataclass(frozen=True)
class ReportVersion:
    """One issued version of a notice's report: its number, the hash its seal carries and when it was issued."""

    version: int
    sha256: str
    issued_at: datetime


async def report_versions(deps: EvidenceDeps, *, principal: Principal, notice_id: str, client: str | None) -> list[ReportVersion]:
    """Returns every version of a notice's report the caller reaches, oldest first, and audits the read."""
    async with deps.db.transaction() as session:
        statement = select(EvidenceReport.version, EvidenceReport.sha256, EvidenceReport.issued_at, EvidenceReport.court_id).where(EvidenceReport.notice_id == notice_id)
        rows = (await session.exec(statement.order_by(col(EvidenceReport.version)))).all()
        if not rows or not principal.reaches_court(rows[0][3]):
            raise Problem(404, "Not found", f"No delivery report for notice {notice_id} yet.")
        audit.record(session, principal, action="report.versions", target=notice_id, client=client, now=deps.clock.now())
    return [ReportVersion(version=version, sha256=sha256, issued_at=issued_at) for version, sha256, issued_at, _ in rows]


@dataclass(frozen=True)
class ReportPdf:
    """A version of a notice's report as a stored PDF: the version's number and the blob's sha256."""

    version: int
    sha256: str


async def report_pdf(deps: EvidenceDeps, *, principal: Principal, notice_id: str, version: int | None, client: str | None) -> ReportPdf:
    """Returns the stored PDF of a version of a notice's report (the newest by default) the caller reaches, rendered now only if it has none yet; the read is audited."""
    async with deps.db.transaction() as session:
        # The document itself is read only if the version must be rendered.
        statement = select(EvidenceReport.version, EvidenceReport.court_id, EvidenceReport.pdf_sha256).where(EvidenceReport.notice_id == notice_id)
        statement = statement.where(EvidenceReport.version == version) if version else statement.order_by(col(EvidenceReport.version).desc())
        row = (await session.exec(statement.limit(1))).first()
        if row is None or not principal.reaches_court(row[1]):
            raise Problem(404, "Not found", f"No delivery report for notice {notice_id}" + (f" in version {version}." if version else " yet."))
        found, _, stored = row
        audit.record(session, principal, action="report.pdf", target=f"{notice_id}/{found}", client=client, now=deps.clock.now())
    if stored is None or not deps.blobs.exists(stored):
        stored = await _render(deps, notice_id=notice_id, version=found)
    return ReportPdf(version=found, sha256=stored)


async def _render(deps: EvidenceDeps, *, notice_id: str, version: int) -> str:
    """Renders a version as PDF and stores it, unless someone did meanwhile; returns the blob's sha256."""
    key = col(EvidenceReport.notice_id) == notice_id, col(EvidenceReport.version) == version
    async with deps.renderings.turn((notice_id, version)):
        # Another request, or the background renderer, may have rendered it while this one waited.
        async with deps.db.sessions() as session:
            stored, document = (await session.exec(select(EvidenceReport.pdf_sha256, EvidenceReport.document).where(*key))).one()
        if stored is not None and deps.blobs.exists(stored):
            return stored
        # WeasyPrint lays the pages out for a while; in a thread, the service goes on answering meanwhile.
        content = await asyncio.to_thread(rendering.render_pdf, DeliveryReport.model_validate(document))
        blob = await asyncio.to_thread(deps.blobs.put, content)
        async with deps.db.transaction() as session:
            await session.exec(update(EvidenceReport).where(*key).values(pdf_sha256=blob.sha256))
    logger.info("report_pdf.rendered", notice=notice_id, version=version, size=blob.size)
    return blob.sha256


async def read_timeline(deps: EvidenceDeps, *, principal: Principal, notice_id: str) -> Sequence[EvidenceTimelineEntry]:
    """Returns every event logged for a notice the caller reaches, in log order."""
    async with deps.db.sessions() as session:
        notice = await session.get(EvidenceNotice, notice_id)
        if not access.sees_notice(principal, notice):
            raise Problem(404, "Not found", f"Evidence has no notice {notice_id}.")
        statement = select(EvidenceTimelineEntry).where(EvidenceTimelineEntry.notice_id == notice_id).order_by(col(EvidenceTimelineEntry.log_index))
        return (await session.exec(statement)).all()


@dataclass(frozen=True)
class Kpis:
    """The KPIs of a court (every court when `court_id` is None) over notices received from `start` to `end`: in total and per group."""

    court_id: str | None
    start: date | None
    end: date | None
    by: kpis.Grouping | None
    as_of: datetime
    total: kpis.Figures
    groups: list[tuple[str, kpis.Figures]]
    # The courts' names as their notices carry them, by id.
    court_names: dict[str, str]


async def read_kpis(deps: EvidenceDeps, *, principal: Principal, court_id: str | None, start: date | None, end: date | None, by: kpis.Grouping | None) -> Kpis:
    """Returns the KPIs the caller may see: a court its own court's (another court's read as a court without notices), overseers any court's or all."""
    scope, foreign = court_id, False
    if principal.role is Role.court:
        scope, foreign = principal.sub, court_id not in (None, principal.sub)
    async with deps.db.sessions() as session:
        facts = [] if foreign else await kpi_facts.load(session, court_id=scope, start=start, end=end)
    return summarise(facts, court_id=scope, start=start, end=end, by=by, as_of=deps.clock.now())


def summarise(facts: list[kpis.RecipientFact], *, court_id: str | None, start: date | None, end: date | None, by: kpis.Grouping | None, as_of: datetime) -> Kpis:
    """Returns the figures of the facts in total and per group."""
    return Kpis(
        court_id=court_id,
        start=start,
        end=end,
        by=by,
        as_of=as_of,
        total=kpis.figures(facts, as_of=as_of),
        groups=kpis.grouped(facts, by, as_of=as_of) if by else [],
        court_names={f.court_id: f.court_name for f in facts},
    )


@dataclass(frozen=True)
class Monthly:
    """A court's monthly supervision report (月度考核报表): the month's figures, per ISO week and per agent."""

    court_id: str
    court_name: str
    month: date
    weeks: Kpis
    agents: list[tuple[str, kpis.Figures]]


async def monthly_kpis(deps: EvidenceDeps, *, principal: Principal, court_id: str, month: date) -> Monthly:
    """Returns a court's report for the month starting on `month`; a court evidence never heard of, or another court's, answers 404."""
    end = (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    async with deps.db.sessions() as session:
        name = await kpi_facts.court_name(session, court_id) if principal.reaches_court(court_id) else None
        if name is None:
            raise Problem(404, "Not found", f"No notices of court {court_id}.")
        facts = await kpi_facts.load(session, court_id=court_id, start=month, end=end)
    weeks = summarise(facts, court_id=court_id, start=month, end=end, by=kpis.Grouping.week, as_of=deps.clock.now())
    return Monthly(court_id=court_id, court_name=name, month=month, weeks=weeks, agents=kpis.grouped(facts, kpis.Grouping.agent, as_of=weeks.as_of))


def _no_webhook(court_id: str) -> Problem:
    return Problem(404, "Not found", f"Court {court_id} has no webhook for this caller.")


async def register_webhook(deps: EvidenceDeps, *, principal: Principal, court_id: str, url: str) -> EvidenceCourtHook:
    """Registers (or moves) a court's webhook with a new signing secret; an address the rules refuse is a 422."""
    if not access.keeps_webhook(principal, court_id):
        raise _no_webhook(court_id)
    try:
        await deps.webhook_policy.vet(url)
    except TargetRefused as exc:
        raise Problem(422, "Invalid webhook", f"url: {exc}", kind="validation", errors=[{"field": "url", "message": str(exc)}]) from None
    now = deps.clock.now()
    secret = secrets.token_urlsafe(32)
    async with deps.db.transaction() as session:
        hook = await session.get(EvidenceCourtHook, court_id)
        if hook is None:
            hook = EvidenceCourtHook(court_id=court_id, url=url, secret=secret, registered_at=now)
        else:
            hook.url, hook.secret, hook.registered_at = url, secret, now
        session.add(hook)
    return hook


async def read_webhook(deps: EvidenceDeps, *, principal: Principal, court_id: str) -> EvidenceCourtHook:
    """Returns a court's webhook the caller keeps."""
    async with deps.db.sessions() as session:
        hook = await session.get(EvidenceCourtHook, court_id)
    if hook is None or not access.keeps_webhook(principal, court_id):
        raise _no_webhook(court_id)
    return hook


# Timers (workers.py).


async def sign_checkpoint(deps: EvidenceDeps) -> None:
    """Signs the log at its size unless it is empty or already signed there."""
    async with deps.db.transaction() as session:
        if await log.size(session) > 0:
            await log.checkpoint(session, deps.signer, now=deps.clock.now())


async def render_report(deps: EvidenceDeps) -> bool:
    """Renders the PDF of the longest-waiting version that is its notice's newest and has none yet; returns whether there was one.

    A version superseded before its turn came is left to its first request, if any ever comes. One that failed to
    render is not tried again by this process in the background, and the renderer rests until its next round.
    """
    newer = aliased(EvidenceReport)
    superseded = exists().where(col(newer.notice_id) == col(EvidenceReport.notice_id), col(newer.version) > col(EvidenceReport.version))
    statement = select(EvidenceReport.notice_id, EvidenceReport.version).where(col(EvidenceReport.pdf_sha256).is_(None), ~superseded)
    if deps.renderings.failed:
        statement = statement.where(tuple_(col(EvidenceReport.notice_id), col(EvidenceReport.version)).not_in(sorted(deps.renderings.failed)))
    async with deps.db.sessions() as session:
        waiting = (await session.exec(statement.order_by(col(EvidenceReport.issued_at), col(EvidenceReport.notice_id)).limit(1))).first()
    if waiting is None:
        return False
    notice_id, version = waiting
    try:
        await _render(deps, notice_id=notice_id, version=version)
    except Exception:
        deps.renderings.failed.add((notice_id, version))
        logger.exception("report_pdf.render_failed", notice=notice_id, version=version)
        return False
    return True


async def push_report(deps: EvidenceDeps) -> bool:
    """Pushes the most overdue report version to its court and records the answer; returns whether one was due."""
    now = deps.clock.now()
    async with deps.db.transaction() as session:
        due = select(EvidenceCourtPush).where(EvidenceCourtPush.status == "pending", col(EvidenceCourtPush.next_try_at) <= now)
        # The lock is held across the request: a second pusher (another replica) skips this row rather than pushing it too.
        push = (await session.exec(due.order_by(col(EvidenceCourtPush.next_try_at)).limit(1).with_for_update(skip_locked=True))).first()
        if push is None:
            return False
        hook = await session.get(EvidenceCourtHook, push.court_id)
        report = await session.get(EvidenceReport, (push.notice_id, push.version))
        assert hook is not None and report is not None
        sent = Push(url=hook.url, secret=hook.secret, body=canonical(report.document), idempotency_key=f"{report.report_id}:{report.version}")
        error = await deps.courts.push(sent, now=deps.clock.now())
        push.tries += 1
        context = {"court": push.court_id, "notice": push.notice_id, "version": push.version, "tries": push.tries}
        if error is None:
            push.status, push.delivered_at, push.last_error = "delivered", deps.clock.now(), None
            logger.info("court_push.delivered", **context)
        elif push.tries >= deps.push_attempts:
            push.status, push.last_error = "failed", error
            logger.warning("court_push.gave_up", **context, error=error)
        else:
            push.last_error = error
            push.next_try_at = deps.clock.now() + timedelta(seconds=deps.push_backoff.after(push.tries))
            logger.info("court_push.retry", **context, error=error)
        session.add(push)
    return True
