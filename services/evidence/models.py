"""Evidence's tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, Integer
from sqlmodel import Field, SQLModel

from shared.db import JSONDoc, UTCDateTime


class EvidenceNotice(SQLModel, table=True):
    """Which court a notice belongs to, so its timeline is shown to that court only."""

    __tablename__ = "evidence_notice"

    id: str = Field(primary_key=True)
    court_id: str = Field(index=True)


class EvidenceTimelineEntry(SQLModel, table=True):
    """One consumed event in the append-only log, with the digest of the message as received."""

    __tablename__ = "evidence_timeline_entry"

    # The position in the whole log; a notice's timeline is its entries in this order.
    id: int | None = Field(default=None, sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True))
    notice_id: str = Field(index=True)
    event_id: str = Field(unique=True)
    event_type: str
    source: str
    event_time: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    sha256: str
    envelope: dict[str, Any] = Field(sa_column=Column(JSONDoc, nullable=False))
    recorded_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


TABLES = (EvidenceNotice.__table__, EvidenceTimelineEntry.__table__)  # type: ignore[attr-defined]
