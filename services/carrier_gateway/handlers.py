"""The carrier gateway's use cases: queue an item, book it, apply EMS's nodes from a push or a poll, take a receipt's scan into evidence, read a waybill."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.carrier_gateway import access, domain
from services.carrier_gateway.adapters.ems import mapper
from services.carrier_gateway.adapters.ems.client import CarrierUnavailable, ScanNotReady
from services.carrier_gateway.adapters.ems.mapper import Booked, CarrierRejected, Node
from services.carrier_gateway.adapters.evidence import EvidenceRefused, EvidenceUnavailable
from services.carrier_gateway.deps import CarrierGatewayDeps
from services.carrier_gateway.models import Booking, CarrierItem, CarrierTrace, ScanState
from shared.contracts.ems_wire import Answer, Trace
from shared.contracts.events import DispatchFailed, DispatchPostalItem, ReceiptReturned, WaybillCreated
from shared.contracts.registry import Event
from shared.contracts.topics import CARRIER_GATEWAY_EVENTS
from shared.plumbing import audit, ledger, outbox
from shared.plumbing.auth import Principal
from shared.plumbing.consumer import MessageContext
from shared.plumbing.db import insert_ignoring_duplicates

log = structlog.get_logger(__name__)

SOURCE = "songda/carrier_gateway"


def _emit(session: AsyncSession, event: Event, *, item: CarrierItem, now: datetime) -> None:
    """Stages an event about an item in this transaction's outbox, caused by the command that booked it."""
    envelope = event.envelope(source=SOURCE, subject=item.notice_id, time=now, correlationid=item.correlation_id, causationid=item.command_id)
    outbox.add(session, envelope, topic=CARRIER_GATEWAY_EVENTS, now=now)


# --- Delivery's commands ------------------------------------------------------------------------


async def queue_item(deps: CarrierGatewayDeps, *, message: MessageContext, event: DispatchPostalItem) -> None:
    """Queues the item for booking; a redelivered command finds it queued already and adds nothing."""
    now = message.clock.now()
    queued = insert_ignoring_duplicates(message.session, CarrierItem).values(
        attempt_id=event.attempt_id,
        notice_id=event.notice_id,
        recipient_id=event.recipient_id,
        correlation_id=message.envelope.correlationid,
        command_id=str(message.envelope.id),
        command=event.model_dump(mode="json"),
        booking=Booking.pending,
        tries=0,
        next_try_at=now,
        closed=False,
        created_at=now,
        updated_at=now,
    )
    await message.session.exec(queued)


# --- Booking ------------------------------------------------------------------------------------


async def book_item(deps: CarrierGatewayDeps, *, item: CarrierItem) -> None:
    """Books one item through the side-effect ledger and records the answer: its waybill, EMS's refusal, or another try later."""
    payload = mapper.booking_payload(DispatchPostalItem.model_validate(item.command), sender=deps.sender)

    async def create() -> dict:
        return (await deps.ems.create_waybill(payload)).model_dump()

    try:
        # EMS answers the same waybill for the same logisticsOrderNo, so asking again is how an unknown outcome is reconciled.
        answer = await ledger.perform(deps.db, key=f"ems:book:{item.attempt_id}", kind="ems_booking", clock=deps.clock, call=create, reconcile=create)
        outcome = mapper.booking_outcome(Answer.model_validate(answer))
    except CarrierRejected as exc:
        log.error("ems.booking_rejected", attempt_id=item.attempt_id, code=exc.code)
        await _book_later(deps, item.attempt_id, error=str(exc), after=domain.REJECTED_RETRY)
        return
    except CarrierUnavailable as exc:
        log.warning("ems.booking_retry", attempt_id=item.attempt_id, tries=item.tries + 1, error=str(exc))
        await _book_later(deps, item.attempt_id, error=str(exc), after=domain.booking_backoff(item.tries + 1))
        return
    now = deps.clock.now()
    async with deps.db.transaction() as session:
        row = (await session.exec(select(CarrierItem).where(CarrierItem.attempt_id == item.attempt_id).with_for_update())).one()
        if row.booking != Booking.pending:
            return
        if isinstance(outcome, Booked):
            row.booking, row.waybill_no = Booking.booked, outcome.waybill_no
            _emit(session, WaybillCreated(notice_id=row.notice_id, attempt_id=row.attempt_id, waybill_no=outcome.waybill_no, created_at=now), item=row, now=now)
            log.info("ems.booked", attempt_id=row.attempt_id, waybill_no=outcome.waybill_no)
        else:
            row.booking, row.last_error = Booking.refused, f"{outcome.code} {outcome.reason}"
            _emit(session, DispatchFailed(notice_id=row.notice_id, attempt_id=row.attempt_id, reason=outcome.reason or outcome.code, at=now), item=row, now=now)
            log.info("ems.booking_refused", attempt_id=row.attempt_id, code=outcome.code)
        row.next_try_at, row.updated_at = None, now
        session.add(row)


