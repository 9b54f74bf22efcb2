"""The event catalogue: every event and command the services exchange (docs/events.md)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict

from shared.registry import Event, event
from shared.values import Phone


class Stage(StrEnum):
    first_instance = "first_instance"
    appeal = "appeal"
    retrial = "retrial"
    enforcement = "enforcement"


class PartyKind(StrEnum):
    person = "person"
    organisation = "organisation"


class IdType(StrEnum):
    resident_id = "resident_id"
    uscc = "uscc"
    passport = "passport"
    other = "other"


class AddressSource(StrEnum):
    """Where an address came from; the order of SPC 法发〔2017〕19号 Art. 8–9 ranks these in intake."""

    confirmation = "confirmation"
    contract = "contract"
    filing = "filing"
    other_case = "other_case"
    civil_activity = "civil_activity"
    household = "household"


class Part(BaseModel):
    """A frozen value inside an event."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class Document(Part):
    title: str
    kind: str
    pages: int
    sha256: str | None = None


class GeoPoint(Part):
    lat: float
    lon: float


class Provenance(Part):
    """Why an address is a candidate: its kind, the case it came from and when it was confirmed."""

    kind: AddressSource
    source_case: str | None = None
    confirmed_on: date | None = None
    e_delivery_consent: bool = False


class CandidateAddress(Part):
    text: str
    postcode: str | None = None
    location: GeoPoint | None = None
    rank: int
    provenance: list[Provenance]


class Lawyer(Part):
    name: str
    firm: str
    license_no: str | None = None
    email: str | None = None


class Recipient(Part):
    recipient_id: str
    name: str
    kind: PartyKind
    role: str
    id_type: IdType
    id_number: str
    phones: list[Phone]
    emails: list[str]
    candidates: list[CandidateAddress]
    lawyer: Lawyer | None = None
    designated_proxy: str | None = None
    whereabouts_unknown: bool = False


@event("intake.NoticeRegistered")
class NoticeRegistered(Event):
    """A court's notice passed validation and is ready for delivery."""

    notice_id: str
    court_id: str
    court_name: str
    court_reference: str
    case_number: str
    cause: str
    stage: Stage
    documents: list[Document]
    recipients: list[Recipient]
    due_date: date
    registered_at: AwareDatetime

