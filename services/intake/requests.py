"""Intake's request and response bodies: notices, address confirmations and address lookups."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from services.intake import domain
from shared.contracts.casenumber import CaseNumber, CaseNumberText
from shared.contracts.events import (
    AddressSource,
    CandidateAddress,
    Consent,
    ConsentForm,
    Contact,
    Document,
    EDeliveryChannel,
    GeoPoint,
    IdType,
    Lawyer,
    PartyKind,
    PartyMatch,
    Stage,
)
from shared.contracts.values import EmailAddress, Phone, PhoneNumber, email_address, validate_id_number


class Strict(BaseModel):
    """Request models refuse unknown fields so a misspelt field is an error, not silently lost."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _checked_id_number(value: str | None, info: ValidationInfo) -> str | None:
    id_type = info.data.get("id_type")
    if value is None:
        return None
    if id_type is None and "id_type" not in info.data:
        return value  # id_type itself failed validation and is reported on its own
    if id_type is None:
        raise ValueError("give id_type together with id_number")
    return validate_id_number(id_type, value)


def _checked_stage(stage: Stage, info: ValidationInfo) -> Stage:
    text = info.data.get("case_number")
    if text:
        implied = domain.stage_mismatch(CaseNumber.parse(text).case_type, stage)
        if implied is not None:
            raise ValueError(f"the case number's type code says {implied}, not {stage}")
    return stage


class DocumentIn(Strict):
    title: str = Field(min_length=1, max_length=200)
    kind: str = Field(min_length=1, max_length=64)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="A file the court uploaded to POST /v1/documents")
    pages: int | None = Field(default=None, ge=1, le=10000, description="Optional: checked against the file's own page count")


class DocumentOut(BaseModel):
    """A document as the store keeps it."""

    sha256: str
    content_type: str
    size: int
    pages: int
    filename: str


class PlaceIn(Strict):
    text: str = Field(min_length=4, max_length=300)
    postcode: str | None = Field(default=None, pattern=r"^\d{6}$")
    location: GeoPoint | None = None


class AddressIn(PlaceIn):
    source: AddressSource = AddressSource.filing
    source_case: CaseNumberText | None = None
    observed_on: date | None = None


class LawyerIn(Strict):
    name: str = Field(min_length=1, max_length=100)
    firm: str = Field(min_length=1, max_length=200)
    # The firm's unified social credit code: the firm's id, which its lawyers' tokens carry as their subject.
    firm_uscc: str | None = Field(default=None, min_length=18, max_length=18)
    license_no: str | None = Field(default=None, max_length=64)
    email: EmailAddress | None = None

    @field_validator("firm_uscc")
    @classmethod
    def _check_uscc(cls, value: str | None) -> str | None:
        return validate_id_number(IdType.uscc, value) if value is not None else None


class ChannelIn(Strict):
    """An electronic address the party consented to, in one of the forms of OLR Art. 29 (express unless said otherwise)."""

    channel: EDeliveryChannel
    address: str = Field(min_length=3, max_length=200)
    form: ConsentForm = ConsentForm.express
    source: str | None = Field(
        default=None, min_length=2, max_length=300, validate_default=True, description="The document the consent rests on (needed unless express), e.g. 借款合同第12条"
    )
    address_confirmed: bool = Field(default=True, validate_default=True, description="false: the party did not provide or confirm this address (OLR Art. 31(2))")

    @field_validator("source")
    @classmethod
    def _source_for_form(cls, value: str | None, info: ValidationInfo) -> str | None:
        form = info.data.get("form")
        error = domain.consent_form_error(form, source=value, address_confirmed=True) if form is not None else None
        if error is not None and error[0] == "source":
            raise ValueError(error[1])
        return value

    @field_validator("address_confirmed")
    @classmethod
    def _confirmed_for_form(cls, value: bool, info: ValidationInfo) -> bool:
        form = info.data.get("form")
        # A missing source is reported on its own field; here only whether the form allows an unconfirmed address.
        error = domain.consent_form_error(form, source="-", address_confirmed=value) if form is not None else None
        if error is not None:
            raise ValueError(error[1])
        return value

    def terms(self) -> dict[str, object]:
        """Returns the consent as stored: channel and address, and the form's terms only where they differ from an express, confirmed consent."""
        return self.model_dump(mode="json", exclude_defaults=True)

    @field_validator("address")
    @classmethod
    def _check_address(cls, value: str, info: ValidationInfo) -> str:
        channel = info.data.get("channel")
        if channel is EDeliveryChannel.sms:
            phone = Phone.parse(value)
            if not phone.can_receive_sms:
                raise ValueError("an SMS channel needs a mobile number")
            return phone.e164
        if channel is EDeliveryChannel.email:
            return email_address(value)
        return value


class EDeliveryIn(Strict):
    consent: bool
    channels: list[ChannelIn] = Field(default_factory=list, max_length=10)

    @model_validator(mode="after")
    def _channels_need_consent(self) -> Self:
        if self.channels and not self.consent:
            raise ValueError("channels are listed but consent is false")
        return self


class PartyIn(Strict):
    """A party's identity; without an ID number it is matched on name and phone only."""

    name: str = Field(min_length=1, max_length=200)
    kind: PartyKind
    id_type: IdType | None = None
    id_number: str | None = Field(default=None, min_length=1, max_length=64, validate_default=True)

    _id_number = field_validator("id_number")(_checked_id_number)


