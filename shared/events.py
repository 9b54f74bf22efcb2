"""The event catalogue: every event and command the services exchange (docs/events.md)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict

from shared.registry import Event, event, upcaster
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
    delivery = "delivery"


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


class EDeliveryChannel(StrEnum):
    """Electronic channels a party can consent to (CPL 90)."""

    sms = "sms"
    email = "email"
    lawyer_firm = "lawyer_firm"


class MatchMethod(StrEnum):
    """How a recipient was recognised as a party known from other cases."""

    id_number = "id_number"
    name_phone = "name_phone"
    new = "new"
    ambiguous = "ambiguous"


class Provenance(Part):
    """Why an address is a candidate: its kind, the case it came from and when it was confirmed."""

    kind: AddressSource
    source_case: str | None = None
    confirmed_on: date | None = None
    e_delivery_consent: bool = False
    stage: Stage | None = None
    basis: str | None = None
    expired: bool = False


class CandidateAddress(Part):
    text: str
    postcode: str | None = None
    location: GeoPoint | None = None
    rank: int
    provenance: list[Provenance]
    province: str | None = None
    city: str | None = None
    district: str | None = None


class Consent(Part):
    """An electronic channel the party agreed to in writing, with the confirmation it comes from."""

    channel: EDeliveryChannel
    address: str
    source_case: str
    confirmed_on: date


class Contact(Part):
    """A phone number or e-mail address known for the party, and why it is known."""

    kind: str
    value: str
    source: str
    confirmed_on: date | None = None
    worked_on: date | None = None


class PartyMatch(Part):
    """Which known party a recipient is, and what matched: every match is explainable."""

    party_id: str | None
    method: MatchMethod
    matched_on: list[str]
    note: str


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
    id_type: IdType | None
    id_number: str | None
    phones: list[Phone]
    emails: list[str]
    candidates: list[CandidateAddress]
    lawyer: Lawyer | None = None
    designated_proxy: str | None = None
    whereabouts_unknown: bool = False
    party: PartyMatch | None = None
    expired_candidates: list[CandidateAddress] = []
    consent: list[Consent] = []
    contacts: list[Contact] = []


@event("intake.NoticeRegistered", version=2)
class NoticeRegistered(Event):
    """A court's notice passed validation and is ready for delivery, each recipient's addresses ranked."""

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
    earlier_case_numbers: list[str] = []


@upcaster("intake.NoticeRegistered", from_version=1)
def _notice_registered_v1(data: dict[str, Any]) -> dict[str, Any]:
    # v2 lets a recipient come without an ID number; every v1 payload is already a valid v2 one.
    return data


@event("intake.AddressConfirmed")
class AddressConfirmed(Event):
    """A party confirmed (or changed in writing) its address for a case this notice belongs to."""

    notice_id: str
    recipient_id: str
    party_id: str
    confirmation_id: str
    case_number: str
    stage: Stage
    address: CandidateAddress
    phone: Phone | None = None
    consent: list[Consent] = []
    designated_proxy: str | None = None
    confirmed_on: date
    supersedes: str | None = None


class ServiceMethod(StrEnum):
    """How a recipient was served; each has its own service date and legal basis (DOMAIN.md)."""

    electronic = "electronic"
    direct = "direct"
    refusal = "refusal"
    postal = "postal"
    posting = "posting"
    public_notice = "public_notice"


@event("delivery.RecipientServed")
class RecipientServed(Event):
    """A recipient counts as served: how, on which date, on what legal basis, actually or deemed."""

    notice_id: str
    recipient_id: str
    method: ServiceMethod
    channel: str
    target: str | None = None
    service_date: date
    legal_basis: str
    deemed: bool
    served_at: AwareDatetime