async def _book_later(deps: CarrierGatewayDeps, attempt_id: str, *, error: str, after: timedelta) -> None:
    async with deps.db.transaction() as session:
        row = await session.get(CarrierItem, attempt_id)
        if row is None or row.booking != Booking.pending:
            return
        row.tries += 1
        row.last_error = error[:500]
        row.next_try_at = deps.clock.now() + after
        row.updated_at = deps.clock.now()
        session.add(row)


# --- Tracking -----------------------------------------------------------------------------------


@dataclass
class Applied:
    """What one push or poll changed."""

    new: int = 0
    repeated: int = 0
    unknown: int = 0


async def record_push(deps: CarrierGatewayDeps, *, traces: Sequence[Trace]) -> Applied:
    """Applies the nodes EMS pushed; raises WireError before the commit, so a push with one unreadable time writes nothing."""
    async with deps.db.transaction() as session:
        return await apply_traces(session, traces, source="push", now=deps.clock.now())


async def poll_item(deps: CarrierGatewayDeps, *, attempt_id: str, waybill_no: str) -> int:
    """Asks EMS (040001) for every node of a quiet item and applies those not seen yet; returns how many were new."""
    envelope = await deps.ems.track(waybill_no)
    async with deps.db.transaction() as session:
        applied = await apply_traces(session, mapper.traces(envelope), source="poll", now=deps.clock.now())
        item = await session.get(CarrierItem, attempt_id)
        if item is not None:
            item.polled_at = deps.clock.now()
            session.add(item)
    if applied.new:
        log.info("ems.poll_recovered", attempt_id=attempt_id, nodes=applied.new)
    return applied.new


async def apply_traces(session: AsyncSession, traces: Sequence[Trace], *, source: str, now: datetime) -> Applied:
    """Records each node not seen before and tells delivery about it; returns how many were new, repeated, or for waybills we never booked."""
    applied = Applied()
    # Within one push, journey order, so the events go out in the order things happened.
    nodes = sorted(((mapper.node(trace), trace) for trace in traces), key=lambda pair: (pair[0].op_time, pair[0].attempt or 0))
    for current, trace in nodes:
        item = (await session.exec(select(CarrierItem).where(CarrierItem.waybill_no == current.waybill_no).with_for_update())).first()
        if item is None:
            applied.unknown += 1
            continue
        claim = insert_ignoring_duplicates(session, CarrierTrace).values(
            waybill_no=trace.waybill_no,
            op_code=trace.op_code,
            op_time=trace.op_time,
            attempt_id=item.attempt_id,
            status=current.status.value,
            raw=trace.wire(),
            source=source,
            received_at=now,
        )
        if (await session.exec(claim)).rowcount != 1:
            applied.repeated += 1
            continue
        applied.new += 1
        _advance(session, item, current, trace, now=now)
    return applied


def _advance(session: AsyncSession, item: CarrierItem, new: Node, trace: Trace, *, now: datetime) -> None:
    before = mapper.node(Trace.model_validate(item.current)) if item.current else None
    latest = mapper.supersedes(before, new)
    if latest:
        item.current, item.status = trace.wire(), new.status.value
        item.closed = new.status in domain.CLOSING
    item.last_node_at = max(filter(None, (item.last_node_at, new.op_time)))
    _emit(session, mapper.tracking(new, notice_id=item.notice_id, attempt_id=item.attempt_id).model_copy(update={"latest": latest}), item=item, now=now)
    returned = mapper.receipt(new, notice_id=item.notice_id, attempt_id=item.attempt_id)
    if returned is not None and item.receipt_at is None:
        # One receipt per item: the first 801 read is the one the court's service date rests on (CPL 91).
        # It goes out with its scan as evidence, which takes HTTP calls: the scanner fetches, uploads and emits it.
        item.receipt_at = new.op_time
        item.receipt = returned.model_dump(mode="json")
        item.scan, item.scan_tries, item.scan_next_at = ScanState.pending, 0, now
    item.updated_at = now
    session.add(item)


# --- Receipt scans ------------------------------------------------------------------------------