class RecipientIn(PartyIn):
    role: str = Field(min_length=1, max_length=64)
    phones: list[PhoneNumber] = Field(default_factory=list, max_length=10)
    emails: list[EmailAddress] = Field(default_factory=list, max_length=10)
    addresses: list[AddressIn] = Field(default_factory=list, max_length=20)
    lawyer: LawyerIn | None = None
    designated_proxy: str | None = Field(default=None, max_length=200)
    whereabouts_unknown: bool = False
    # Left out of the stored payload when absent, so a notice without consents fingerprints as before they could be given on it.
    e_delivery: EDeliveryIn | None = Field(
        default=None,
        exclude_if=lambda given: given is None,
        description="Consent to electronic service the court holds for this recipient, each address with its form (OLR Art. 29)",
    )


class NoticeIn(Strict):
    court_reference: str = Field(min_length=1, max_length=100)
    court_id: str = Field(pattern=r"^[A-Z0-9]{2,16}$")
    court_name: str | None = Field(default=None, min_length=2, max_length=100, description="Optional: the registry's name is used; a different one is refused")
    case_number: CaseNumberText
    earlier_case_numbers: list[CaseNumberText] = Field(default_factory=list, max_length=10, description="The same case at its earlier stages (first instance for an appeal, …)")
    cause: str = Field(min_length=1, max_length=100)
    stage: Stage
    documents: list[DocumentIn] = Field(min_length=1, max_length=100)
    recipients: list[RecipientIn] = Field(min_length=1, max_length=50)
    due_date: date | None = None

    _stage = field_validator("stage")(_checked_stage)


class NoticeBatchIn(Strict):
    """A court's day of notices: each item the body of POST /v1/notices, checked and answered on its own."""

    # Items are validated one by one, so one bad notice is answered at its index instead of refusing the others.
    notices: list[Any] = Field(min_length=1, max_length=500, json_schema_extra={"items": {"$ref": "#/components/schemas/NoticeIn"}})


class NoticeBatchResult(BaseModel):
    """One item's answer: as POST /v1/notices would give it, 201 new, 200 registered before, or a 4xx with its problem."""

    index: int
    status: int
    id: str | None = None
    problem: dict[str, Any] | None = Field(default=None, description="The problem+json document POST /v1/notices would answer, its fields named notices[index].…")


class NoticeBatchOut(BaseModel):
    results: list[NoticeBatchResult]


class ConfirmationIn(Strict):
    """A 送达地址确认书 as the court records it."""

    case_number: CaseNumberText
    stage: Stage
    party: PartyIn
    address: PlaceIn
    phone: PhoneNumber | None = None
    e_delivery: EDeliveryIn | None = None
    designated_proxy: str | None = Field(default=None, max_length=200)
    confirmed_at: date

    _stage = field_validator("stage")(_checked_stage)


class ConfirmationOut(BaseModel):
    id: str
    case_number: str
    stage: Stage
    party: PartyMatch
    confirmed_at: date
    supersedes: str | None
    notices_informed: int
    created: bool


class LookupIn(Strict):
    """Who to look up (identifiers in the body, never in a URL) and, optionally, for which case."""

    party: PartyIn
    phones: list[PhoneNumber] = Field(default_factory=list, max_length=10)
    case_number: CaseNumberText | None = None
    earlier_case_numbers: list[CaseNumberText] = Field(default_factory=list, max_length=10)
    stage: Stage | None = None
    purpose: str = Field(min_length=2, max_length=200, description="Why the lookup is made (e.g. 核实送达地址); kept in the audit log")


class LookupOut(BaseModel):
    party: PartyMatch
    candidates: list[CandidateAddress]
    expired_candidates: list[CandidateAddress]
    consent: list[Consent]
    contacts: list[Contact]
    as_of: date


class RecipientOut(BaseModel):
    recipient_id: str
    name: str
    kind: PartyKind
    role: str
    phones: list[Phone]
    whereabouts_unknown: bool
    party: PartyMatch | None = None
    candidates: list[CandidateAddress] = Field(default_factory=list)
    expired_candidates: list[CandidateAddress] = Field(default_factory=list)
    consent: list[Consent] = Field(default_factory=list)


class NoticeOut(BaseModel):
    id: str
    court_id: str
    court_reference: str
    case_number: str
    earlier_case_numbers: list[str] = Field(default_factory=list)
    cause: str
    stage: Stage
    due_date: date
    received_at: datetime
    documents: list[Document]
    recipients: list[RecipientOut]
    lawyers: list[Lawyer] = Field(default_factory=list)


class BatchAccepted(BaseModel):
    batch_id: str


class CellErrorOut(BaseModel):
    """A refused value: the sheet, the Excel row and the column's header where it sits, the request field it fills, and why (in Chinese)."""

    sheet: str
    row: int
    column: str
    field: str
    message: str


class BatchRowOut(BaseModel):
    """One notice of a workbook, named by its first row: registered, a duplicate of one registered before, refused, or still pending."""

    sheet: str
    row: int
    court_reference: str
    status: Literal["pending", "registered", "duplicate", "refused"]
    notice_id: str | None
    errors: list[CellErrorOut]


class BatchOut(BaseModel):
    id: str
    court_id: str
    filename: str
    status: Literal["registering", "done"]
    total: int
    done: int
    registered: int
    duplicates: int
    refused: int
    created_at: datetime
    finished_at: datetime | None
    rows: list[BatchRowOut]
