"""Delivery reports: assembled from a notice's logged events and items, sealed, anchored to a checkpoint, reissued on late evidence."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.evidence import log
from services.evidence.models import EvidenceCourtHook, EvidenceCourtPush, EvidenceItem, EvidenceNotice, EvidenceReport, EvidenceTimelineEntry
from services.evidence.rendering import METHOD
from services.evidence.signer import Signer, present
from shared.contracts.events import NoticeRegistered, ReportIssued, ServiceMethod
from shared.contracts.evidence import EvidenceKind
from shared.contracts.report import AddressUsed, AttemptEntry, ChannelUsed, Checkpoint, DeliveryReport, EvidenceRef, Proof, RecipientReport, Seal, report_hash
from shared.contracts.topics import EVIDENCE_EVENTS
from shared.contracts.values import mask_id_number
from shared.plumbing import outbox
from shared.plumbing.masking import mask_text

SOURCE = "songda/evidence"
_REPORTS = uuid.UUID("6f1d3c1e-2b7a-4c55-9a43-5c0e7b1d2f60")

# A consumed event that is itself the receipt of an attempt, by event type (and channel for transmissions).
_RECEIPT_EVENTS = {
    "delivery.AttemptSucceeded",
    "delivery.AttemptFailed",
    "delivery.DocumentsAcknowledged",
    "carrier_gateway.WaybillCreated",
    "carrier_gateway.TrackingUpdated",
    "carrier_gateway.ReceiptReturned",
    "carrier_gateway.DispatchFailed",
}
_CHANNEL_RECEIPT = {"sms": EvidenceKind.sms_receipt, "email": EvidenceKind.email_receipt, "lawyer_firm": EvidenceKind.email_receipt, "voice": EvidenceKind.call_record}


@dataclass(frozen=True)
class Logged:
    """A timeline event as logged: the envelope, its leaf, and the inclusion proof to the report's checkpoint."""

    envelope: dict[str, Any]
    sha256: str
    recorded_at: datetime
    proof: Proof


def report_id(notice_id: str) -> str:
    """Returns the report id of a notice, the same for every version."""
    return str(uuid.uuid5(_REPORTS, notice_id))


def _event_kind(envelope: dict[str, Any]) -> str:
    kind = envelope["type"]
    data = envelope["data"]
    if kind in ("delivery.AttemptSucceeded", "delivery.AttemptFailed"):
        return _CHANNEL_RECEIPT.get(data.get("channel"), "event")
    if kind == "delivery.DocumentsAcknowledged":
        return EvidenceKind.edelivery_receipt
    if kind.startswith("carrier_gateway."):
        return EvidenceKind.ems_trace
    return "event"


def _event_ref(logged: Logged) -> EvidenceRef:
    return EvidenceRef(ref=logged.envelope["id"], kind=_event_kind(logged.envelope), sha256=logged.sha256, recorded_at=logged.recorded_at, proof=logged.proof)


def _item_ref(item: EvidenceItem, proof: Proof) -> EvidenceRef:
    return EvidenceRef(
        ref=item.id, kind=item.kind, sha256=item.sha256, content_type=item.content_type, size=item.size, flags=list(item.flags), recorded_at=item.recorded_at, proof=proof
    )


def assemble(
    *,
    events: Sequence[Logged],
    items: Sequence[tuple[EvidenceItem, Proof]],
    checkpoint: Checkpoint,
    version: int,
    previous_sha256: str | None,
    now: datetime,
) -> DeliveryReport:
    """Builds the report (sealed later) from the notice's events in log order and its uploaded items."""
    registered = next(e for e in events if e.envelope["type"] == "intake.NoticeRegistered")
    notice = NoticeRegistered.model_validate(registered.envelope["data"])
    completed = next((e.envelope["data"] for e in reversed(events) if e.envelope["type"] == "delivery.NoticeCompleted"), None)
    tasks = {e.envelope["data"]["attempt_id"]: e.envelope["data"]["agent_id"] for e in events if e.envelope["type"] == "delivery.TaskAssigned"}
    recipients = [_recipient(r, events=events, items=items, tasks=tasks) for r in notice.recipients]
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
        completed_at=completed["completed_at"] if completed else None,
        overdue=bool(completed and completed["overdue"]),
        issued_at=now,
        recipients=recipients,
        checkpoint=checkpoint,
        # Filled in once the body is hashed; the hash leaves the seal out.
        seal=Seal(report_sha256="", leaf_index=-1),
    )


