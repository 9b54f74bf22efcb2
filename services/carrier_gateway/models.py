"""The carrier gateway's tables: each court-mail item from booking to return receipt, and every EMS node received."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, Index, text
from sqlmodel import Field, SQLModel

from shared.plumbing.db import JSONDoc, UTCDateTime, table_of


class Booking(StrEnum):
    """Where an item's booking stands: waiting for EMS, booked under a waybill, or refused by EMS (a B-code)."""

    pending = "pending"
    booked = "booked"
    refused = "refused"


class ScanState(StrEnum):
    """Where an item's return-receipt scan stands: waiting to reach evidence, stored there, or given up on."""

    pending = "pending"
    stored = "stored"
    missing = "missing"


class CarrierItem(SQLModel, table=True):
    """One court-mail item, keyed by delivery's attempt id (EMS's logisticsOrderNo): its booking and its current node."""

    __tablename__ = "carrier_item"
    __table_args__ = (
        Index("ix_carrier_item_booking_due", "next_try_at", postgresql_where=text("booking = 'pending'")),
        Index("ix_carrier_item_open", "last_node_at", postgresql_where=text("booking = 'booked' AND NOT closed")),
        Index("ix_carrier_item_scan_due", "scan_next_at", postgresql_where=text("scan = 'pending'")),
    )

    attempt_id: str = Field(primary_key=True)
    notice_id: str = Field(index=True)
    recipient_id: str
    correlation_id: str
    # The DispatchPostalItem envelope that asked for the item; the events it causes name it.
    command_id: str
    command: dict[str, Any] = Field(sa_column=Column(JSONDoc, nullable=False))
    # A Booking.
    booking: str
    tries: int = 0
    next_try_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    last_error: str | None = None
    waybill_no: str | None = Field(default=None, unique=True)
    status: str | None = None
    # The node the item is at, as the mapper's Node; out-of-order nodes never replace a later one.
    current: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONDoc, nullable=True))
    last_node_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    polled_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    receipt_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    # The ReceiptReturned the first 801 reported, held back until its scan is in evidence or given up on.
    receipt: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONDoc, nullable=True))
    # A ScanState; None until a readable 801 arrives.
    scan: str | None = None
    # A server default, so rows written by plain SQL (the benchmark's) need not name it.
    scan_tries: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    scan_next_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    scan_error: str | None = None
    scan_evidence_id: str | None = None
    closed: bool = False
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class CarrierTrace(SQLModel, table=True):
    """One EMS node, kept raw, once: EMS's (waybill, opCode, opTime) is the key that makes a repeated push a no-op."""

    __tablename__ = "carrier_trace"

    waybill_no: str = Field(primary_key=True)
    op_code: str = Field(primary_key=True)
    op_time: str = Field(primary_key=True)
    attempt_id: str
    status: str
    raw: dict[str, Any] = Field(sa_column=Column(JSONDoc, nullable=False))
    # push or poll: how the node reached us.
    source: str
    received_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


TABLES = tuple(table_of(m) for m in (CarrierItem, CarrierTrace))
