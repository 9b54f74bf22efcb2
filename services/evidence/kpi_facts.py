"""The KPIs' facts in the database: brought up to the events logged inside the consumer's transaction, once per notice, and read back for a court and a date range."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.evidence.domain import kpis
from services.evidence.models import EvidenceKpiFact, EvidenceTimelineEntry
from shared.contracts.envelope import Envelope
from shared.contracts.events import NoticeRegistered
from shared.contracts.registry import Event, UnknownEvent, decode


async def refresh(session: AsyncSession, envelopes: Sequence[Envelope]) -> None:
    """Brings the facts of the envelopes' notices up to the events just logged, each notice once: its new events folded into its stored facts, or every logged event of the notice folded again for its registration or before it."""
    events: dict[str, list[Event]] = {}
    for envelope in envelopes:
        if (event := _decoded(envelope)) is not None:
            events.setdefault(envelope.subject, []).append(event)
    if not events:
        return
    stored: dict[str, list[EvidenceKpiFact]] = {}
    for row in (await session.exec(select(EvidenceKpiFact).where(col(EvidenceKpiFact.notice_id).in_(list(events))))).all():
        stored.setdefault(row.notice_id, []).append(row)
    refold = [notice_id for notice_id, new in events.items() if not stored.get(notice_id) or any(isinstance(e, NoticeRegistered) for e in new)]
    await _refold(session, refold, stored)
    for notice_id, new in events.items():
        if notice_id in refold:
            continue
        # The events are the last of the notice's in log order, so folding them into the stored facts is the whole fold (kpis.fold).
        for row in stored[notice_id]:
            fact = kpis.RecipientFact.model_validate(row.fact)
            for event in new:
                fact = kpis.advance(fact, event)
            _store(row, fact)
            session.add(row)


async def _refold(session: AsyncSession, notice_ids: list[str], stored: Mapping[str, list[EvidenceKpiFact]]) -> None:
    if not notice_ids:
        return
    statement = (
        select(EvidenceTimelineEntry.notice_id, EvidenceTimelineEntry.envelope)
        .where(col(EvidenceTimelineEntry.notice_id).in_(notice_ids), col(EvidenceTimelineEntry.event_type).in_(kpis.READS))
        .order_by(col(EvidenceTimelineEntry.log_index))
    )
    logged: dict[str, list[Event]] = {notice_id: [] for notice_id in notice_ids}
    for notice_id, envelope in (await session.exec(statement)).all():
        if (event := _decoded(envelope)) is not None:
            logged[notice_id].append(event)
    for notice_id, events in logged.items():
        rows = {row.recipient_id: row for row in stored.get(notice_id, [])}
        for fact in kpis.fold(events):
            row = rows.get(fact.recipient_id)
            if row is None:
                row = EvidenceKpiFact(notice_id=fact.notice_id, recipient_id=fact.recipient_id, court_id=fact.court_id, received_on=fact.received_on, fact={})
            _store(row, fact)
            session.add(row)


def _store(row: EvidenceKpiFact, fact: kpis.RecipientFact) -> None:
    row.agent_id, row.fact = fact.agent_id, fact.model_dump(mode="json")


def _decoded(envelope: Envelope | Mapping[str, Any]) -> Event | None:
    try:
        return decode(Envelope.model_validate(envelope))
    except UnknownEvent:
        # A type or version this release does not know counts for nothing, as in the report.
        return None


async def load(session: AsyncSession, *, court_id: str | None, start: date | None, end: date | None) -> list[kpis.RecipientFact]:
    """Returns the facts of one court's notices (every court's when None) received from `start` to `end` (Beijing dates, both included)."""
    statement = select(EvidenceKpiFact.fact)
    if court_id is not None:
        statement = statement.where(EvidenceKpiFact.court_id == court_id)
    if start is not None:
        statement = statement.where(col(EvidenceKpiFact.received_on) >= start)
    if end is not None:
        statement = statement.where(col(EvidenceKpiFact.received_on) <= end)
    rows = (await session.exec(statement.order_by(col(EvidenceKpiFact.received_on), col(EvidenceKpiFact.notice_id), col(EvidenceKpiFact.recipient_id)))).all()
    return [kpis.RecipientFact.model_validate(fact) for fact in rows]


async def court_name(session: AsyncSession, court_id: str) -> str | None:
    """Returns the court's name as its notices carry it; None when evidence has heard of no notice of the court."""
    fact = (await session.exec(select(EvidenceKpiFact.fact).where(EvidenceKpiFact.court_id == court_id).limit(1))).first()
    return None if fact is None else str(fact.get("court_name") or court_id)
