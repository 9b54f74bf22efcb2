"""What a delivery report states: assembled from a notice's logged events, decoded and upcast, and its uploaded items; no I/O."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.contracts import labels
from shared.contracts.envelope import Envelope
from shared.contracts.events import (
    AttemptFailed,
    AttemptStarted,
    AttemptSucceeded,
    AttemptSuperseded,
    Channel,
    Consent,
    ConsentForm,
    DispatchFailed,
    DocumentOpened,
    DocumentsAcknowledged,
    Exhausted,
    NoticeCompleted,
    NoticeRegistered,
    ReceiptReturned,
    Recipient,
    RecipientServed,
    RecipientUnserved,
    ServiceMethod,
    TaskAssigned,
    TrackingUpdated,
    WaybillCreated,
)
from shared.contracts.evidence import EvidenceKind
from shared.contracts.registry import Event, UnknownEvent, decode
from shared.contracts.report import (
    Acknowledgement,
    AddressUsed,
    AttemptEntry,
    ChannelUsed,
    Checkpoint,
    ConsentUsed,
    DeliveryReport,
    DocumentOpening,
    EvidenceRef,
    LitigationAgent,
    Proof,
    RecipientReport,
    Seal,
)
from shared.contracts.values import mask_id_number
from shared.plumbing.masking import mask_text

_REPORTS = uuid.UUID("6f1d3c1e-2b7a-4c55-9a43-5c0e7b1d2f60")

ENDS = (AttemptSucceeded, AttemptFailed, AttemptSuperseded)
CARRIER = (WaybillCreated, TrackingUpdated, ReceiptReturned, DispatchFailed)
# A consumed event that is itself a receipt of its attempt: the attempt's outcome (or its being superseded), the page's acknowledgement, the carrier's word.
RECEIPTS = (*ENDS, DocumentsAcknowledged, *CARRIER)
_CHANNEL_RECEIPT: dict[Channel, str] = {
    Channel.sms: EvidenceKind.sms_receipt,
    Channel.email: EvidenceKind.email_receipt,
    Channel.lawyer_firm: EvidenceKind.email_receipt,
    Channel.voice: EvidenceKind.call_record,
}


@dataclass(frozen=True)
class Logged:
    """A consumed event as logged: its envelope's id, the event, its digest, when it was logged, and its inclusion proof to the report's checkpoint."""

    ref: str
    event: Event
    sha256: str
    recorded_at: datetime
    proof: Proof


@dataclass(frozen=True)
class Uploaded:
    """An uploaded item as the report cites it, and the attempt it is about."""

    attempt_id: str | None
    ref: EvidenceRef


def read(envelope: dict[str, Any], *, sha256: str, recorded_at: datetime, proof: Proof) -> Logged | None:
    """Decodes a logged envelope as its event class, older versions upcast; None for a type or version this process does not know, which no report states."""
    parsed = Envelope.model_validate(envelope)
    try:
        event = decode(parsed)
    except UnknownEvent:
        return None
    return Logged(ref=str(parsed.id), event=event, sha256=sha256, recorded_at=recorded_at, proof=proof)


def report_id(notice_id: str) -> str:
    """Returns the report id of a notice, the same for every version."""
    return str(uuid.uuid5(_REPORTS, notice_id))


def assemble(*, events: Sequence[Logged], items: Sequence[Uploaded], checkpoint: Checkpoint, version: int, previous_sha256: str | None, now: datetime) -> DeliveryReport:
    """Builds the report (sealed later) from the notice's events in log order and its uploaded items."""
    notice = next(e.event for e in events if isinstance(e.event, NoticeRegistered))
    completed = next((e.event for e in reversed(events) if isinstance(e.event, NoticeCompleted)), None)
    tasks = {e.event.attempt_id: e.event.agent_id for e in events if isinstance(e.event, TaskAssigned)}
    return DeliveryReport(
        report_id=report_id(notice.notice_id),
        version=version,
        previous_sha256=previous_sha256,
        notice_id=notice.notice_id,
        court_id=notice.court_id,
        court_name=notice.court_name,
        court_reference=notice.court_reference,
        case_number=notice.case_number,
        cause=notice.cause,
        stage=notice.stage,
        documents=notice.documents,
        document_count=len(notice.documents),
        registered_at=notice.registered_at,
        completed_at=completed.completed_at if completed else None,
        overdue=bool(completed and completed.overdue),
        issued_at=now,
        due_date=notice.due_date,
        recipients=[_recipient(r, events=events, items=items, tasks=tasks) for r in notice.recipients],
        checkpoint=checkpoint,
        # Filled in once the body is hashed; the hash leaves the seal out.
        seal=Seal(report_sha256="", leaf_index=-1),
    )


