"""The carrier gateway's handlers on a SQLite file with EMS and evidence faked: queueing, booking, polling, scans and waybill reads."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from services.carrier_gateway import handlers
from services.carrier_gateway.adapters.ems.client import CarrierUnavailable, FakeCarrier
from services.carrier_gateway.adapters.evidence import EvidenceUnavailable, FakeEvidence
from services.carrier_gateway.config import DEFAULT_SENDER
from services.carrier_gateway.deps import CarrierGatewayDeps
from services.carrier_gateway.domain import ScanPolicy
from services.carrier_gateway.models import TABLES, Booking, CarrierItem, ScanState
from services.carrier_gateway.workers import Booker, Poller, Scanner
from shared.contracts.ems_wire import Trace
from shared.contracts.events import DispatchPostalItem
from shared.plumbing.audit import AuditEntry
from shared.plumbing.auth import Principal, Role
from shared.plumbing.consumer import MessageContext
from shared.plumbing.db import Database, create_tables
from shared.plumbing.outbox import OutboxMessage
from shared.plumbing.problems import Problem
from shared.plumbing.runtime import PLUMBING_TABLES

COMMAND = DispatchPostalItem(
    notice_id="n-1",
    recipient_id="r-1",
    attempt_id="a-1",
    court_id="C371002",
    court_name="威海市环翠区人民法院",
    case_number="（2026）鲁1002民初1234号",
    receiver_name="张三",
    receiver_phone="+8613800138000",
    address="山东省威海市环翠区新威路17号",
    postcode="264200",
    documents=["起诉状副本", "传票"],
)


class Clock:
    """Domain time the test moves by hand."""

    def __init__(self) -> None:
        self.at = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.at


@pytest.fixture
async def deps(tmp_path: Path) -> AsyncIterator[CarrierGatewayDeps]:
    database = Database(f"sqlite:///{tmp_path / 'gateway.db'}")
    await create_tables(database.engine, [*PLUMBING_TABLES, *TABLES])
    yield CarrierGatewayDeps(
        db=database,
        clock=Clock(),
        ems=FakeCarrier(),
        evidence=FakeEvidence(),
        sender=DEFAULT_SENDER,
        push_secret="secret",
        scans=ScanPolicy(attempts=3, backoff=timedelta(minutes=5)),
    )
    await database.dispose()


def ems(deps: CarrierGatewayDeps) -> FakeCarrier:
    assert isinstance(deps.ems, FakeCarrier)
    return deps.ems


def evidence(deps: CarrierGatewayDeps) -> FakeEvidence:
    assert isinstance(deps.evidence, FakeEvidence)
    return deps.evidence


async def queue(deps: CarrierGatewayDeps, command: DispatchPostalItem = COMMAND) -> None:
    """Handles the command as the consumer would, in its own transaction."""
    envelope = command.envelope(source="songda/delivery", subject=command.notice_id, time=deps.clock.now(), correlationid="corr-1")
    async with deps.db.transaction() as session:
        message = MessageContext(session=session, envelope=envelope, raw=b"", clock=deps.clock, source="songda/carrier_gateway")
        await handlers.queue_item(deps, message=message, event=command)


async def item(deps: CarrierGatewayDeps) -> CarrierItem:
    async with deps.db.sessions() as session:
        return (await session.exec(select(CarrierItem))).one()


async def events(deps: CarrierGatewayDeps, kind: str) -> list[dict[str, Any]]:
    async with deps.db.sessions() as session:
        rows = (await session.exec(select(OutboxMessage).where(OutboxMessage.event_type == kind).order_by(col(OutboxMessage.id)))).all()
    return [json.loads(row.payload)["data"] for row in rows]


def trace(waybill_no: str, code: str, at: str, desc: str | None = None) -> Trace:
    return Trace(waybill_no=waybill_no, op_time=at, op_code=code, op_name=code, op_desc=desc)


async def booked(deps: CarrierGatewayDeps) -> str:
    await queue(deps)
    await Booker(deps=deps).run_once()
    waybill_no = (await item(deps)).waybill_no
    assert waybill_no is not None
    return waybill_no


async def test_a_redelivered_command_queues_its_item_once(deps: CarrierGatewayDeps) -> None:
    await queue(deps)
    await queue(deps)

    row = await item(deps)
    assert (row.attempt_id, row.booking, row.tries, row.next_try_at, row.correlation_id) == ("a-1", Booking.pending, 0, deps.clock.now(), "corr-1")


async def test_a_booking_is_made_once_and_tells_delivery_the_waybill(deps: CarrierGatewayDeps) -> None:
    waybill_no = await booked(deps)
    await handlers.book_item(deps, item=await item(deps))

    assert ems(deps).calls == [("020003", "a-1")]
    assert [(e["attempt_id"], e["waybill_no"]) for e in await events(deps, "carrier_gateway.WaybillCreated")] == [("a-1", waybill_no)]
    assert ((await item(deps)).booking, (await item(deps)).next_try_at) == (Booking.booked, None)


async def test_a_refused_item_fails_its_dispatch(deps: CarrierGatewayDeps) -> None:
    ems(deps).refusals["a-1"] = ("B00004", "地址超区")
    await queue(deps)
    await Booker(deps=deps).run_once()

    assert [e["reason"] for e in await events(deps, "carrier_gateway.DispatchFailed")] == ["地址超区"]
    assert ((await item(deps)).booking, (await item(deps)).last_error) == (Booking.refused, "B00004 地址超区")


async def test_ems_down_books_again_after_a_backoff_and_a_refused_request_after_five_minutes(deps: CarrierGatewayDeps) -> None:
    ems(deps).refusals["a-1"] = ("S00001", "授权码无效")
    ems(deps).fail_next(CarrierUnavailable("HTTP 503"))
    await queue(deps)
    started = deps.clock.now()

    await Booker(deps=deps).run_once()
    assert ((await item(deps)).tries, (await item(deps)).next_try_at) == (1, started + timedelta(seconds=2))
    await handlers.book_item(deps, item=await item(deps))

    row = await item(deps)
    assert (row.booking, row.tries, row.next_try_at) == (Booking.pending, 2, started + timedelta(minutes=5))
    assert row.last_error is not None and "S00001" in row.last_error
    assert await events(deps, "carrier_gateway.DispatchFailed") == []


async def test_a_poll_applies_the_nodes_no_push_brought_once(deps: CarrierGatewayDeps) -> None:
    waybill_no = await booked(deps)
    ems(deps).traces[waybill_no] = [trace(waybill_no, "203", "2026-11-23 10:00:00"), trace(waybill_no, "702", "2026-11-24 08:00:00")]
    deps.clock.at += timedelta(hours=13)

    assert await Poller(deps=deps, quiet=timedelta(hours=12)).run_once() == 2
    assert await handlers.poll_item(deps, attempt_id="a-1", waybill_no=waybill_no) == 0

    assert [e["status"] for e in await events(deps, "carrier_gateway.TrackingUpdated")] == ["accepted", "out_for_delivery"]
    assert ((await item(deps)).status, (await item(deps)).polled_at) == ("out_for_delivery", deps.clock.now())


async def test_a_push_counts_nodes_for_waybills_never_booked_and_changes_nothing_for_them(deps: CarrierGatewayDeps) -> None:
    waybill_no = await booked(deps)
    nodes = [trace(waybill_no, "203", "2026-11-23 10:00:00"), trace("1199999999999", "203", "2026-11-23 10:00:00")]

    first = await handlers.record_push(deps, traces=nodes)
    again = await handlers.record_push(deps, traces=nodes)

    assert (first.new, first.repeated, first.unknown) == (1, 0, 1)
    assert (again.new, again.repeated, again.unknown) == (0, 1, 1)


async def test_a_receipt_waits_for_its_scan_and_goes_out_once_with_its_evidence_id(deps: CarrierGatewayDeps) -> None:
    waybill_no = await booked(deps)
    await handlers.record_push(deps, traces=[trace(waybill_no, "801", "2026-11-27 10:00:00", "回执已返回，签收人：李秀英，关系：家人，签收日期：2026-11-24")])
    evidence(deps).fail_next(EvidenceUnavailable("HTTP 503"))
    ems(deps).scans[waybill_no] = (b"\x89PNG", "image/png")
    scanner = Scanner(deps=deps)

    await scanner.run_once()
    assert ((await item(deps)).scan, (await item(deps)).scan_next_at) == (ScanState.pending, deps.clock.now() + timedelta(minutes=5))
    deps.clock.at += timedelta(minutes=5)
    await scanner.run_once()
    await scanner.run_once()

    assert [(e["scan_evidence_id"], e["signed_on"]) for e in await events(deps, "carrier_gateway.ReceiptReturned")] == [("ev-1", "2026-11-24")]
    assert evidence(deps).uploads == [("a-1", b"\x89PNG")]
    assert ((await item(deps)).scan, (await item(deps)).scan_tries) == (ScanState.stored, 1)


async def test_without_a_scan_after_the_last_try_the_receipt_goes_out_anyway(deps: CarrierGatewayDeps) -> None:
    waybill_no = await booked(deps)
    await handlers.record_push(deps, traces=[trace(waybill_no, "801", "2026-11-27 10:00:00", "回执已返回，签收人：张三，本人签收")])

    for _ in range(3):
        await Scanner(deps=deps).run_once()
        deps.clock.at += timedelta(hours=1)

    assert [e["scan_evidence_id"] for e in await events(deps, "carrier_gateway.ReceiptReturned")] == [None]
    assert ((await item(deps)).scan, (await item(deps)).scan_tries) == (ScanState.missing, 3)


async def test_a_waybill_reads_as_missing_to_another_court_and_an_overseers_read_is_audited(deps: CarrierGatewayDeps) -> None:
    waybill_no = await booked(deps)

    with pytest.raises(Problem) as refused:
        await handlers.read_waybill(deps, principal=Principal(sub="C999999", role=Role.court), waybill_no=waybill_no)
    found, trace_rows = await handlers.read_waybill(deps, principal=Principal(sub="sup-1", role=Role.supervisor), waybill_no=waybill_no)

    assert refused.value.status == 404
    assert (found.attempt_id, trace_rows) == ("a-1", [])
    async with deps.db.sessions() as session:
        assert [(entry.action, entry.target) for entry in (await session.exec(select(AuditEntry))).all()] == [("waybill.read", waybill_no)]
