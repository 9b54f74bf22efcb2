"""Evidence's tables: the notices' timelines, the Merkle log, evidence items, checkpoints, reports, courts' webhooks, the KPIs' facts and the read audit."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Column, Index, Integer, Text, text
from sqlmodel import Field, SQLModel

from shared.plumbing.db import JSONDoc, UTCDateTime, table_of


class EvidenceNotice(SQLModel, table=True):
    """Which court a notice belongs to, so its timeline is shown to that court only."""

    __tablename__ = "evidence_notice"

    id: str = Field(primary_key=True)
    court_id: str = Field(index=True)
    # The notice's correlation id, carried by what evidence publishes about it.
    correlation_id: str


class EvidenceTimelineEntry(SQLModel, table=True):
    """One consumed event in the append-only log, with the digest of the message as received."""

    __tablename__ = "evidence_timeline_entry"

    # The order received; a notice's timeline is its entries in this order.
    id: int | None = Field(default=None, sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True))
    notice_id: str = Field(index=True)
    # The entry's leaf in the Merkle log.
    log_index: int = Field(sa_column=Column(BigInteger, nullable=False, unique=True))
    event_id: str = Field(unique=True)
    event_type: str
    source: str
    event_time: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    sha256: str
    envelope: dict[str, Any] = Field(sa_column=Column(JSONDoc, nullable=False))
    recorded_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class EvidenceLogHead(SQLModel, table=True):
    """The log's one head row: its size and compact range; appends lock it, which makes leaf indices gapless."""

    __tablename__ = "evidence_log_head"

    id: int = Field(default=1, primary_key=True)
    size: int = Field(sa_column=Column(BigInteger, nullable=False))
    frontier: list[str] = Field(sa_column=Column(JSONDoc, nullable=False))


class EvidenceLogEntry(SQLModel, table=True):
    """One leaf of the append-only log: the canonical JSON it hashes, and what it stands for."""

    __tablename__ = "evidence_log_entry"

    leaf_index: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    # event, evidence or report.
    kind: str
    ref: str = Field(index=True)
    notice_id: str = Field(index=True)
    entry: str = Field(sa_column=Column(Text, nullable=False))
    leaf_hash: str
    recorded_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class EvidenceLogNode(SQLModel, table=True):
    """The hash of one aligned perfect subtree (level 0 is a leaf), from which roots and proofs are computed."""

    __tablename__ = "evidence_log_node"

    level: int = Field(primary_key=True)
    index: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    hash: str


class EvidenceCheckpoint(SQLModel, table=True):
    """A signed statement of the log's size and root."""

    __tablename__ = "evidence_checkpoint"

    size: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    origin: str
    root: str
    issued_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    key_id: str
    public_key: str
    signature: str


class EvidenceItem(SQLModel, table=True):
    """An uploaded item: its content by sha256, what it claims to be about, and the flags its checks raised."""

    __tablename__ = "evidence_item"

    id: str = Field(primary_key=True)
    notice_id: str = Field(index=True)
    recipient_id: str | None = None
    attempt_id: str | None = Field(default=None, index=True)
    task_id: str | None = None
    kind: str
    scene: str | None = None
    sha256: str
    size: int = Field(sa_column=Column(BigInteger, nullable=False))
    content_type: str
    filename: str | None = None
    details: dict[str, Any] = Field(sa_column=Column(JSONDoc, nullable=False))
    facts: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONDoc, nullable=True))
    flags: list[str] = Field(sa_column=Column(JSONDoc, nullable=False))
    uploaded_by: str
    # The uploader's key for a retried upload: the same key answers the item already recorded.
    idempotency_key: str | None = Field(default=None, unique=True)
    leaf_index: int = Field(sa_column=Column(BigInteger, nullable=False))
    recorded_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class EvidenceTask(SQLModel, table=True):
    """A visit or posting task delivery assigned: the place and window a photo from it is checked against."""

    __tablename__ = "evidence_task"

    task_id: str = Field(primary_key=True)
    notice_id: str
    recipient_id: str
    attempt_id: str
    agent_id: str
    lat: float | None = None
    lon: float | None = None
    window_start: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    window_end: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    # Set when delivery ends the task's attempt: its agent then adds and reads no more evidence for it.
    closed: bool = Field(default=False, sa_column_kwargs={"server_default": "false"})


class EvidenceReport(SQLModel, table=True):
    """One version of a notice's delivery report, kept as issued; a later version never replaces it."""

    __tablename__ = "evidence_report"
    # The renderer finds the versions it has yet to render without reading the rendered ones.
    __table_args__ = (Index("ix_evidence_report_unrendered", "issued_at", postgresql_where=text("pdf_sha256 IS NULL")),)

    notice_id: str = Field(primary_key=True)
    version: int = Field(primary_key=True)
    report_id: str
    court_id: str = Field(index=True)
    sha256: str
    document: dict[str, Any] = Field(sa_column=Column(JSONDoc, nullable=False))
    # The log size the report covers; an entry for the notice past it makes the report out of date.
    covers: int = Field(sa_column=Column(BigInteger, nullable=False))
    issued_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    # The blob holding the version rendered as PDF, once rendered: each version is typeset once and then served as stored.
    pdf_sha256: str | None = None


class EvidenceCourtHook(SQLModel, table=True):
    """Where a court wants its reports pushed, and the secret the pushes are signed with."""

    __tablename__ = "evidence_court_hook"

    court_id: str = Field(primary_key=True)
    url: str
    secret: str
    registered_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class EvidenceCourtPush(SQLModel, table=True):
    """One report version owed to a court's webhook, retried until the court answers 2xx."""

    __tablename__ = "evidence_court_push"
    __table_args__ = (Index("ix_evidence_court_push_due", "next_try_at", postgresql_where=text("status = 'pending'")),)

    notice_id: str = Field(primary_key=True)
    version: int = Field(primary_key=True)
    court_id: str
    status: str
    tries: int = 0
    next_try_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    last_error: str | None = None
    delivered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))


class EvidenceKpiFact(SQLModel, table=True):
    """What the KPIs know of one notice recipient (domain/kpis.py's RecipientFact as JSON), with the columns the figures are filtered by."""

    __tablename__ = "evidence_kpi_fact"
    __table_args__ = (Index("ix_evidence_kpi_fact_court_received", "court_id", "received_on"),)

    notice_id: str = Field(primary_key=True)
    recipient_id: str = Field(primary_key=True)
    court_id: str
    agent_id: str | None = Field(default=None, index=True)
    # The day the court handed the notice over, in Beijing: date ranges and weeks count by it.
    received_on: date = Field(index=True)
    fact: dict[str, Any] = Field(sa_column=Column(JSONDoc, nullable=False))


TABLES = tuple(
    table_of(m)
    for m in (
        EvidenceNotice,
        EvidenceTimelineEntry,
        EvidenceLogHead,
        EvidenceLogEntry,
        EvidenceLogNode,
        EvidenceCheckpoint,
        EvidenceItem,
        EvidenceTask,
        EvidenceReport,
        EvidenceCourtHook,
        EvidenceCourtPush,
        EvidenceKpiFact,
    )
)
