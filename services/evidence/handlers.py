"""Evidence's message handlers: every consumed event is logged and appended to its notice's timeline."""

from __future__ import annotations

import json

from sqlalchemy import update
from sqlmodel import col

from services.evidence import log, reports
from services.evidence.domain.timeline import event_entry, message_digest
from services.evidence.models import EvidenceNotice, EvidenceTask, EvidenceTimelineEntry
from services.evidence.signer import Signer
from shared.contracts.events import TaskAssigned
from shared.plumbing.consumer import MessageContext
from shared.plumbing.db import insert_ignoring_duplicates, table_of
from shared.plumbing.runtime import AnyMessageHandler, Deps

# A visit's or posting's attempt ended: its task is over, and so is its agent's access to it.
ATTEMPT_ENDS = frozenset({"delivery.AttemptSucceeded", "delivery.AttemptFailed"})


def recorder(signer: Signer) -> AnyMessageHandler:
    """Returns the handler of every consumed message, issuing reports with `signer`'s checkpoints."""

    async def handle(deps: Deps, *, message: MessageContext) -> None:
        await append_to_timeline(message, signer=signer)

    return handle


async def append_to_timeline(ctx: MessageContext, *, signer: Signer) -> None:
    """Logs the message as received, appends it to its notice's timeline, and keeps what later checks and reports need."""
    envelope = ctx.envelope
    now = ctx.clock.now()
    if envelope.type == "intake.NoticeRegistered":
        table = table_of(EvidenceNotice)
        values = {"id": envelope.subject, "court_id": envelope.data["court_id"], "correlation_id": envelope.correlationid}
        await ctx.session.exec(insert_ignoring_duplicates(ctx.session, table).values(**values))
    elif envelope.type == "delivery.TaskAssigned":
        _remember_task(ctx, TaskAssigned.model_validate(envelope.data))
    elif envelope.type in ATTEMPT_ENDS:
        await ctx.session.exec(update(EvidenceTask).where(col(EvidenceTask.attempt_id) == envelope.data["attempt_id"]).values(closed=True))
    digest = message_digest(ctx.raw)
    index = await log.append(ctx.session, event_entry(envelope, sha256=digest), kind="event", ref=str(envelope.id), notice_id=envelope.subject, now=now)
    ctx.session.add(
        EvidenceTimelineEntry(
            notice_id=envelope.subject,
            log_index=index,
            event_id=str(envelope.id),
            event_type=envelope.type,
            source=envelope.source,
            event_time=envelope.time,
            sha256=digest,
            envelope=json.loads(ctx.raw),
            recorded_at=now,
        )
    )
    await reports.after_entry(ctx.session, signer=signer, notice_id=envelope.subject, completed=envelope.type == "delivery.NoticeCompleted", now=now)


def _remember_task(ctx: MessageContext, task: TaskAssigned) -> None:
    location = task.location
    ctx.session.add(
        EvidenceTask(
            task_id=task.task_id,
            notice_id=task.notice_id,
            recipient_id=task.recipient_id,
            attempt_id=task.attempt_id,
            agent_id=task.agent_id,
            lat=location.lat if location else None,
            lon=location.lon if location else None,
            window_start=task.window_start,
            window_end=task.window_end,
        )
    )
