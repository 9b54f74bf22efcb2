"""The event catalogue: every event and command the services exchange (docs/events.md)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.contracts.registry import Command, Event, event, upcaster
from shared.contracts.values import Phone


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
    # The file in the document store; absent from notices registered before files were kept, and then left out of the
    # JSON, so that their reports stay byte for byte what they were (courts verify them by hash).
    size: int | None = Field(default=None, exclude_if=lambda size: size is None)
    content_type: str | None = Field(default=None, exclude_if=lambda content_type: content_type is None)


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


class ConsentForm(StrEnum):
    """How a party consented to electronic service (Online Litigation Rules Art. 29)."""

    # Express consent, e.g. in an address confirmation (送达地址确认书).
    express = "express"
    # Agreed or undertaken before the litigation: a contract clause, or a law firm's standing agreement with the court.
    pre_agreed = "pre_agreed"
    # An electronic address the party itself gave for service in its complaint, appeal, application or defence.
    own_filing = "own_filing"
    # Accepting an e-service already made, by replying or taking part without objecting.
    accepted_earlier = "accepted_earlier"


class Consent(Part):
    """An electronic channel the party agreed to, how (its form) and where that is written (its source)."""

    channel: EDeliveryChannel
    address: str
    source_case: str
    confirmed_on: date
    # Absent from consents recorded before the Online Litigation Rules' forms were kept: those came from confirmations.
    form: ConsentForm = Field(default=ConsentForm.express, exclude_if=lambda form: form is ConsentForm.express)
    # The document the consent rests on, in words for the report (e.g. "某律师事务所送达协议 2026-01"); None: the confirmation in source_case.
    source: str | None = Field(default=None, exclude_if=lambda source: source is None)
    # Whether the recipient itself provided or confirmed this address (OLR Art. 31): if not, arrival alone does not serve.
    address_confirmed: bool = Field(default=True, exclude_if=lambda confirmed: confirmed)


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
    # The firm's USCC: what its lawyers' tokens carry, so a firm reaches what was served on it.
    firm_uscc: str | None = None
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


class Witness(Part):
    """The witness of a refusal (CPL 89): a person from a grassroots organisation or the employer, and what they attest."""

    name: str
    organisation: str
    # CPL 89: the receipt records the reason for the refusal and the date; absent from reports made before they were asked.
    witnessed_on: date | None = Field(default=None, exclude_if=lambda day: day is None)
    refusal_reason: str | None = Field(default=None, exclude_if=lambda reason: reason is None)


class Review(Part):
    """A supervisor's acceptance of evidence whose checks raised blocking flags: who, when, why, and the flags set aside per item."""

    by: str
    at: AwareDatetime
    reason: str
    flags: dict[str, list[str]]


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
    attempt_id: str | None = None
    signer_name: str | None = None
    signer_role: str | None = None
    relation: str | None = None
    witness: Witness | None = None
    evidence_ids: list[str] = []
    # Set when the service rests on evidence a supervisor accepted despite its flags; absent from older events.
    review: Review | None = None
    # Why the law deems the recipient served (CPL 89, 专递规定 Art. 11, CPL 95, OLR Art. 31(2)), in Chinese for the report.
    deemed_reason: str | None = Field(default=None, exclude_if=lambda reason: reason is None)
    # OLR Art. 31(2): served on a read report to an address the recipient did not provide or confirm, unless it proves otherwise.
    presumed: bool = Field(default=False, exclude_if=lambda presumed: not presumed)
    # The consent an electronic service rests on: its form and source go into the report (OLR Art. 29).
    consent: Consent | None = Field(default=None, exclude_if=lambda consent: consent is None)

    @property
    def signature(self) -> Signature | None:
        """The signer as one part (the wire keeps version 1's flat fields)."""
        if self.signer_name is None or self.signer_role is None:
            return None
        return Signature(name=self.signer_name, role=SignerRole(self.signer_role), relation=self.relation)


class Tier(StrEnum):
    """The rungs of tiered delivery (分层送达), tried in this order."""

    electronic = "electronic"
    direct = "direct"
    postal = "postal"
    posting = "posting"
    public_notice = "public_notice"


class Channel(StrEnum):
    """How one attempt reaches (or looks for) the recipient."""

    lawyer_firm = "lawyer_firm"
    sms = "sms"
    email = "email"
    voice = "voice"
    visit = "visit"
    court_mail = "court_mail"
    posting = "posting"
    publication = "publication"


class SignerRole(StrEnum):
    """Who signed for the documents; which roles may sign is law, kept in delivery's domain (CPL 88)."""

    recipient = "recipient"
    family_member = "family_member"
    legal_representative = "legal_representative"
    principal = "principal"
    mail_room = "mail_room"
    litigation_agent = "litigation_agent"
    statutory_agent = "statutory_agent"
    designated_proxy = "designated_proxy"
    opposing_party = "opposing_party"
    other = "other"


