"""Issuing delivery reports: each version assembled from what the log holds about the notice, sealed, anchored to a checkpoint, published and queued for the court."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import bindparam, exists, func, insert, tuple_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select

from services.evidence import log
from services.evidence.domain.report import Uploaded, assemble, read
from services.evidence.models import EvidenceCheckpoint, EvidenceCourtHook, EvidenceCourtPush, EvidenceItem, EvidenceNotice, EvidenceReport, EvidenceTimelineEntry
from services.evidence.signer import Signer, present
from shared.contracts.events import ReportIssued
from shared.contracts.report import EvidenceRef, Proof, Seal, report_hash
from shared.contracts.topics import EVIDENCE_EVENTS
from shared.plumbing import outbox
from shared.plumbing.db import table_of

SOURCE = "songda/evidence"
REPORT = table_of(EvidenceReport)


def cited(item: EvidenceItem, proof: Proof) -> Uploaded:
    """Returns an uploaded item as a report cites it, with the attempt it is about."""
    ref = EvidenceRef(
        ref=item.id, kind=item.kind, sha256=item.sha256, content_type=item.content_type, size=item.size, flags=list(item.flags), recorded_at=item.recorded_at, proof=proof
    )
    return Uploaded(attempt_id=item.attempt_id, ref=ref)


class Newest(NamedTuple):
    """The newest version of a notice's report: its number and the hash its seal carries."""

    version: int
    sha256: str


@functools.cache
def _newest() -> Select[int, str]:
    # Two columns, not the row (the document is tens of kilobytes of JSON), in a statement built once: this runs for every entry logged about a notice.
    return (
        select(EvidenceReport.version, EvidenceReport.sha256).where(col(EvidenceReport.notice_id) == bindparam("notice_id")).order_by(col(EvidenceReport.version).desc()).limit(1)
    )


async def latest(session: AsyncSession, notice_id: str) -> Newest | None:
    """Returns the number and seal hash of a notice's newest report version."""
    row = (await session.exec(_newest(), params={"notice_id": notice_id})).first()
    return Newest(*row) if row is not None else None


@functools.cache
def _newest_of() -> Select[str, int, str]:
    # Each notice's highest version, read for a whole batch of notices at once.
    highest = select(EvidenceReport.notice_id, func.max(EvidenceReport.version)).where(col(EvidenceReport.notice_id).in_(bindparam("notice_ids", expanding=True)))
    return select(EvidenceReport.notice_id, EvidenceReport.version, EvidenceReport.sha256).where(
        tuple_(col(EvidenceReport.notice_id), col(EvidenceReport.version)).in_(highest.group_by(col(EvidenceReport.notice_id)))
    )


async def newest(session: AsyncSession, notice_ids: list[str]) -> dict[str, Newest]:
    """Returns the number and seal hash of the newest report version of each of the notices that has one."""
    rows = (await session.exec(_newest_of(), params={"notice_ids": notice_ids})).all()
    return {notice_id: Newest(version, sha256) for notice_id, version, sha256 in rows}


@functools.cache
def _timeline() -> Select[int, Any, str, datetime]:
    # The four columns a report reads of each entry, not the rows as objects: a notice's whole timeline is read for every version.
    entry = EvidenceTimelineEntry
    return select(entry.log_index, entry.envelope, entry.sha256, entry.recorded_at).where(col(entry.notice_id) == bindparam("notice_id")).order_by(col(entry.log_index))


@functools.cache
def _addressees() -> Select[str | None, bool]:
    # Whom ReportIssued is correlated with and whether the court takes pushes, in one round trip.
    correlation = select(EvidenceNotice.correlation_id).where(col(EvidenceNotice.id) == bindparam("notice_id")).scalar_subquery()
    return select(correlation, exists().where(col(EvidenceCourtHook.court_id) == bindparam("court_id")))


