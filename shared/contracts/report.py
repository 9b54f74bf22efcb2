"""DeliveryReport v1: what a 送达回证 carries plus the full attempt log, sealed by a hash and anchored to a signed log checkpoint."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.contracts.events import Channel, ConsentForm, Disposition, Document, EDeliveryChannel, Exhausted, Provenance, Review, ServiceMethod, Stage, Tier, Witness

FORMAT = "songda.delivery-report/v1"
# The part of a report its own hash leaves out: the hash itself and where the report sits in the log.
SEAL = "seal"


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Proof(_Part):
    """Where a log entry sits and the RFC 9162 inclusion proof from it to the report's checkpoint."""

    leaf_index: int
    # The entry exactly as logged (canonical JSON); its leaf hash is sha256(0x00 || entry as UTF-8).
    entry: str
    # Sibling hashes, hex, from the leaf up.
    path: list[str]


class EvidenceRef(_Part):
    """An item the report rests on: an uploaded file (photo, scan, audio) or a logged event (an SMS receipt, an EMS node)."""

    ref: str
    # An EvidenceKind, or `event` for a consumed event kept as its own receipt.
    kind: str
    sha256: str
    content_type: str | None = None
    size: int | None = None
    flags: list[str] = []
    recorded_at: AwareDatetime
    proof: Proof


class AttemptEntry(_Part):
    """One attempt, as the court needs it: the target masked, the outcome, who made it and what proves it."""

    sequence: int
    attempt_id: str
    tier: Tier
    channel: Channel
    target: str | None
    started_at: AwareDatetime
    ended_at: AwareDatetime | None
    # succeeded, failed, superseded (a parallel e-attempt stopped because another served first) or open (still running when the report was issued).
    result: str
    detail: str | None
    operator: str
    evidence: list[EvidenceRef]
    # What delivery noted about how the attempt was made (e.g. "reported_before_window"); left out of the JSON when there is none.
    remarks: list[str] = Field(default_factory=list, exclude_if=lambda remarks: not remarks)
    # The attempt whose service came first and stopped this one (OLR Art. 32); left out of the JSON unless superseded.
    superseded_by: str | None = Field(default=None, exclude_if=lambda attempt: attempt is None)


class DocumentOpening(_Part):
    """The recipient opened one of the served documents from the e-delivery page: which file, how, when, from which address, with which browser."""

    attempt_id: str
    # The document's sha256, as the report's documents list it.
    sha256: str
    title: str
    disposition: Disposition
    opened_at: AwareDatetime
    ip: str | None
    user_agent: str | None
    # The logged delivery.DocumentOpened, with its proof.
    receipt: EvidenceRef
    # The lawyer who opened it from the firm's inbox (a console username); absent when the holder of an e-delivery link did.
    by: str | None = Field(default=None, exclude_if=lambda by: by is None)


class Acknowledgement(_Part):
    """The documents acknowledged (签收) on the e-delivery page or from the firm's inbox: the certificate's acknowledgement with time, IP address and browser (OLR Art. 31)."""

    attempt_id: str
    at: AwareDatetime
    ip: str | None
    user_agent: str | None
    # The lawyer who acknowledged for the firm (a console username); absent when the holder of an e-delivery link did.
    by: str | None = Field(default=None, exclude_if=lambda by: by is None)
    # The logged delivery.DocumentsAcknowledged, with its proof.
    receipt: EvidenceRef


class ConsentUsed(_Part):
    """The consent an electronic service rests on (OLR Art. 29): its form, where it is written, and whether the address is the recipient's own (Art. 31)."""

    channel: EDeliveryChannel
    # Masked, as the attempts' targets are.
    address: str
    form: ConsentForm
    source: str | None
    source_case: str
    confirmed_on: date
    address_confirmed: bool


class LitigationAgent(_Part):
    """The recipient's lawyer, its litigation agent (CPL 88), and the firm it acts through."""

    name: str
    firm: str


class AddressUsed(_Part):
    """A candidate address of the recipient and where it came from (法发〔2017〕19号 Art. 8-9)."""

    text: str
    postcode: str | None
    rank: int
    provenance: list[Provenance]
    used: bool


