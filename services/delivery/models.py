"""Delivery's tables: notices, each recipient's state document, attempts, tasks, e-delivery links, callbacks, replies, evidence seen, the team's roster."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import DDL, Column, Index, text
from sqlmodel import Field, SQLModel

from shared.plumbing.db import JSONDoc, UTCDateTime, table_of


class NoticeStatus(StrEnum):
    in_progress = "in_progress"
    completed = "completed"


class TaskStatus(StrEnum):
    open = "open"
    reported = "reported"
    # The attempt ended without a report (the plan moved on).
    closed = "closed"


class SendStatus(StrEnum):
    """Where sending a message or call stands."""

    pending = "pending"  # waiting for the dispatcher, again after a failure worth retrying
    sent = "sent"  # the provider took it; its final status comes by callback or status check
    settled = "settled"  # its final status was applied to the attempt
    in_doubt = "in_doubt"  # nobody can tell whether it went out; the attempt's due time moves the plan on
    unconfirmed = "unconfirmed"  # no final status within a day; the attempt's due time moves the plan on
    withdrawn = "withdrawn"  # never sent: another channel run in parallel served first (OLR Art. 32)


class DeliveryNotice(SQLModel, table=True):
    """A notice delivery is working on, with its deadline alerts."""

    __tablename__ = "delivery_notice"
    # The notice list pages by due date and id, and searches names and case numbers by any part: on PostgreSQL a
    # trigram index serves a LIKE '%…%' (pg_trgm, a trusted extension the database's owner may create).
    __table_args__ = (
        Index("ix_delivery_notice_due", "due_date", "id"),
        Index("ix_delivery_notice_party_names", "party_names", postgresql_using="gin", postgresql_ops={"party_names": "gin_trgm_ops"}).ddl_if(dialect="postgresql"),
        Index("ix_delivery_notice_case_search", "case_search", postgresql_using="gin", postgresql_ops={"case_search": "gin_trgm_ops"}).ddl_if(dialect="postgresql"),
        {"listeners": [("before_create", DDL("CREATE EXTENSION IF NOT EXISTS pg_trgm").execute_if(dialect="postgresql"))]},
    )

    id: str = Field(primary_key=True)
    court_id: str = Field(index=True)
    court_name: str = ""
    case_number: str
    cause: str = ""
    stage: str
    due_date: date
    status: str
    correlation_id: str
    registered_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    received_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    warned_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    overdue_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    completed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    documents: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSONDoc, nullable=False))
    # What the notice list searches, written once when the notice is registered (search.py): recipients' names, the case number.
    party_names: str = ""
    case_search: str = ""


class DeliveryRecipient(SQLModel, table=True):
    """One party to serve within a notice: its state document and the columns the sweeper and views query."""

    __tablename__ = "delivery_recipient"
    __table_args__ = (Index("ix_delivery_recipient_wake", "wake_at", postgresql_where=text("wake_at IS NOT NULL")),)

    id: str = Field(primary_key=True)
    notice_id: str = Field(foreign_key="delivery_notice.id", index=True)
    position: int
    name: str
    role: str
    status: str
    tier: str
    whereabouts_unknown: bool
    wake_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    state: dict[str, Any] = Field(sa_column=Column(JSONDoc, nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class DeliveryOutgoing(SQLModel, table=True):
    """A message or call of an attempt on its way out: its words and where sending it stands (the attempt itself lives in the recipient's state)."""

    __tablename__ = "delivery_outgoing"
    __table_args__ = (Index("ix_delivery_outgoing_due", "next_try_at", postgresql_where=text("status = 'pending'")),)

    attempt_id: str = Field(primary_key=True)
    notice_id: str = Field(index=True)
    recipient_id: str
    channel: str
    target: str
    queued_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    status: str
    next_try_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    tries: int = 0
    last_error: str | None = None
    message: dict[str, Any] = Field(sa_column=Column(JSONDoc, nullable=False))
    provider_ref: str | None = Field(default=None, index=True)


class DeliveryTask(SQLModel, table=True):
    """A visit or a posting assigned to a member of the delivery team."""

    __tablename__ = "delivery_task"

    id: str = Field(primary_key=True)
    attempt_id: str = Field(unique=True)
    notice_id: str = Field(index=True)
    recipient_id: str
    kind: str
    agent_id: str = Field(index=True)
    status: str
    address: str
    postcode: str | None = None
    window_start: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    window_end: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    reported_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    outcome: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONDoc, nullable=True))
    # When and why the agent first began the visit: the recipient's phones are shown from then on (staged authorisation).
    begun_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    begun_reason: str | None = None
    # The Idempotency-Key the report came with: a retry under it is answered as the report was, and records nothing.
    report_key: str | None = None


class DeliveryLink(SQLModel, table=True):
    """An e-delivery link: only the token's hash is kept; one recipient, one attempt, an expiry; for a lawyer's firm, also the firm's inbox item."""

    __tablename__ = "delivery_link"

    token_hash: str = Field(primary_key=True)
    attempt_id: str = Field(index=True)
    notice_id: str
    recipient_id: str
    expires_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    opened_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    acknowledged_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    ip: str | None = None
    user_agent: str | None = None
    # The firm a lawyer_firm attempt was sent to (its USCC): the item is in that firm's inbox, and its lawyers acknowledge there too.
    firm_uscc: str | None = Field(default=None, index=True)
    # The lawyer (console username) who acknowledged from the firm's inbox; None for the link's holder.
    acknowledged_by: str | None = None


class DeliveryCallback(SQLModel, table=True):
    """A provider callback already applied: (reference, status) once, so repeats have no effect."""

    __tablename__ = "delivery_callback"

    key: str = Field(primary_key=True)
    attempt_id: str
    received_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class DeliveryReply(SQLModel, table=True):
    """A reply the recipient sent to one of delivery's messages (OLR Art. 31(2)): once per provider reference; of its text only the length and sha256, never the words."""

    __tablename__ = "delivery_reply"

    # The provider's reference for the reply (Twilio's MessageSid, the e-mail's Message-ID): a repeat is recognised by it.
    key: str = Field(primary_key=True)
    attempt_id: str = Field(index=True)
    channel: str
    received_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    length: int
    sha256: str


class DeliveryEvidence(SQLModel, table=True):
    """Evidence the evidence service recorded for a notice, with its flags."""

    __tablename__ = "delivery_evidence"

    id: str = Field(primary_key=True)
    notice_id: str = Field(index=True)
    kind: str
    flags: list[str] = Field(default_factory=list, sa_column=Column(JSONDoc, nullable=False))
    recorded_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class DeliveryAgent(SQLModel, table=True):
    """A member of the delivery team (the roster): the areas they cover, and whether new tasks go to them."""

    __tablename__ = "delivery_agent"

    id: str = Field(primary_key=True)
    name: str
    areas: list[str] = Field(default_factory=list, sa_column=Column(JSONDoc, nullable=False))
    active: bool
    updated_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


TABLES = tuple(
    table_of(m) for m in (DeliveryNotice, DeliveryRecipient, DeliveryOutgoing, DeliveryTask, DeliveryLink, DeliveryCallback, DeliveryReply, DeliveryEvidence, DeliveryAgent)
)
