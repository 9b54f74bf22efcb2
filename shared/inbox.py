"""Inbox: the record of messages a consumer has applied, written in the same transaction as the effect."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.db import UTCDateTime, insert_ignoring_duplicates


class InboxMessage(SQLModel, table=True):
    """One applied message; the primary key makes a second application impossible."""

    __tablename__ = "inbox_message"

    message_id: str = Field(primary_key=True)
    consumer: str = Field(primary_key=True)
    event_type: str
    topic: str
    partition: int
    offset: int
    processed_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


async def claim(
    session: AsyncSession,
    *,
    message_id: str,
    consumer: str,
    event_type: str,
    topic: str,
    partition: int,
    offset: int,
    now: datetime,
) -> bool:
    """Records the message as applied by `consumer`; False when it already was (a redelivery)."""
    statement = insert_ignoring_duplicates(session.bind.dialect, InboxMessage.__table__).values(
        message_id=message_id,
        consumer=consumer,
        event_type=event_type,
        topic=topic,
        partition=partition,
        offset=offset,
        processed_at=now,
    )
    result = await session.execute(statement)
    return result.rowcount == 1
