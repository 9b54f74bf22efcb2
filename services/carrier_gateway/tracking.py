"""EMS nodes applied to court-mail items, from pushes and polls alike: each node once, the current node only forward."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.carrier_gateway.adapters.ems.mapper import Node, node, receipt, supersedes, tracking
from services.carrier_gateway.models import CarrierItem, CarrierTrace, ScanState
from shared.contracts.ems_wire import Trace
from shared.contracts.events import PostalStatus
from shared.contracts.registry import Event
from shared.contracts.topics import CARRIER_GATEWAY_EVENTS
from shared.plumbing import outbox
from shared.plumbing.db import insert_ignoring_duplicates, table_of

SOURCE = "songda/carrier_gateway"
# The item's journey ends here: back at the court with its receipt, or back at the court unserved.
CLOSING = frozenset({PostalStatus.receipt_returned, PostalStatus.returned})


@dataclass
class Applied:
    """What one push or poll changed."""

    new: int = 0
    repeated: int = 0
    unknown: int = 0


def emit(session: AsyncSession, event: Event, *, item: CarrierItem, now: datetime) -> None:
    """Stages an event about an item in this transaction's outbox, caused by the command that booked it."""
    envelope = event.envelope(source=SOURCE, subject=item.notice_id, time=now, correlationid=item.correlation_id, causationid=item.command_id)
    outbox.add(session, envelope, topic=CARRIER_GATEWAY_EVENTS, now=now)


async def apply_traces(session: AsyncSession, traces: Sequence[Trace], *, source: str, now: datetime) -> Applied:
    """Records each node not seen before and tells delivery about it; returns how many were new, repeated, or for waybills we never booked."""
    applied = Applied()
    # Within one push, journey order, so the events go out in the order things happened.
    nodes = sorted(((node(trace), trace) for trace in traces), key=lambda pair: (pair[0].op_time, pair[0].attempt or 0))
    for current, trace in nodes:
        item = (await session.exec(select(CarrierItem).where(CarrierItem.waybill_no == current.waybill_no).with_for_update())).first()
        if item is None:
            applied.unknown += 1
            continue
        claim = insert_ignoring_duplicates(session, table_of(CarrierTrace)).values(
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
    before = node(Trace.model_validate(item.current)) if item.current else None
    latest = supersedes(before, new)
    if latest:
        item.current, item.status = trace.wire(), new.status.value
        item.closed = new.status in CLOSING
    item.last_node_at = max(filter(None, (item.last_node_at, new.op_time)))
    emit(session, tracking(new, notice_id=item.notice_id, attempt_id=item.attempt_id).model_copy(update={"latest": latest}), item=item, now=now)
    returned = receipt(new, notice_id=item.notice_id, attempt_id=item.attempt_id)
    if returned is not None and item.receipt_at is None:
        # One receipt per item: the first 801 read is the one the court's service date rests on (CPL 91).
        # It goes out with its scan as evidence, which takes HTTP calls: the scanner fetches, uploads and emits it.
        item.receipt_at = new.op_time
        item.receipt = returned.model_dump(mode="json")
        item.scan, item.scan_tries, item.scan_next_at = ScanState.pending, 0, now
    item.updated_at = now
    session.add(item)