class Signature(Part):
    """Who signed for the documents (a visit's 送达回证 or court mail's 回执): name, role, relation to the recipient."""

    name: str
    role: SignerRole
    relation: str | None = None


class Transmission(Part):
    """What a provider reports about one message or call: the record CPL 90 and 法发〔2017〕19号 items 11–12 ask to keep."""

    provider: str
    provider_ref: str | None = None
    sender: str | None = None
    receiver: str
    status: str
    sent_at: AwareDatetime | None = None
    arrived_at: AwareDatetime | None = None
    error_code: int | None = None
    duration_s: int | None = None
    recording_ref: str | None = None
    documents: list[str] = []


@event("delivery.AttemptStarted")
class AttemptStarted(Event):
    """One attempt to reach a recipient began: a message, a call, a visit, a mail item, a posting."""

    notice_id: str
    recipient_id: str
    attempt_id: str
    tier: Tier
    channel: Channel
    target: str | None = None
    started_at: AwareDatetime
    due_at: AwareDatetime | None = None
    # The price of the attempt in fen, as delivery's policy stood when it started; absent from older events.
    cost_fen: int | None = None


@event("delivery.AttemptSucceeded")
class AttemptSucceeded(Event):
    """An attempt reached the recipient (a message arrived, a call was answered, a visit found them)."""

    notice_id: str
    recipient_id: str
    attempt_id: str
    tier: Tier
    channel: Channel
    target: str | None = None
    at: AwareDatetime
    detail: str
    record: Transmission | None = None
    # What a supervisor should know about how the attempt was made, e.g. "reported_before_window" (a visit reported before its window opened).
    remarks: list[str] = Field(default=[], exclude_if=lambda remarks: not remarks)


@event("delivery.AttemptFailed")
class AttemptFailed(Event):
    """An attempt did not reach the recipient, with the reason and whether it will be tried again."""

    notice_id: str
    recipient_id: str
    attempt_id: str
    tier: Tier
    channel: Channel
    target: str | None = None
    at: AwareDatetime
    reason: str
    error_code: int | None = None
    retry_at: AwareDatetime | None = None
    record: Transmission | None = None
    remarks: list[str] = Field(default=[], exclude_if=lambda remarks: not remarks)


@event("delivery.TaskAssigned")
class TaskAssigned(Event):
    """A visit or a posting was given to a member of the delivery team."""

    notice_id: str
    recipient_id: str
    attempt_id: str
    task_id: str
    kind: Channel
    agent_id: str
    address: str
    window_start: AwareDatetime
    window_end: AwareDatetime
    # The address's coordinates when known: a photo from the task is checked against them.
    location: GeoPoint | None = None


@event("delivery.AttemptSuperseded")
class AttemptSuperseded(Event):
    """An electronic attempt run in parallel was stopped: another channel served the recipient first (OLR Art. 32)."""

    notice_id: str
    recipient_id: str
    attempt_id: str
    tier: Tier
    channel: Channel
    target: str | None = None
    at: AwareDatetime
    # The attempt whose service came first.
    by_attempt_id: str


@event("delivery.DocumentsAcknowledged")
class DocumentsAcknowledged(Event):
    """The recipient (or its lawyer) acknowledged the documents (签收): when, from which address, with which browser, by whom."""

    notice_id: str
    recipient_id: str
    attempt_id: str
    at: AwareDatetime
    ip: str | None = None
    user_agent: str | None = None
    # The lawyer who signed in and acknowledged for the firm (a console username); None: the holder of an e-delivery link.
    by: str | None = Field(default=None, exclude_if=lambda by: by is None)


class Disposition(StrEnum):
    """How a document was opened from the e-delivery page: shown in the browser, or saved."""

    view = "view"
    download = "download"


@event("delivery.DocumentOpened")
class DocumentOpened(Event):
    """The holder of an e-delivery link opened one of the notice's documents: which file, how, when, from which address, with which browser."""

    notice_id: str
    recipient_id: str
    attempt_id: str
    sha256: str
    title: str
    disposition: Disposition
    opened_at: AwareDatetime
    ip: str | None = None
    user_agent: str | None = None
    # The lawyer who opened it from the firm's inbox (a console username); None: the holder of an e-delivery link.
    by: str | None = Field(default=None, exclude_if=lambda by: by is None)


@event("delivery.AddressReported")
class AddressReported(Event):
    """An agent found that the recipient moved and reported the new address."""

    notice_id: str
    recipient_id: str
    party_id: str | None = None
    address: str
    postcode: str | None = None
    observed_on: date
    reported_by: str