def _recipient(recipient: Any, *, events: Sequence[Logged], items: Sequence[tuple[EvidenceItem, Proof]], tasks: dict[str, str]) -> RecipientReport:
    mine = [e for e in events if e.envelope["data"].get("recipient_id") == recipient.recipient_id]
    attempt_ids = [e.envelope["data"]["attempt_id"] for e in mine if e.envelope["type"] == "delivery.AttemptStarted"]
    by_attempt: dict[str, list[Logged]] = {attempt: [] for attempt in attempt_ids}
    for e in events:
        attempt = e.envelope["data"].get("attempt_id")
        if attempt in by_attempt:
            by_attempt[attempt].append(e)
    attempts = [_attempt(n, by_attempt[a], items=[(i, p) for i, p in items if i.attempt_id == a], operator=tasks.get(a)) for n, a in enumerate(attempt_ids, start=1)]
    served = next((e.envelope["data"] for e in reversed(mine) if e.envelope["type"] == "delivery.RecipientServed"), None)
    unserved = next((e.envelope["data"] for e in reversed(mine) if e.envelope["type"] == "delivery.RecipientUnserved"), None)
    served_ids = set(served.get("evidence_ids", [])) if served else set()
    used_targets = {a.target for a in attempts if a.target}
    method = ServiceMethod(served["method"]) if served else None
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
        deciding_attempt_id=served.get("attempt_id") if served else None,
        method=method,
        method_name=METHOD[method] if method else None,
        service_date=served["service_date"] if served else None,
        legal_basis=served["legal_basis"] if served else None,
        deemed=served["deemed"] if served else None,
        served_at=served["served_at"] if served else None,
        signer_name=served.get("signer_name") if served else None,
        signer_role=served.get("signer_role") if served else None,
        relation=served.get("relation") if served else None,
        witness=served.get("witness") if served else None,
        evidence=[_item_ref(i, p) for i, p in items if i.id in served_ids],
        exhausted=_exhausted(attempts, method=method, unserved=unserved),
    )


def _attempt(sequence: int, logged: list[Logged], *, items: list[tuple[EvidenceItem, Proof]], operator: str | None) -> AttemptEntry:
    started = next(e.envelope["data"] for e in logged if e.envelope["type"] == "delivery.AttemptStarted")
    ended = next((e.envelope for e in reversed(logged) if e.envelope["type"] in ("delivery.AttemptSucceeded", "delivery.AttemptFailed")), None)
    result = "open" if ended is None else ("succeeded" if ended["type"] == "delivery.AttemptSucceeded" else "failed")
    detail = None if ended is None else ended["data"].get("detail") or ended["data"].get("reason")
    record = ended["data"].get("record") if ended else None
    return AttemptEntry(
        sequence=sequence,
        attempt_id=started["attempt_id"],
        tier=started["tier"],
        channel=started["channel"],
        target=mask_text(started["target"]) if started.get("target") else None,
        started_at=started["started_at"],
        ended_at=ended["data"]["at"] if ended else None,
        result=result,
        detail=mask_text(detail) if detail else None,
        operator=operator or _system_operator(started["channel"], record),
        evidence=[_event_ref(e) for e in logged if e.envelope["type"] in _RECEIPT_EVENTS] + [_item_ref(i, p) for i, p in items],
    )


def _system_operator(channel: str, record: dict[str, Any] | None) -> str:
    if channel == "court_mail":
        return "EMS"
    if record and record.get("provider"):
        return f"系统（{record['provider']}）"
    return "系统"


def _channels(recipient: Any, attempts: list[AttemptEntry]) -> list[ChannelUsed]:
    consents: dict[tuple[str, str | None], str] = {
        (c.channel.value, mask_text(c.address)): f"{c.source_case} 送达地址确认书（{c.confirmed_on.isoformat()}）" for c in recipient.consent
    }
    seen: dict[tuple[str, str | None], ChannelUsed] = {}
    for attempt in attempts:
        key = (attempt.channel.value, attempt.target)
        if key not in seen:
            seen[key] = ChannelUsed(channel=attempt.channel, target=attempt.target, basis=consents.get(key))
    return list(seen.values())