async def after_entry(session: AsyncSession, *, signer: Signer, notice_id: str, completed: bool, now: datetime) -> None:
    """Issues the first report when delivery completes the notice, and a new version for anything logged about it afterwards."""
    previous = await latest(session, notice_id)
    if previous is None and not completed:
        return
    checkpoint = await log.checkpoint(session, signer, now=now)
    await issue(session, checkpoint=checkpoint, notice_id=notice_id, previous=previous, now=now)


async def after_entries(session: AsyncSession, *, signer: Signer, notice_ids: list[str], completed: set[str], now: datetime) -> None:
    """Does `after_entry` for each notice of a batch in turn, all anchored to one checkpoint signed once the batch's entries are logged."""
    previous = await newest(session, notice_ids)
    due = [notice_id for notice_id in notice_ids if notice_id in completed or notice_id in previous]
    if not due:
        return
    # Every entry a report cites was logged before this checkpoint, so one signature covers the batch's reports.
    checkpoint = await log.checkpoint(session, signer, now=now)
    for notice_id in due:
        await issue(session, checkpoint=checkpoint, notice_id=notice_id, previous=previous.get(notice_id), now=now)


async def issue(session: AsyncSession, *, checkpoint: EvidenceCheckpoint, notice_id: str, previous: Newest | None, now: datetime) -> None:
    """Assembles the next version with proofs to `checkpoint`, seals and stores it, logs its hash, publishes ReportIssued and queues the court's push."""
    timeline = (await session.exec(_timeline(), params={"notice_id": notice_id})).all()
    uploaded = (await session.exec(select(EvidenceItem).where(EvidenceItem.notice_id == notice_id).order_by(col(EvidenceItem.leaf_index)))).all()
    indices = [row[0] for row in timeline] + [i.leaf_index for i in uploaded]
    paths = await log.inclusions(session, indices, checkpoint.size)
    texts = await log.entries(session, indices)

    def proof(index: int) -> Proof:
        return Proof(leaf_index=index, entry=texts[index].entry, path=[p.hex() for p in paths[index]])

    version = previous.version + 1 if previous else 1
    # Every logged envelope is decoded as its event class, older versions upcast, so the report reads one shape of each event.
    events = [read(envelope, sha256=sha256, recorded_at=recorded_at, proof=proof(index)) for index, envelope, sha256, recorded_at in timeline]
    body = assemble(
        events=[e for e in events if e is not None],
        items=[cited(i, proof(i.leaf_index)) for i in uploaded],
        checkpoint=present(checkpoint),
        version=version,
        previous_sha256=previous.sha256 if previous else None,
        now=now,
    )
    document = body.model_dump(mode="json")
    sha256 = report_hash(document)
    entry = {"type": "report", "report_id": body.report_id, "notice_id": notice_id, "version": version, "sha256": sha256}
    leaf = await log.append(session, entry, kind="report", ref=f"{body.report_id}/{version}", notice_id=notice_id, now=now)
    document["seal"] = Seal(report_sha256=sha256, leaf_index=leaf).model_dump(mode="json")
    # A plain INSERT: the version is written once and never read back in this transaction.
    stored = {"report_id": body.report_id, "court_id": body.court_id, "sha256": sha256, "document": document, "covers": checkpoint.size, "issued_at": now}
    await session.exec(insert(REPORT).values(notice_id=notice_id, version=version, **stored))
    correlation_id, hooked = (await session.exec(_addressees(), params={"notice_id": notice_id, "court_id": body.court_id})).one()
    issued = ReportIssued(notice_id=notice_id, report_id=body.report_id, version=version, court_id=body.court_id, sha256=sha256, checkpoint_size=checkpoint.size, issued_at=now)
    envelope = issued.envelope(source=SOURCE, subject=notice_id, time=now, correlationid=correlation_id if correlation_id is not None else notice_id)
    outbox.add(session, envelope, topic=EVIDENCE_EVENTS, now=now)
    if hooked:
        session.add(EvidenceCourtPush(notice_id=notice_id, version=version, court_id=body.court_id, status="pending", next_try_at=now))