def _recipient(recipient: Recipient, *, events: Sequence[Logged], items: Sequence[Uploaded], tasks: dict[str, str]) -> RecipientReport:
    mine = recipient.recipient_id
    attempt_ids = [e.event.attempt_id for e in events if isinstance(e.event, AttemptStarted) and e.event.recipient_id == mine]
    by_attempt: dict[str, list[Logged]] = {attempt: [] for attempt in attempt_ids}
    for e in events:
        if isinstance(e.event, (AttemptStarted, *RECEIPTS)) and e.event.attempt_id in by_attempt:
            by_attempt[e.event.attempt_id].append(e)
    attempts = [_attempt(n, by_attempt[a], items=[u.ref for u in items if u.attempt_id == a], operator=tasks.get(a)) for n, a in enumerate(attempt_ids, start=1)]
    served = next((e.event for e in reversed(events) if isinstance(e.event, RecipientServed) and e.event.recipient_id == mine), None)
    unserved = next((e.event for e in reversed(events) if isinstance(e.event, RecipientUnserved) and e.event.recipient_id == mine), None)
    signature = served.signature if served else None
    served_ids = set(served.evidence_ids) if served else set()
    used_targets = {a.target for a in attempts if a.target}
    return RecipientReport(
        recipient_id=recipient.recipient_id,
        name=recipient.name,
        kind=recipient.kind.value,
        role=recipient.role,
        id_number=mask_id_number(recipient.id_number) if recipient.id_number else None,
        addresses=[AddressUsed(text=c.text, postcode=c.postcode, rank=c.rank, provenance=c.provenance, used=mask_text(c.text) in used_targets) for c in recipient.candidates],
        channels=_channels(recipient, attempts),
        attempts=attempts,
        served=served is not None,
        deciding_attempt_id=served.attempt_id if served else None,
        method=served.method if served else None,
        method_name=labels.METHOD[served.method] if served else None,
        service_date=served.service_date if served else None,
        legal_basis=served.legal_basis if served else None,
        deemed=served.deemed if served else None,
        served_at=served.served_at if served else None,
        signer_name=signature.name if signature else None,
        signer_role=signature.role.value if signature else None,
        relation=signature.relation if signature else None,
        witness=served.witness if served else None,
        evidence=[u.ref for u in items if u.ref.ref in served_ids],
        exhausted=_exhausted(attempts, method=served.method if served else None, unserved=unserved),
        review=served.review if served else None,
        openings=[_opening(e, e.event) for e in events if isinstance(e.event, DocumentOpened) and e.event.recipient_id == mine],
        acknowledgements=[_acknowledgement(e, e.event) for e in events if isinstance(e.event, DocumentsAcknowledged) and e.event.recipient_id == mine],
        deemed_reason=served.deemed_reason if served else None,
        presumed=bool(served and served.presumed),
        consent=_consent(served.consent) if served and served.consent else None,
        lawyer=LitigationAgent(name=recipient.lawyer.name, firm=recipient.lawyer.firm) if recipient.lawyer else None,
    )


def _acknowledgement(logged: Logged, event: DocumentsAcknowledged) -> Acknowledgement:
    return Acknowledgement(attempt_id=event.attempt_id, at=event.at, ip=event.ip, user_agent=event.user_agent, by=event.by, receipt=_receipt(logged))


def _consent(consent: Consent) -> ConsentUsed:
    return ConsentUsed(
        channel=consent.channel,
        address=mask_text(consent.address),
        form=consent.form,
        source=consent.source,
        source_case=consent.source_case,
        confirmed_on=consent.confirmed_on,
        address_confirmed=consent.address_confirmed,
    )