def _exhausted(attempts: list[AttemptEntry], *, method: ServiceMethod | None, unserved: dict[str, Any] | None) -> list[Any]:
    if unserved is not None:
        return unserved["exhausted"]
    # Before a public notice the court must see every method tried and why it failed (CPL 95; Interp. 138).
    if method is ServiceMethod.public_notice:
        return [
            {"tier": a.tier, "channel": a.channel, "target": a.target, "reason": a.detail or "", "at": a.ended_at}
            for a in attempts
            if a.result == "failed" and a.ended_at is not None
        ]
    return []


async def latest(session: AsyncSession, notice_id: str) -> EvidenceReport | None:
    """Returns the newest version of a notice's report."""
    statement = select(EvidenceReport).where(EvidenceReport.notice_id == notice_id).order_by(col(EvidenceReport.version).desc()).limit(1)
    return (await session.exec(statement)).first()


async def after_entry(session: AsyncSession, *, signer: Signer, notice_id: str, completed: bool, now: datetime) -> EvidenceReport | None:
    """Issues the first report when delivery completes the notice, and a new version for anything logged about it afterwards."""
    previous = await latest(session, notice_id)
    if previous is None and not completed:
        return None
    return await issue(session, signer=signer, notice_id=notice_id, previous=previous, now=now)


async def issue(session: AsyncSession, *, signer: Signer, notice_id: str, previous: EvidenceReport | None, now: datetime) -> EvidenceReport:
    """Assembles, seals and stores the next version, logs its hash, publishes ReportIssued and queues the court's push."""
    checkpoint = await log.checkpoint(session, signer, now=now)
    timeline = (await session.exec(select(EvidenceTimelineEntry).where(EvidenceTimelineEntry.notice_id == notice_id).order_by(col(EvidenceTimelineEntry.log_index)))).all()
    uploaded = (await session.exec(select(EvidenceItem).where(EvidenceItem.notice_id == notice_id).order_by(col(EvidenceItem.leaf_index)))).all()
    indices = [t.log_index for t in timeline] + [i.leaf_index for i in uploaded]
    paths = await log.inclusions(session, indices, checkpoint.size)
    texts = await log.entries(session, indices)

    def proof(index: int) -> Proof:
        return Proof(leaf_index=index, entry=texts[index].entry, path=[p.hex() for p in paths[index]])

    version = previous.version + 1 if previous else 1
    body = assemble(
        events=[Logged(envelope=t.envelope, sha256=t.sha256, recorded_at=t.recorded_at, proof=proof(t.log_index)) for t in timeline],
        items=[(i, proof(i.leaf_index)) for i in uploaded],
        checkpoint=present(checkpoint),
        version=version,
        previous_sha256=previous.sha256 if previous else None,
        now=now,
    )
    document = body.model_dump(mode="json")
    sha256 = report_hash(document)
    entry = {"type": "report", "report_id": body.report_id, "notice_id": notice_id, "version": version, "sha256": sha256}
    leaf = await log.append(session, entry, kind="report", ref=f"{body.report_id}/{version}", notice_id=notice_id, now=now)
    document["seal"] = Seal(report_sha256=sha256, leaf_index=leaf).model_dump(mode="json")
    report = EvidenceReport(
        notice_id=notice_id, version=version, report_id=body.report_id, court_id=body.court_id, sha256=sha256, document=document, covers=checkpoint.size, issued_at=now
    )
    session.add(report)
    notice = await session.get(EvidenceNotice, notice_id)
    issued = ReportIssued(notice_id=notice_id, report_id=body.report_id, version=version, court_id=body.court_id, sha256=sha256, checkpoint_size=checkpoint.size, issued_at=now)
    envelope = issued.envelope(source=SOURCE, subject=notice_id, time=now, correlationid=notice.correlation_id if notice else notice_id)
    outbox.add(session, envelope, topic=EVIDENCE_EVENTS, now=now)
    if await session.get(EvidenceCourtHook, body.court_id) is not None:
        session.add(EvidenceCourtPush(notice_id=notice_id, version=version, court_id=body.court_id, status="pending", next_try_at=now))
    return report
