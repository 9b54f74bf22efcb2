"""Intake's tables: courts, documents, notices, and the address book of parties, their addresses, contacts and confirmations."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.plumbing.db import JSONDoc, UTCDateTime, table_of


class IntakeCourt(SQLModel, table=True):
    """A court Songda serves: its id, its name, and the code its case numbers carry (鲁1002 in （2026）鲁1002民初1号)."""

    __tablename__ = "intake_court"

    id: str = Field(primary_key=True)
    name: str
    case_code: str = Field(unique=True)
    active: bool = True
    updated_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class IntakeFirm(SQLModel, table=True):
    """A law firm's standing agreement with courts to be served electronically (OLR Art. 29(2)), kept by supervisors."""

    __tablename__ = "intake_firm"

    uscc: str = Field(primary_key=True)
    name: str
    # The firm's e-delivery mailbox; its account on the e-delivery page is its inbox, named by the USCC itself.
    email: str
    inbox: bool = True
    # The signed agreement, filed as evidence: the item's id and the file's hash.
    agreement_evidence_id: str
    agreement_sha256: str
    court_ids: list[str] = Field(default_factory=list, sa_column=Column(JSONDoc, nullable=False))
    valid_from: date
    valid_to: date
    updated_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    updated_by: str


class IntakeDocument(SQLModel, table=True):
    """A document a court uploaded (the bytes live in the document store under the sha256): one row per court that uploaded it."""

    __tablename__ = "intake_document"

    sha256: str = Field(primary_key=True)
    court_id: str = Field(primary_key=True)
    filename: str
    size: int
    pages: int
    content_type: str
    uploaded_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class IntakeNotice(SQLModel, table=True):
    """A notice as the court submitted it, normalised, with the fingerprint that makes resubmission idempotent."""

    __tablename__ = "intake_notice"
    __table_args__ = (UniqueConstraint("court_id", "court_reference", name="uq_intake_notice_court_reference"),)

    id: str = Field(primary_key=True)
    court_id: str = Field(index=True)
    court_reference: str
    court_name: str
    case_number: str
    case_key: str = Field(index=True)
    cause: str
    stage: str
    due_date: date
    received_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    correlation_id: str
    fingerprint: str
    notice: dict[str, Any] = Field(sa_column=Column(JSONDoc, nullable=False))


class IntakeRecipient(SQLModel, table=True):
    """Which known party each recipient of a notice turned out to be."""

    __tablename__ = "intake_recipient"

    id: str = Field(primary_key=True)
    notice_id: str = Field(index=True)
    party_id: str | None = Field(default=None, index=True)


class IntakeParty(SQLModel, table=True):
    """A person or organisation known from any case; the id derives from the ID number, so one ID is one party."""

    __tablename__ = "intake_party"

    id: str = Field(primary_key=True)
    kind: str
    name: str
    name_key: str = Field(index=True)
    id_type: str | None = None
    id_number: str | None = None
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class IntakeContact(SQLModel, table=True):
    """A phone number (E.164) or e-mail address of a party, with when it was confirmed and when it last worked."""

    __tablename__ = "intake_contact"
    __table_args__ = (Index("ix_intake_contact_value", "value"),)

    party_id: str = Field(primary_key=True)
    kind: str = Field(primary_key=True)
    value: str = Field(primary_key=True)
    source: str
    confirmed_on: date | None = None
    worked_on: date | None = None


class AddressColumns(SQLModel):
    """The columns of a normalised address: as written, its key, its divisions, postcode and location."""

    text: str
    address_key: str
    province: str | None = None
    city: str | None = None
    district: str | None = None
    postcode: str | None = None
    lat: float | None = None
    lon: float | None = None


class IntakeAddressEntry(AddressColumns, table=True):
    """One fact about a party's address: from a filing, a household register, civil activity or a delivery that worked."""

    __tablename__ = "intake_address_entry"

    id: str = Field(primary_key=True)
    party_id: str = Field(index=True)
    source: str
    case_key: str | None = None
    case_number: str | None = None
    stage: str | None = None
    observed_on: date | None = None
    origin: str
    recorded_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class IntakeConfirmation(AddressColumns, table=True):
    """A 送达地址确认书; never updated: a later one for the same party and case supersedes it, and both are kept."""

    __tablename__ = "intake_confirmation"

    id: str = Field(primary_key=True)
    party_id: str = Field(index=True)
    case_key: str
    case_number: str
    stage: str
    phone: str | None = None
    e_delivery: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSONDoc, nullable=False))
    designated_proxy: str | None = None
    confirmed_on: date
    origin: str
    recorded_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class IntakeImport(SQLModel, table=True):
    """Progress of one bulk import file, so a stopped import resumes where its last batch committed."""

    __tablename__ = "intake_import"

    id: str = Field(primary_key=True)
    name: str
    byte_offset: int = 0
    line: int = 0
    accepted: int = 0
    rejected: int = 0
    finished: bool = False
    updated_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class IntakeImportReject(SQLModel, table=True):
    """A line of an import file that was refused, and why; written in the same transaction as its batch."""

    __tablename__ = "intake_import_reject"

    import_id: str = Field(primary_key=True)
    line: int = Field(primary_key=True)
    reason: str


class IntakeBatch(SQLModel, table=True):
    """A workbook of notices a court uploaded: who sent it, for which court, and how far registering its notices has come."""

    __tablename__ = "intake_batch"

    id: str = Field(primary_key=True)
    court_id: str = Field(index=True)
    # The caller whose right to submit each notice is checked when it is registered (a court, a supervisor, a service).
    submitter_role: str
    submitter: str
    filename: str
    status: str
    total: int
    done: int = 0
    registered: int = 0
    duplicates: int = 0
    refused: int = 0
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))


class IntakeBatchRow(SQLModel, table=True):
    """One notice of a batch: where it starts in the workbook, the request it makes, where each field sits, and what became of it."""

    __tablename__ = "intake_batch_row"
    __table_args__ = (Index("ix_intake_batch_row_pending", "status", "batch_id", "position"),)

    batch_id: str = Field(primary_key=True)
    position: int = Field(primary_key=True)
    sheet: str
    row: int
    court_reference: str
    status: str
    notice_id: str | None = None
    payload: dict[str, Any] = Field(sa_column=Column(JSONDoc, nullable=False))
    # {field path: [sheet, row, column]}: where each field of the request was read, to place its errors.
    cells: dict[str, Any] = Field(sa_column=Column(JSONDoc, nullable=False))
    errors: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSONDoc, nullable=False))


TABLES = tuple(
    table_of(model)
    for model in (
        IntakeCourt,
        IntakeFirm,
        IntakeDocument,
        IntakeNotice,
        IntakeRecipient,
        IntakeParty,
        IntakeContact,
        IntakeAddressEntry,
        IntakeConfirmation,
        IntakeImport,
        IntakeImportReject,
        IntakeBatch,
        IntakeBatchRow,
    )
)
