"""A notice as intake keeps and announces it: built from a validated request with its own addresses ranked, and its NoticeRegistered."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from services.intake import domain
from services.intake.domain import AddressFact, CaseScope
from services.intake.models import IntakeNotice
from services.intake.resolution import Resolution
from shared.contracts.addresses import PostalAddress
from shared.contracts.casenumber import CaseNumber
from shared.contracts.events import AddressSource, Consent, GeoPoint, NoticeRegistered, Recipient, Stage
from shared.plumbing.clock import local_date


@dataclass(slots=True)
class NewNotice:
    """A notice being registered, as its intake_notice row will hold it."""

    # Not an IntakeNotice: building one through SQLModel's instrumentation cost ≈50 µs a notice, and a new notice is
    # written in bulk as a row, never through the session.
    id: str
    court_id: str
    court_reference: str
    court_name: str
    case_number: str
    case_key: str
    cause: str
    stage: str
    due_date: date
    received_at: datetime
    correlation_id: str
    fingerprint: str
    notice: dict[str, Any]

    def row(self) -> dict[str, Any]:
        """Returns its intake_notice row."""
        return {name: getattr(self, name) for name in self.__slots__}


# A notice as registration and its readers take it: one being registered, or one read back.
Notice = NewNotice | IntakeNotice


def unresolved_notice(payload: dict[str, Any], *, now: datetime) -> NewNotice:
    """Builds the stored notice with its ids, due date and fingerprint, its recipients not yet ranked (registration resolves them against the address book)."""
    case = CaseNumber.parse(payload["case_number"])
    return NewNotice(
        id=str(uuid.uuid4()),
        court_id=payload["court_id"],
        court_reference=payload["court_reference"],
        court_name=payload["court_name"],
        case_number=case.text,
        case_key=case.key,
        cause=payload["cause"],
        stage=payload["stage"],
        due_date=domain.due_date(local_date(now), court_due=optional_date(payload.get("due_date"))),
        received_at=now,
        correlation_id=str(uuid.uuid4()),
        fingerprint=domain.fingerprint(payload),
        notice={**payload, "recipients": [{"recipient_id": str(uuid.uuid4()), **r} for r in payload["recipients"]]},
    )


def case_scope(notice: Notice) -> CaseScope:
    """Returns the case a notice belongs to, with its earlier stages, and its stage."""
    earlier = {CaseNumber.parse(text).key for text in notice.notice.get("earlier_case_numbers", [])}
    return CaseScope(case_keys=frozenset({notice.case_key, *earlier}), stage=Stage(notice.stage))


def notice_facts(recipient: dict[str, Any], *, notice: Notice) -> list[AddressFact]:
    """Turns the addresses a notice gives for a recipient into facts; a dated one ages like any book entry."""
    received_on = local_date(notice.received_at)
    facts = []
    for address in recipient["addresses"]:
        case_number = address.get("source_case") or notice.case_number
        observed_on = optional_date(address.get("observed_on"))
        facts.append(
            AddressFact(
                address=PostalAddress.parse(address["text"]),
                source=AddressSource(address["source"]),
                postcode=address.get("postcode"),
                location=GeoPoint(**address["location"]) if address.get("location") else None,
                case_key=CaseNumber.parse(case_number).key,
                case_number=case_number,
                stage=Stage(notice.stage) if case_number == notice.case_number else None,
                observed_on=observed_on or received_on,
                on_notice=observed_on is None,
            )
        )
    return facts


def given_consent(recipient: dict[str, Any], *, notice: Notice) -> list[Consent]:
    """Returns the consents the notice itself gives for a recipient, dated the day the notice was received."""
    channels = (recipient.get("e_delivery") or {}).get("channels", [])
    on = local_date(notice.received_at)
    return [Consent.model_validate({**c, "source_case": notice.case_number, "confirmed_on": on}) for c in channels]


def merged_consent(*sources: list[Consent]) -> list[Consent]:
    """Returns one consent per channel and address, the earlier source winning: the notice's own, the firm's agreement, then the address book."""
    merged: dict[tuple[str, str], Consent] = {}
    for consents in sources:
        for consent in consents:
            merged.setdefault((consent.channel, consent.address), consent)
    return list(merged.values())


def resolved_fields(resolved: Resolution) -> dict[str, Any]:
    return {
        "party": resolved.match.model_dump(mode="json"),
        "candidates": [c.model_dump(mode="json") for c in resolved.candidates],
        "expired_candidates": [c.model_dump(mode="json") for c in resolved.expired],
        "consent": [c.model_dump(mode="json") for c in resolved.consent],
        "contacts": [c.model_dump(mode="json") for c in resolved.contacts],
    }


def optional_date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def registered_event(notice: Notice) -> NoticeRegistered:
    """Builds the event delivery and evidence consume."""
    data = notice.notice
    return NoticeRegistered(
        notice_id=notice.id,
        court_id=notice.court_id,
        court_name=notice.court_name,
        court_reference=notice.court_reference,
        case_number=notice.case_number,
        earlier_case_numbers=data.get("earlier_case_numbers", []),
        cause=notice.cause,
        stage=notice.stage,
        documents=data["documents"],
        recipients=[Recipient.model_validate(r) for r in data["recipients"]],
        due_date=notice.due_date,
        registered_at=notice.received_at,
    )
