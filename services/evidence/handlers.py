"""Evidence's message handlers: every consumed event is appended to its notice's timeline."""

from __future__ import annotations

import json

from services.evidence.domain import message_digest
from services.evidence.models import EvidenceNotice, EvidenceTimelineEntry
from shared.consumer import MessageContext
from shared.db import insert_ignoring_duplicates


async def append_to_timeline(ctx: MessageContext) -> None:
    """Appends the message to the log under its notice, remembering the notice's court on registration."""
    envelope = ctx.envelope
    court_id = envelope.data.get("court_id") if envelope.type == "intake.NoticeRegistered" else None
    if court_id:
        table = EvidenceNotice.__table__  # type: ignore[attr-defined]
        await ctx.session.exec(insert_ignoring_duplicates(ctx.session.bind.dialect, table).values(id=envelope.subject, court_id=court_id))
    ctx.session.add(
        EvidenceTimelineEntry(
            notice_id=envelope.subject,
            event_id=str(envelope.id),
            event_type=envelope.type,
            source=envelope.source,
            event_time=envelope.time,
            sha256=message_digest(ctx.raw),
            envelope=json.loads(ctx.raw),
            recorded_at=ctx.clock.now(),
        )
    )
