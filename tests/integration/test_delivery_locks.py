"""Delivery's lock order on PostgreSQL: an answer or callback locks the attempt's recipient before the attempt, as workflow.save does."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import text
from sqlmodel import select

from services.delivery.handlers import sending
from services.delivery.models import DeliveryNotice, DeliveryOutgoing, DeliveryRecipient, SendStatus
from shared.plumbing.db import Database, create_tables, table_of
from tests.support import eventually

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


async def seed(db: Database) -> None:
    """Writes one notice with one recipient and one SMS attempt queued for it."""
    await create_tables(db.engine, [table_of(DeliveryNotice), table_of(DeliveryRecipient), table_of(DeliveryOutgoing)])
    async with db.transaction() as session:
        session.add(
            DeliveryNotice(
                id="n-1",
                court_id="C1",
                case_number="(2026)鲁1002民初1号",
                stage="first",
                due_date=NOW.date(),
                status="open",
                correlation_id="c-1",
                registered_at=NOW,
                received_at=NOW,
            )
        )
        await session.flush()
        session.add(
            DeliveryRecipient(id="r-1", notice_id="n-1", position=0, name="测试", role="defendant", status="open", tier="t", whereabouts_unknown=False, state={}, updated_at=NOW)
        )
        session.add(
            DeliveryOutgoing(attempt_id="a-1", notice_id="n-1", recipient_id="r-1", channel="sms", target="+8613900000000", queued_at=NOW, status=SendStatus.pending, message={})
        )


async def test_waiting_for_the_recipient_holds_no_lock_on_the_attempt_and_reads_it_fresh(make_database) -> None:
    db = Database(await make_database("locks"))
    try:
        await seed(db)
        async with db.sessions() as holder, db.sessions() as answering, db.sessions() as rival, db.sessions() as watcher:
            await holder.begin()
            await holder.exec(select(DeliveryRecipient.id).where(DeliveryRecipient.id == "r-1").with_for_update())
            await answering.begin()
            waiting = asyncio.create_task(sending._locked(answering, "a-1"))

            async def blocked() -> bool:
                return bool((await watcher.exec(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"))).scalar())  # type: ignore[call-overload]

            await eventually(blocked, timeout=10, what="the answer waiting for the recipient's lock")
            # NOWAIT fails at once if the waiting answer had locked the attempt before its recipient (the deadlock order).
            async with rival.begin():
                row = (await rival.exec(select(DeliveryOutgoing).where(DeliveryOutgoing.attempt_id == "a-1").with_for_update(nowait=True))).one()
                row.status = SendStatus.settled
                rival.add(row)
            await holder.commit()
            locked = await waiting
            await answering.commit()
        assert locked is not None and locked.status == SendStatus.settled, "the attempt is read as it is once locked, not as it was before the wait"
    finally:
        await db.dispose()
