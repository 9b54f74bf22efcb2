"""Delivery's tables."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from shared.db import UTCDateTime


class DeliveryNotice(SQLModel, table=True):
    """A notice delivery is working on."""

    __tablename__ = "delivery_notice"

    id: str = Field(primary_key=True)
    court_id: str = Field(index=True)
    case_number: str
    stage: str
    due_date: date
    status: str
    correlation_id: str
    registered_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    received_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class DeliveryRecipient(SQLModel, table=True):
    """One party to serve within a notice."""

    __tablename__ = "delivery_recipient"

    id: str = Field(primary_key=True)
    notice_id: str = Field(foreign_key="delivery_notice.id", index=True)
    position: int
    name: str
    role: str
    status: str
    whereabouts_unknown: bool


TABLES = (DeliveryNotice.__table__, DeliveryRecipient.__table__)  # type: ignore[attr-defined]
