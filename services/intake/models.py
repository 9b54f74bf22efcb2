"""Intake's tables."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.db import JSONDoc, UTCDateTime


class IntakeNotice(SQLModel, table=True):
    """A notice as the court submitted it, normalised, with the fingerprint that makes resubmission idempotent."""

    __tablename__ = "intake_notice"
    __table_args__ = (UniqueConstraint("court_id", "court_reference", name="uq_intake_notice_court_reference"),)

    id: str = Field(primary_key=True)
    court_id: str = Field(index=True)
    court_reference: str
    court_name: str
    case_number: str
    cause: str
    stage: str
    due_date: date
    received_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    correlation_id: str
    fingerprint: str
    notice: dict[str, Any] = Field(sa_column=Column(JSONDoc, nullable=False))


TABLES = (IntakeNotice.__table__,)  # type: ignore[attr-defined]
