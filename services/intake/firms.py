"""The firm registry: law firms' standing agreements with courts to be served electronically, kept by supervisors (OLR Art. 29(2))."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.intake.courts import COURT_ID
from services.intake.domain import FirmAgreement
from services.intake.models import IntakeFirm
from shared.contracts.values import EmailAddress, validate_uscc
from shared.plumbing.auth import Principal, Role
from shared.plumbing.problems import Problem, validation_problem

CourtIdText = Annotated[str, Field(pattern=COURT_ID)]


class AgreementIn(BaseModel):
    """The signed agreement as filed with evidence (POST /v1/evidence, kind firm_agreement)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    evidence_id: str = Field(min_length=1, max_length=64, description="The evidence item the signed agreement was filed as")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="The file's hash, as evidence recorded it")


class FirmIn(BaseModel):
    """A firm as a supervisor registers it: where it is served, the agreement, the courts it covers and for how long."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=2, max_length=200, description="The firm's registered name, as the report gives it")
    email: EmailAddress = Field(description="The firm's e-delivery mailbox the agreement names")
    inbox: bool = Field(default=True, description="Whether the firm also reads its inbox on the e-delivery page (its account is its USCC)")
    agreement: AgreementIn
    court_ids: list[CourtIdText] = Field(default_factory=list, max_length=200, description="The courts the agreement covers; none: it serves nothing yet")
    valid_from: date
    valid_to: date

    @field_validator("court_ids")
    @classmethod
    def _once_each(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("a court is listed twice")
        return value

    @field_validator("valid_to")
    @classmethod
    def _after_start(cls, value: date, info: ValidationInfo) -> date:
        start = info.data.get("valid_from")
        if start is not None and value < start:
            raise ValueError(f"the agreement ends before it starts ({start})")
        return value


class FirmOut(FirmIn):
    uscc: str
    updated_at: datetime
    updated_by: str


def checked_uscc(value: str) -> str:
    """Returns the USCC of a path in its normal form, or refuses it naming the field."""
    try:
        return validate_uscc(value)
    except ValueError as exc:
        raise validation_problem([{"loc": ("path", "uscc"), "msg": str(exc), "type": "value_error"}]) from None


def sees(principal: Principal, firm: IntakeFirm) -> bool:
    """Tells whether the caller reads a firm: overseers every one, a lawyer its own firm, a court a firm whose agreement covers it."""
    if principal.role in (Role.supervisor, Role.auditor, Role.service):
        return True
    if principal.role is Role.lawyer:
        return principal.sub == firm.uscc
    return principal.role is Role.court and principal.sub in firm.court_ids


def missing(uscc: str) -> Problem:
    """The answer for a firm that is not registered, and for one the caller may not see: the same."""
    return Problem(404, "Not found", f"No firm {uscc}.")


async def find(session: AsyncSession, uscc: str) -> IntakeFirm | None:
    """Returns a registered firm."""
    return await session.get(IntakeFirm, uscc)


async def every(session: AsyncSession) -> list[IntakeFirm]:
    """Returns every registered firm, by name."""
    return list((await session.exec(select(IntakeFirm).order_by(col(IntakeFirm.name), col(IntakeFirm.uscc)))).all())


async def put(session: AsyncSession, uscc: str, body: FirmIn, *, by: str, now: datetime) -> tuple[IntakeFirm, bool]:
    """Registers a firm or replaces its entry; returns it and whether it is new."""
    # Locked first, so two supervisors replacing the same entry at once write one after the other.
    existing = await session.get(IntakeFirm, uscc, with_for_update=True)
    entry = IntakeFirm(
        uscc=uscc,
        name=body.name,
        email=str(body.email),
        inbox=body.inbox,
        agreement_evidence_id=body.agreement.evidence_id,
        agreement_sha256=body.agreement.sha256,
        court_ids=list(body.court_ids),
        valid_from=body.valid_from,
        valid_to=body.valid_to,
        updated_at=now,
        updated_by=by,
    )
    firm = await session.merge(entry)
    created = existing is None
    return firm, created


def agreement_of(firm: IntakeFirm) -> FirmAgreement:
    """Returns what the rule of service through a firm needs to know of a registry entry."""
    return FirmAgreement(
        uscc=firm.uscc,
        name=firm.name,
        email=firm.email,
        court_ids=frozenset(firm.court_ids),
        valid_from=firm.valid_from,
        valid_to=firm.valid_to,
        evidence_id=firm.agreement_evidence_id,
    )


def view(firm: IntakeFirm) -> FirmOut:
    """Returns a registry entry as the API shows it."""
    return FirmOut(
        uscc=firm.uscc,
        name=firm.name,
        email=firm.email,
        inbox=firm.inbox,
        agreement=AgreementIn(evidence_id=firm.agreement_evidence_id, sha256=firm.agreement_sha256),
        court_ids=firm.court_ids,
        valid_from=firm.valid_from,
        valid_to=firm.valid_to,
        updated_at=firm.updated_at,
        updated_by=firm.updated_by,
    )