async def collect_scan(deps: CarrierGatewayDeps, *, item: CarrierItem) -> None:
    """Fetches one item's receipt scan and uploads it to evidence, then emits the receipt; a failure schedules another try or, at the last, gives up."""
    returned = ReceiptReturned.model_validate(item.receipt)
    try:
        image, content_type = await deps.ems.receipt_scan(returned.waybill_no)
        # Keyed by the attempt: after a crash before the commit below, the upload is repeated and evidence answers the same id.
        evidence_id = await deps.evidence.upload_receipt_scan(
            image, content_type=content_type, notice_id=item.notice_id, attempt_id=item.attempt_id, recipient_id=item.recipient_id, waybill_no=returned.waybill_no
        )
    except EvidenceRefused as exc:
        log.error("ems.receipt_scan_refused", attempt_id=item.attempt_id, status=exc.status, detail=exc.detail)
        await _scan_later(deps, item.attempt_id, error=str(exc), last=True)
        return
    except ScanNotReady as exc:
        log.info("ems.receipt_scan_not_ready", attempt_id=item.attempt_id, tries=item.scan_tries + 1)
        await _scan_later(deps, item.attempt_id, error=str(exc))
        return
    except (CarrierUnavailable, CarrierRejected, EvidenceUnavailable) as exc:
        log.warning("ems.receipt_scan_retry", attempt_id=item.attempt_id, tries=item.scan_tries + 1, error=str(exc))
        await _scan_later(deps, item.attempt_id, error=str(exc))
        return
    now = deps.clock.now()
    async with deps.db.transaction() as session:
        row = await _scan_pending(session, item.attempt_id)
        if row is not None:
            _release(session, row, evidence_id=evidence_id, now=now)
            log.info("ems.receipt_scan_stored", attempt_id=row.attempt_id, evidence_id=evidence_id)


async def _scan_later(deps: CarrierGatewayDeps, attempt_id: str, *, error: str, last: bool = False) -> None:
    """Counts a failed try and schedules the next, or, at the last try, lets the receipt go out without a scan."""
    now = deps.clock.now()
    async with deps.db.transaction() as session:
        row = await _scan_pending(session, attempt_id)
        if row is None:
            return
        row.scan_tries += 1
        row.scan_error = error[:500]
        if last or deps.scans.exhausted(row.scan_tries):
            # The receipt's date is the service date (CPL 91): it is not held back for want of a picture.
            log.warning("ems.receipt_scan_missing", attempt_id=attempt_id, tries=row.scan_tries, error=error)
            _release(session, row, evidence_id=None, now=now)
            return
        row.scan_next_at = now + deps.scans.wait(row.scan_tries)
        row.updated_at = now
        session.add(row)


async def _scan_pending(session: AsyncSession, attempt_id: str) -> CarrierItem | None:
    """Returns the item locked for this transaction while its scan is still pending; another worker may have settled it."""
    row = (await session.exec(select(CarrierItem).where(CarrierItem.attempt_id == attempt_id).with_for_update())).first()
    return row if row is not None and row.scan == ScanState.pending else None


def _release(session: AsyncSession, row: CarrierItem, *, evidence_id: str | None, now: datetime) -> None:
    """Emits the item's one ReceiptReturned, with the scan's evidence id when there is one, and settles the scan."""
    returned = ReceiptReturned.model_validate({**(row.receipt or {}), "scan_evidence_id": evidence_id})
    _emit(session, returned, item=row, now=now)
    row.scan = ScanState.stored if evidence_id else ScanState.missing
    row.scan_evidence_id, row.scan_next_at, row.updated_at = evidence_id, None, now
    session.add(row)


# --- Reads --------------------------------------------------------------------------------------


async def read_waybill(deps: CarrierGatewayDeps, *, principal: Principal, waybill_no: str) -> tuple[CarrierItem, list[CarrierTrace]]:
    """Returns the item and every node received for it by time to a caller who reaches it (another court's answers as missing); an overseer's read is audited."""
    async with deps.db.transaction() as session:
        item = (await session.exec(select(CarrierItem).where(CarrierItem.waybill_no == waybill_no))).first()
        if item is None or not access.reaches(principal, item):
            raise access.missing_waybill(waybill_no)
        if principal.audited:
            audit.record(session, principal, action="waybill.read", target=waybill_no, now=deps.clock.now())
        rows = (await session.exec(select(CarrierTrace).where(CarrierTrace.waybill_no == waybill_no).order_by(col(CarrierTrace.op_time)))).all()
    return item, list(rows)