class Exhausted(Part):
    """A method tried without success, listed for the court before a public notice (Interp. 138)."""

    tier: Tier
    channel: Channel
    target: str | None = None
    reason: str
    at: AwareDatetime


@event("delivery.RecipientUnserved")
class RecipientUnserved(Event):
    """Every method short of a public notice failed; the court is asked to publish one (CPL 95)."""

    notice_id: str
    recipient_id: str
    exhausted: list[Exhausted]
    recommendation: str
    at: AwareDatetime


class ServedRecipient(Part):
    recipient_id: str
    method: ServiceMethod
    service_date: date
    deemed: bool


@event("delivery.NoticeCompleted")
class NoticeCompleted(Event):
    """Every recipient of the notice is served, actually or deemed."""

    notice_id: str
    completed_at: AwareDatetime
    recipients: list[ServedRecipient]
    overdue: bool


@event("delivery.DeadlineApproaching")
class DeadlineApproaching(Event):
    """Early warning (预警): the delivery deadline is near and some recipients are not served."""

    notice_id: str
    due_date: date
    pending: list[str]
    at: AwareDatetime


@event("delivery.NoticeOverdue")
class NoticeOverdue(Event):
    """The delivery deadline passed with recipients unserved (超期送达)."""

    notice_id: str
    due_date: date
    pending: list[str]
    at: AwareDatetime


@event("carrier_gateway.DispatchPostalItem")
class DispatchPostalItem(Command):
    """Command: book court mail (法院专递) for one attempt; the attempt id is the carrier's order number."""

    notice_id: str
    recipient_id: str
    attempt_id: str
    court_id: str
    court_name: str
    case_number: str
    receiver_name: str
    receiver_phone: str | None = None
    address: str
    postcode: str | None = None
    documents: list[str]


class PostalStatus(StrEnum):
    """A carrier trace normalised; the raw code stays on the event."""

    accepted = "accepted"
    in_transit = "in_transit"
    arrived = "arrived"
    out_for_delivery = "out_for_delivery"
    delivered = "delivered"
    delivery_failed = "delivery_failed"
    refused = "refused"
    returned = "returned"
    receipt_returned = "receipt_returned"
    unknown = "unknown"


class ReturnReason(StrEnum):
    """Why a mail item went back to the court."""

    unclaimed = "unclaimed"
    address_wrong = "address_wrong"
    moved = "moved"
    refused = "refused"
    whereabouts_unknown = "whereabouts_unknown"
    other = "other"


@event("carrier_gateway.WaybillCreated")
class WaybillCreated(Event):
    """The carrier accepted the booking and gave the item a waybill number."""

    notice_id: str
    attempt_id: str
    waybill_no: str
    created_at: AwareDatetime


@event("carrier_gateway.DispatchFailed")
class DispatchFailed(Event):
    """The carrier refused the booking."""

    notice_id: str
    attempt_id: str
    reason: str
    at: AwareDatetime


@event("carrier_gateway.TrackingUpdated")
class TrackingUpdated(Event):
    """A node of the item's journey, normalised, with the carrier's raw code, name and description."""

    notice_id: str
    attempt_id: str
    waybill_no: str
    status: PostalStatus
    op_time: AwareDatetime
    op_code: str
    op_name: str | None = None
    op_desc: str | None = None
    signer_role: SignerRole | None = None
    return_reason: ReturnReason | None = None
    # False for a node that arrived after a later one (carriers push out of order): history, not news.
    latest: bool = True


@event("carrier_gateway.ReceiptReturned")
class ReceiptReturned(Event):
    """The return receipt (回执) came back to the court: who signed, their relation, the date on it (CPL 91)."""

    notice_id: str
    attempt_id: str
    waybill_no: str
    signer_name: str
    signer_role: SignerRole
    relation: str | None = None
    signed_on: date
    returned_at: AwareDatetime
    scan_evidence_id: str | None = None

    @property
    def signature(self) -> Signature:
        """The signer as one part (the wire keeps version 1's flat fields)."""
        return Signature(name=self.signer_name, role=self.signer_role, relation=self.relation)


@event("evidence.EvidenceRecorded")
class EvidenceRecorded(Event):
    """An item of evidence is stored and logged, with the checks it raised (e.g. a photo far from the address)."""

    notice_id: str
    evidence_id: str
    kind: str
    sha256: str
    leaf_index: int
    flags: list[str] = []


@event("evidence.ReportIssued")
class ReportIssued(Event):
    """A version of a notice's delivery report is sealed and stored; a court fetches or is pushed it."""

    notice_id: str
    report_id: str
    # The report's version, a field since v1; it shadows Event.version (the schema's version) only on instances.
    version: int  # type: ignore[misc]
    court_id: str
    sha256: str
    checkpoint_size: int
    issued_at: AwareDatetime
