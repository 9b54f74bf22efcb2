"""Intake's HTTP API: courts submit notices and read them back."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Response, status
from pydantic import BaseModel, ConfigDict, EmailStr, Field, ValidationInfo, field_validator

from services.intake import handlers
from services.intake.models import IntakeNotice
from shared.auth import Principal, Role, require
from shared.events import AddressSource, Document, GeoPoint, IdType, Lawyer, PartyKind, Stage
from shared.problems import Problem
from shared.runtime import RuntimeDep
from shared.values import Phone, PhoneNumber, validate_resident_id, validate_uscc

router = APIRouter(prefix="/v1", tags=["notices"])


class Strict(BaseModel):
    """Request models refuse unknown fields so a misspelt field is an error, not silently lost."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class DocumentIn(Strict):
    title: str = Field(min_length=1, max_length=200)
    kind: str = Field(min_length=1, max_length=64)
    pages: int = Field(ge=1, le=10000)
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")


class AddressIn(Strict):
    text: str = Field(min_length=4, max_length=300)
    postcode: str | None = Field(default=None, pattern=r"^\d{6}$")
    source: AddressSource = AddressSource.filing
    location: GeoPoint | None = None


class LawyerIn(Strict):
    name: str = Field(min_length=1, max_length=100)
    firm: str = Field(min_length=1, max_length=200)
    license_no: str | None = Field(default=None, max_length=64)
    email: EmailStr | None = None


class RecipientIn(Strict):
    name: str = Field(min_length=1, max_length=200)
    kind: PartyKind
    role: str = Field(min_length=1, max_length=64)
    id_type: IdType
    id_number: str = Field(min_length=1, max_length=64)
    phones: list[PhoneNumber] = Field(default_factory=list, max_length=10)
    emails: list[EmailStr] = Field(default_factory=list, max_length=10)
    addresses: list[AddressIn] = Field(default_factory=list, max_length=20)
    lawyer: LawyerIn | None = None
    designated_proxy: str | None = Field(default=None, max_length=200)
    whereabouts_unknown: bool = False

    @field_validator("id_number")
    @classmethod
    def _check_id_number(cls, value: str, info: ValidationInfo) -> str:
        id_type = info.data.get("id_type")
        if id_type is IdType.resident_id:
            return validate_resident_id(value)
        if id_type is IdType.uscc:
            return validate_uscc(value)
        return value


class NoticeIn(Strict):
    court_reference: str = Field(min_length=1, max_length=100)
    court_id: str = Field(pattern=r"^[A-Z0-9]{2,16}$")
    court_name: str = Field(min_length=2, max_length=100)
    case_number: str = Field(min_length=4, max_length=64)
    cause: str = Field(min_length=1, max_length=100)
    stage: Stage
    documents: list[Document] = Field(min_length=1, max_length=100)
    recipients: list[RecipientIn] = Field(min_length=1, max_length=50)
    due_date: date | None = None


class RecipientOut(BaseModel):
    recipient_id: str
    name: str
    kind: PartyKind
    role: str
    phones: list[Phone]
    whereabouts_unknown: bool


class NoticeOut(BaseModel):
    id: str
    court_id: str
    court_reference: str
    case_number: str
    cause: str
    stage: Stage
    due_date: date
    received_at: datetime
    documents: list[Document]
    recipients: list[RecipientOut]
    lawyers: list[Lawyer] = Field(default_factory=list)


CourtOrService = Annotated[Principal, Depends(require(Role.court, Role.service))]
Readers = Annotated[Principal, Depends(require(Role.court, Role.service, Role.supervisor, Role.auditor))]


@router.post(
    "/notices",
    status_code=status.HTTP_201_CREATED,
    response_model=NoticeOut,
    summary="Submit a notice to serve (idempotent on court_id + court_reference)",
    responses={200: {"description": "The same notice was submitted before; the first one is returned"}, 409: {"description": "The court reference was used for a different notice"}},
)
async def submit_notice(body: NoticeIn, response: Response, principal: CourtOrService, runtime: RuntimeDep) -> NoticeOut:
    """Validates and registers a notice, publishing intake.NoticeRegistered through the outbox."""
    if not principal.may_see(body.court_id):
        raise Problem(403, "Forbidden", f"A court may submit only its own notices; this token is for court {principal.sub}.")
    notice, created = await handlers.register_notice(runtime, body.model_dump(mode="json"))
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    response.headers["Location"] = f"/v1/notices/{notice.id}"
    return _view(notice)


@router.get("/notices/{notice_id}", response_model=NoticeOut, summary="Read a notice as registered")
async def read_notice(notice_id: str, principal: Readers, runtime: RuntimeDep) -> NoticeOut:
    """Returns the notice; a court sees only its own (others answer 404, never revealing they exist)."""
    notice = await handlers.find_notice(runtime, notice_id)
    if notice is None or not principal.may_see(notice.court_id):
        raise Problem(404, "Not found", f"No notice {notice_id}.")
    return _view(notice)


def _view(notice: IntakeNotice) -> NoticeOut:
    data = notice.notice
    return NoticeOut(
        id=notice.id,
        court_id=notice.court_id,
        court_reference=notice.court_reference,
        case_number=notice.case_number,
        cause=notice.cause,
        stage=Stage(notice.stage),
        due_date=notice.due_date,
        received_at=notice.received_at,
        documents=data["documents"],
        recipients=data["recipients"],
        lawyers=[r["lawyer"] for r in data["recipients"] if r.get("lawyer")],
    )