class ChannelUsed(_Part):
    """A channel the recipient was tried on, masked, with the consent or source it rests on."""

    channel: Channel
    target: str | None
    basis: str | None
    # The consent's form and source (OLR Art. 29) and whether the recipient gave or confirmed the address (Art. 31), as the consent
    # states them; each is left out of the JSON at its default, so channels of consents recorded before forms were kept keep their JSON.
    form: ConsentForm = Field(default=ConsentForm.express, exclude_if=lambda form: form is ConsentForm.express)
    source: str | None = Field(default=None, exclude_if=lambda source: source is None)
    address_confirmed: bool = Field(default=True, exclude_if=lambda confirmed: confirmed)


class RecipientReport(_Part):
    """One recipient's service: what was tried, in order, and how (and whether) they were served."""

    recipient_id: str
    name: str
    kind: str
    role: str
    id_number: str | None
    addresses: list[AddressUsed]
    channels: list[ChannelUsed]
    attempts: list[AttemptEntry]
    served: bool
    # The attempt the service rests on (for a deemed postal service, the returned item).
    deciding_attempt_id: str | None
    method: ServiceMethod | None
    method_name: str | None
    service_date: date | None
    legal_basis: str | None
    deemed: bool | None
    served_at: AwareDatetime | None
    signer_name: str | None
    signer_role: str | None
    relation: str | None
    witness: Witness | None
    evidence: list[EvidenceRef]
    # Before a public notice, or when unserved: every method tried and why it failed (CPL 95).
    exhausted: list[Exhausted]
    # A supervisor accepted the service's evidence despite flags its checks raised. Left out of the JSON when there
    # is none, so a report without a review is byte for byte what it was before reviews existed (courts verify by hash).
    review: Review | None = Field(default=None, exclude_if=lambda review: review is None)
    # Every opening of a document on the e-delivery page, in log order; left out of the JSON when there is none, as the review is.
    openings: list[DocumentOpening] = Field(default_factory=list, exclude_if=lambda openings: not openings)
    # Each acknowledgement of the documents, in log order; left out of the JSON when there is none.
    acknowledgements: list[Acknowledgement] = Field(default_factory=list, exclude_if=lambda acknowledgements: not acknowledgements)
    # Why the law deems the recipient served, in Chinese (CPL 89, 专递规定 Art. 11, CPL 95, OLR Art. 31(2)); the next three keys are
    # likewise left out of the JSON when unset, as they are in the events.
    deemed_reason: str | None = Field(default=None, exclude_if=lambda reason: reason is None)
    # OLR Art. 31(2): presumed served on a read report to an address the recipient did not provide or confirm.
    presumed: bool = Field(default=False, exclude_if=lambda presumed: not presumed)
    consent: ConsentUsed | None = Field(default=None, exclude_if=lambda consent: consent is None)
    # The lawyer acting for the recipient (CPL 88); absent when it has none.
    lawyer: LitigationAgent | None = Field(default=None, exclude_if=lambda lawyer: lawyer is None)


class Checkpoint(_Part):
    """A signed statement of the evidence log's size and root (C2SP signed-note body, Ed25519)."""

    origin: str
    size: int
    root: str
    issued_at: AwareDatetime
    key_id: str
    public_key: str
    signature: str


class Seal(_Part):
    """The report's own hash (over everything but the seal) and the log entry that records it."""

    report_sha256: str
    leaf_index: int


class DeliveryReport(_Part):
    """The standardised delivery report (标准化送达报告) for one notice, in one version."""

    format: Literal["songda.delivery-report/v1"] = "songda.delivery-report/v1"
    report_id: str
    version: int
    previous_sha256: str | None
    notice_id: str
    court_id: str
    court_name: str
    court_reference: str
    case_number: str
    cause: str
    stage: Stage
    documents: list[Document]
    document_count: int
    registered_at: AwareDatetime
    completed_at: AwareDatetime | None
    overdue: bool
    issued_at: AwareDatetime
    # The delivery deadline (送达期限) as the notice stated it when this version was built; absent from reports built before it was kept.
    due_date: date | None = Field(default=None, exclude_if=lambda day: day is None)
    recipients: list[RecipientReport]
    checkpoint: Checkpoint
    seal: Seal


def canonical(document: Any) -> bytes:
    """Returns the canonical JSON bytes of a document: sorted keys, no spaces, UTF-8 — what every hash here is taken over."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def report_hash(document: dict[str, Any]) -> str:
    """Returns the sha256 of a report document without its seal, as hex."""
    return hashlib.sha256(canonical({key: value for key, value in document.items() if key != SEAL})).hexdigest()
