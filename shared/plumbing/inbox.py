"""Inbox: the record of messages a consumer has applied, written in the same transaction as the effect."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.plumbing.db import UTCDateTime, insert_ignoring_duplicates, table_of


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


@dataclass(frozen=True)
class Claim:
    """A message about to be applied, and where it came from."""

    message_id: str
    event_type: str
    topic: str
    partition: int
    offset: int


async def claim_all(session: AsyncSession, *, consumer: str, messages: list[Claim], now: datetime) -> set[str]:
    """Records the messages as applied by `consumer` in one statement; returns the ids not applied before."""
    table = table_of(InboxMessage)
    rows = [
        {"message_id": m.message_id, "consumer": consumer, "event_type": m.event_type, "topic": m.topic, "partition": m.partition, "offset": m.offset, "processed_at": now}
        for m in {m.message_id: m for m in reversed(messages)}.values()
    ]
    # The rows go as parameters of the one-row statement: SQLAlchemy compiles that once and expands it per batch
    # (insertmanyvalues), where `.values(rows)` compiled a new statement for every batch size (~0.13 ms CPU per message).
    statement = insert_ignoring_duplicates(session, table).returning(table.c.message_id)
    return set((await session.exec(statement, params=rows)).scalars().all())
