"""The KPIs' facts in the database: brought up to the events logged inside the consumer's transaction, once per notice, and read back for a court and a date range."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.evidence.domain import kpis
from services.evidence.models import EvidenceKpiFact, EvidenceTimelineEntry
from shared.contracts.envelope import Envelope
from shared.contracts.events import NoticeRegistered
from shared.contracts.registry import Event, UnknownEvent, decode
from shared.plumbing.db import core_rows, table_of

FACT = table_of(EvidenceKpiFact)


async def refresh(session: AsyncSession, logged: Sequence[tuple[Envelope, Event | None]], *, logged_from: int) -> None:
    """Brings the facts of the logged envelopes' notices (each with its event if already decoded) up to the events just logged from log index `logged_from` on, each notice once: its new events folded into its stored facts, or every logged event of the notice folded again for its registration or before it."""
    # The consumer's decoding is reused: decoding every registration a second time was a fifth of evidence's CPU.
    events: dict[str, list[Event]] = {}
    for envelope, decoded in logged:
        if (event := decoded or _decoded(envelope)) is not None:
            events.setdefault(envelope.subject, []).append(event)
    if not events:
        return
    registering = {notice_id for notice_id, new in events.items() if any(isinstance(e, NoticeRegistered) for e in new)}
    stored: dict[str, list[kpis.RecipientFact]] = {}
    # A notice registering is folded again whatever it has stored, so only the others' facts are read.
    if others := [notice_id for notice_id in events if notice_id not in registering]:
        for row in await core_rows(session, select(FACT.c.notice_id, FACT.c.fact).where(FACT.c.notice_id.in_(others))):
            stored.setdefault(row.notice_id, []).append(kpis.RecipientFact.model_validate(row.fact))
    refold = [notice_id for notice_id in events if notice_id in registering or not stored.get(notice_id)]
    facts = await _refolded(session, {notice_id: events[notice_id] for notice_id in refold}, before=logged_from)
    for notice_id, new in events.items():
        if notice_id in refold:
            continue
        # The events are the last of the notice's in log order, so folding them into the stored facts is the whole fold (kpis.fold).
        for fact in stored[notice_id]:
            for event in new:
                fact = kpis.advance(fact, event)
            facts.append(fact)
    await _store(session, facts)


async def _refolded(session: AsyncSession, new: Mapping[str, list[Event]], *, before: int) -> list[kpis.RecipientFact]:
    """Returns the facts of every logged event of the notices, folded again in log order: those logged before index `before`, read back, then their `new` ones."""
    if not new:
        return []
    # Only what was logged before this transaction's events is read back: those are decoded already. A notice's
    # registration nearly always comes first, so this reads nothing instead of every registration again.
    statement = (
        select(EvidenceTimelineEntry.notice_id, EvidenceTimelineEntry.envelope)
        .where(
            col(EvidenceTimelineEntry.notice_id).in_(list(new)),
            col(EvidenceTimelineEntry.event_type).in_(kpis.READS),
            col(EvidenceTimelineEntry.log_index) < before,
        )
        .order_by(col(EvidenceTimelineEntry.log_index))
    )
    logged: dict[str, list[Event]] = {notice_id: [] for notice_id in new}
    for notice_id, envelope in (await session.exec(statement)).all():
        if (event := _decoded(envelope)) is not None:
            logged[notice_id].append(event)
    return [fact for notice_id, earlier in logged.items() for fact in kpis.fold([*earlier, *new[notice_id]])]


async def _store(session: AsyncSession, facts: list[kpis.RecipientFact]) -> None:
    """Writes the facts in one statement; a stored row keeps its court and day of receipt, as the notice's registration set them."""
    if not facts:
        return
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(FACT)
    statement = statement.on_conflict_do_update(
        index_elements=[FACT.c.notice_id, FACT.c.recipient_id], set_={"agent_id": statement.excluded.agent_id, "fact": statement.excluded.fact}
    )
    rows = [
        {
            "notice_id": fact.notice_id,
            "recipient_id": fact.recipient_id,
            "court_id": fact.court_id,
            "received_on": fact.received_on,
            "agent_id": fact.agent_id,
            "fact": fact.model_dump(mode="json"),
        }
        for fact in facts
    ]
    await session.exec(statement, params=rows)


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