def _opening(logged: Logged, event: DocumentOpened) -> DocumentOpening:
    return DocumentOpening(
        attempt_id=event.attempt_id,
        sha256=event.sha256,
        title=event.title,
        disposition=event.disposition,
        opened_at=event.opened_at,
        ip=event.ip,
        user_agent=event.user_agent,
        receipt=_receipt(logged),
        by=event.by,
    )


def _attempt(sequence: int, logged: list[Logged], *, items: list[EvidenceRef], operator: str | None) -> AttemptEntry:
    started = next(e.event for e in logged if isinstance(e.event, AttemptStarted))
    ended = next((e.event for e in reversed(logged) if isinstance(e.event, ENDS)), None)
    detail = ended.detail if isinstance(ended, AttemptSucceeded) else ended.reason if isinstance(ended, AttemptFailed) else None
    return AttemptEntry(
        sequence=sequence,
        attempt_id=started.attempt_id,
        tier=started.tier,
        channel=started.channel,
        target=mask_text(started.target) if started.target else None,
        started_at=started.started_at,
        ended_at=ended.at if ended else None,
        result=_result(ended),
        detail=mask_text(detail) if detail else None,
        operator=operator or _system_operator(started.channel, ended.record.provider if isinstance(ended, AttemptSucceeded | AttemptFailed) and ended.record else None),
        evidence=[_receipt(e) for e in logged if isinstance(e.event, RECEIPTS)] + items,
        remarks=list(ended.remarks) if isinstance(ended, AttemptSucceeded | AttemptFailed) else [],
        superseded_by=ended.by_attempt_id if isinstance(ended, AttemptSuperseded) else None,
    )


def _result(ended: Event | None) -> str:
    if ended is None:
        return "open"
    if isinstance(ended, AttemptSuperseded):
        return "superseded"
    return "succeeded" if isinstance(ended, AttemptSucceeded) else "failed"


def _receipt(logged: Logged) -> EvidenceRef:
    return EvidenceRef(ref=logged.ref, kind=_receipt_kind(logged.event), sha256=logged.sha256, recorded_at=logged.recorded_at, proof=logged.proof)


def _receipt_kind(event: Event) -> str:
    if isinstance(event, AttemptSuperseded):
        return "event"
    if isinstance(event, ENDS):
        return _CHANNEL_RECEIPT.get(event.channel, "event")
    if isinstance(event, DocumentsAcknowledged | DocumentOpened):
        return EvidenceKind.edelivery_receipt
    return EvidenceKind.ems_trace


def _system_operator(channel: Channel, provider: str | None) -> str:
    if channel is Channel.court_mail:
        return "EMS"
    if provider:
        return f"系统（{provider}）"
    return "系统"


def _channels(recipient: Recipient, attempts: list[AttemptEntry]) -> list[ChannelUsed]:
    consents: dict[tuple[str, str | None], Consent] = {(c.channel.value, mask_text(c.address)): c for c in recipient.consent}
    seen: dict[tuple[str, str | None], ChannelUsed] = {}
    for attempt in attempts:
        key = (attempt.channel.value, attempt.target)
        if key not in seen:
            consent = consents.get(key)
            if consent is None:
                seen[key] = ChannelUsed(channel=attempt.channel, target=attempt.target, basis=None)
                continue
            seen[key] = ChannelUsed(
                channel=attempt.channel,
                target=attempt.target,
                basis=_basis(consent),
                form=consent.form,
                source=consent.source,
                address_confirmed=consent.address_confirmed,
            )
    return list(seen.values())


def _basis(consent: Consent) -> str:
    """Names the document a consent rests on: a confirmation by its case and date, as before forms were kept, or the source it states."""
    if consent.form is ConsentForm.express and consent.source is None:
        return f"{consent.source_case} 送达地址确认书（{consent.confirmed_on.isoformat()}）"
    return consent.source or consent.source_case


def _exhausted(attempts: list[AttemptEntry], *, method: ServiceMethod | None, unserved: RecipientUnserved | None) -> list[Exhausted]:
    if unserved is not None:
        return unserved.exhausted
    # Before a public notice the court must see every method tried and why it failed (CPL 95; Interp. 138).
    if method is ServiceMethod.public_notice:
        return [
            Exhausted(tier=a.tier, channel=a.channel, target=a.target, reason=a.detail or "", at=a.ended_at) for a in attempts if a.result == "failed" and a.ended_at is not None
        ]
    return []
