"""The inputs of the state machine: what happened outside it, in the domain's words (providers' codes are mapped in their adapters)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from services.delivery.domain.state import Place
from shared.contracts.events import CandidateAddress, Consent, PostalStatus, ReturnReason, Signature, Transmission, Witness


class Failure(StrEnum):
    """What a failed message or call means for the plan; each provider's adapter maps its own codes onto these."""

    retry = "retry"  # the handset was unreachable: the same number later
    landline = "landline"  # not a mobile: call it instead
    unusable = "unusable"  # the number or mailbox does not exist: never again
    move_on = "move_on"  # no answer, busy, anything else: next step


class TaskOutcome(StrEnum):
    served = "served"
    refused = "refused"
    not_found = "not_found"
    moved = "moved"
    posted = "posted"


@dataclass(frozen=True)
class Accepted:
    """The provider took the message, call or booking under this reference."""

    attempt_id: str
    provider_ref: str


@dataclass(frozen=True)
class Arrived:
    """A message reached the recipient's system, or a call was answered."""

    attempt_id: str
    at: datetime
    record: Transmission | None = None


@dataclass(frozen=True)
class NotArrived:
    """A message or call failed: what it means for the plan, and the provider's last word and error code for the record."""

    attempt_id: str
    at: datetime
    status: str
    failure: Failure = Failure.move_on
    error_code: int | None = None
    record: Transmission | None = None


@dataclass(frozen=True)
class Acknowledged:
    """The recipient opened the e-delivery page and acknowledged the documents."""

    attempt_id: str
    at: datetime


@dataclass(frozen=True)
class Read:
    """The recipient opened the documents on the e-delivery page: the system's read report (OLR Art. 31(2))."""

    attempt_id: str
    at: datetime


@dataclass(frozen=True)
class Replied:
    """The recipient replied to the message (an SMS back, an e-mail answering it): it received the documents (OLR Art. 31(2))."""

    attempt_id: str
    at: datetime


@dataclass(frozen=True)
class TaskReported:
    """An agent's report of a visit or a posting; `evidence` maps each named item to its flags, None while unrecorded."""

    attempt_id: str
    at: datetime
    outcome: TaskOutcome
    agent_id: str
    signer: Signature | None = None
    witness: Witness | None = None
    evidence: dict[str, list[str] | None] = field(default_factory=dict)
    # The kinds of the named items evidence had already recorded (signature, photo, …).
    kinds: dict[str, str] = field(default_factory=dict)
    new_place: Place | None = None
    note: str | None = None


@dataclass(frozen=True)
class EvidenceChecked:
    """The evidence service recorded an item of a kind, with the flags its checks raised."""

    evidence_id: str
    flags: list[str]
    kind: str | None = None


@dataclass(frozen=True)
class EvidenceAccepted:
    """A supervisor accepted the held evidence despite its flags: the reported service counts."""

    by: str
    reason: str
    at: datetime


@dataclass(frozen=True)
class RevisitOrdered:
    """A supervisor refused the held evidence: the step is made again."""

    by: str
    reason: str
    at: datetime


@dataclass(frozen=True)
class PostalTrace:
    attempt_id: str
    at: datetime
    status: PostalStatus
    return_reason: ReturnReason | None = None
    detail: str | None = None


@dataclass(frozen=True)
class PostalReceipt:
    """The return receipt (回执) came back: who signed and the date they wrote on it."""

    attempt_id: str
    at: datetime
    signer: Signature
    signed_on: date


@dataclass(frozen=True)
class BookingRefused:
    attempt_id: str
    at: datetime
    reason: str


@dataclass(frozen=True)
class PublicationRecorded:
    """The court published the public notice on this day."""

    published_on: date
    at: datetime


@dataclass(frozen=True)
class AddressChanged:
    """The party confirmed (or changed in writing) its address and e-delivery consent."""

    address: CandidateAddress
    consent: list[Consent]


@dataclass(frozen=True)
class Tick:
    """Time passed: due times, retries and notice periods are checked."""


Input = (
    Accepted
    | Arrived
    | NotArrived
    | Acknowledged
    | Read
    | Replied
    | TaskReported
    | EvidenceChecked
    | EvidenceAccepted
    | RevisitOrdered
    | PostalTrace
    | PostalReceipt
    | BookingRefused
    | PublicationRecorded
    | AddressChanged
    | Tick
)
