"""The return receipt held back for its scan, on a real SQLite file with EMS and evidence behind respx: one ReceiptReturned per item, with the scan or, at the last, without."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from sqlmodel import col, select

from services.carrier_gateway import handlers
from services.carrier_gateway.adapters.ems.client import CircuitBreaker, EmsClient
from services.carrier_gateway.adapters.evidence import EvidenceClient
from services.carrier_gateway.config import DEFAULT_SENDER
from services.carrier_gateway.deps import CarrierGatewayDeps
from services.carrier_gateway.domain import ScanPolicy
from services.carrier_gateway.handlers import apply_traces
from services.carrier_gateway.models import TABLES, CarrierItem, ScanState
from services.carrier_gateway.workers import Scanner
from shared.contracts.ems_wire import Trace
from shared.plumbing.db import Database, create_tables, table_of
from shared.plumbing.outbox import OutboxMessage

EMS = "http://ems.test/api/gateway"
EVIDENCE = "http://evidence.test/v1/evidence"
KEY = base64.b64decode("qjWoPE+0ODlwyYfhMxQCMw==")
WAYBILL = "1190000000017"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))
SCANNED = {
    "serialNo": "1",
    "retCode": "00000",
    "retMsg": "成功",
    "retDate": "2026-11-27 10:00:00",
    "retBody": {"waybillNo": WAYBILL, "imageType": "image/png", "image": base64.b64encode(PNG).decode()},
}
NOT_YET = {**SCANNED, "retCode": "B00005", "retMsg": "回执尚未返回", "retBody": None}
RECEIPT_BACK = Trace(waybill_no=WAYBILL, op_time="2026-11-27 10:00:00", op_code="801", op_name="回执返回", op_desc="回执已返回，签收人：李秀英，关系：家人，签收日期：2026-11-24")


class Clock:
    """Domain time the test moves by hand."""

    def __init__(self) -> None:
        self.at = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.at

    async def sleep(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'gateway.db'}")
    await create_tables(database.engine, [table_of(OutboxMessage), *TABLES])
    yield database
    await database.dispose()


@pytest.fixture
async def clock(db: Database) -> Clock:
    """The clock, with a booked item whose 801 has just been pushed."""
    clock = Clock()
    async with db.transaction() as session:
        session.add(
            CarrierItem(
                attempt_id="a-1",
                notice_id="n-1",
                recipient_id="r-1",
                correlation_id="n-1",
                command_id="cmd-1",
                command={},
                booking="booked",
                waybill_no=WAYBILL,
                created_at=clock.now(),
                updated_at=clock.now(),
            )
        )
    async with db.transaction() as session:
        await apply_traces(session, [RECEIPT_BACK], source="push", now=clock.now())
    return clock


def scanner(db: Database, clock: Clock, *, attempts: int = 3) -> Scanner:
    ems = EmsClient(
        origin="http://ems.test", sender_no="37100200018", authorization="auth", key=KEY, now=clock.now, breaker=CircuitBreaker(failures=100, cooldown_s=30), attempts=1
    )
    evidence = EvidenceClient(url="http://evidence.test", secret="s" * 40, issuer="songda", http=httpx.AsyncClient())
    scans = ScanPolicy(attempts=attempts, backoff=timedelta(minutes=5))
    return Scanner(deps=CarrierGatewayDeps(db=db, clock=clock, ems=ems, evidence=evidence, sender=DEFAULT_SENDER, push_secret="secret", scans=scans))


async def item(db: Database) -> CarrierItem:
    async with db.sessions() as session:
        return (await session.exec(select(CarrierItem))).one()


async def events(db: Database, kind: str) -> list[dict[str, Any]]:
    async with db.sessions() as session:
        rows = (await session.exec(select(OutboxMessage).where(OutboxMessage.event_type == kind).order_by(col(OutboxMessage.id)))).all()
    return [json.loads(row.payload) for row in rows]


def recorded(api: respx.MockRouter) -> respx.Route:
    """Evidence that records an upload once per idempotency key and answers the same id again."""
    keys: dict[str, str] = {}

    def answer(request: httpx.Request) -> httpx.Response:
        key = request.headers["Idempotency-Key"]
        known = key in keys
        keys.setdefault(key, f"ev-{len(keys) + 1}")
        return httpx.Response(200 if known else 201, json={"id": keys[key]})

    return api.post(EVIDENCE).mock(side_effect=answer)


async def test_the_801_holds_the_receipt_back_for_its_scan_instead_of_emitting_it(db: Database, clock: Clock) -> None:
    row = await item(db)

    assert await events(db, "carrier_gateway.ReceiptReturned") == []
    assert [e["data"]["status"] for e in await events(db, "carrier_gateway.TrackingUpdated")] == ["receipt_returned"]
    assert (row.scan, row.scan_tries, row.scan_next_at, row.receipt_at) == (ScanState.pending, 0, clock.now(), clock.now())
    assert row.receipt is not None and (row.receipt["signer_name"], row.receipt["signed_on"], row.receipt["scan_evidence_id"]) == ("李秀英", "2026-11-24", None)


async def test_the_scan_is_uploaded_then_the_receipt_goes_out_with_its_evidence_id(db: Database, clock: Clock, api: respx.MockRouter) -> None:
    api.post(EMS).respond(200, json=SCANNED)
    upload = recorded(api)

    assert await scanner(db, clock).run_once() == 1

    [receipt] = await events(db, "carrier_gateway.ReceiptReturned")
    assert receipt["data"]["scan_evidence_id"] == "ev-1" and receipt["data"]["signed_on"] == "2026-11-24"
    assert (receipt["causationid"], receipt["correlationid"], receipt["subject"]) == ("cmd-1", "n-1", "n-1")
    assert PNG in upload.calls.last.request.content
    row = await item(db)
    assert (row.scan, row.scan_evidence_id, row.scan_next_at) == (ScanState.stored, "ev-1", None)
    assert await scanner(db, clock).run_once() == 0


async def test_no_scan_yet_is_tried_again_after_a_doubling_backoff(db: Database, clock: Clock, api: respx.MockRouter) -> None:
    ems = api.post(EMS).mock(side_effect=[httpx.Response(200, json=NOT_YET), httpx.Response(200, json=NOT_YET), httpx.Response(200, json=SCANNED)])
    recorded(api)
    worker = scanner(db, clock, attempts=5)
    started = clock.now()

    await worker.run_once()
    assert (await item(db)).scan_next_at == started + timedelta(minutes=5)
    assert await worker.run_once() == 0, "nothing is due before the backoff ends"
    await clock.sleep(300)
    await worker.run_once()
    assert (await item(db)).scan_next_at == started + timedelta(minutes=5 + 10)
    await clock.sleep(600)
    await worker.run_once()

    assert ems.call_count == 3
    assert [e["data"]["scan_evidence_id"] for e in await events(db, "carrier_gateway.ReceiptReturned")] == ["ev-1"]
    assert ((await item(db)).scan, (await item(db)).scan_tries) == (ScanState.stored, 2)


async def test_a_crash_between_upload_and_commit_uploads_again_under_the_same_key_and_emits_once(
    db: Database, clock: Clock, api: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    api.post(EMS).respond(200, json=SCANNED)
    upload = recorded(api)

    def crash(*_: Any, **__: Any) -> None:
        raise RuntimeError("killed before the commit")

    with monkeypatch.context() as patched:
        patched.setattr(handlers, "_release", crash)
        with pytest.raises(RuntimeError, match="killed"):
            await scanner(db, clock).run_once()
    assert await events(db, "carrier_gateway.ReceiptReturned") == [] and (await item(db)).scan == ScanState.pending
    await scanner(db, clock).run_once()

    assert [call.request.headers["Idempotency-Key"] for call in upload.calls] == ["receipt-scan:a-1"] * 2
    assert [call.response.status_code for call in upload.calls] == [201, 200]
    assert [e["data"]["scan_evidence_id"] for e in await events(db, "carrier_gateway.ReceiptReturned")] == ["ev-1"]


async def test_after_the_last_try_the_receipt_goes_out_without_a_scan(db: Database, clock: Clock, api: respx.MockRouter) -> None:
    api.post(EMS).respond(503)
    worker = scanner(db, clock, attempts=3)

    for _ in range(3):
        await worker.run_once()
        await clock.sleep(3600)

    [receipt] = await events(db, "carrier_gateway.ReceiptReturned")
    assert receipt["data"]["scan_evidence_id"] is None and receipt["data"]["signed_on"] == "2026-11-24"
    row = await item(db)
    assert (row.scan, row.scan_tries, row.scan_error) == (ScanState.missing, 3, "EMS 040005: HTTP 503 (after 1 tries)")
    assert await worker.run_once() == 0


async def test_evidence_down_is_tried_again_but_a_refusal_lets_the_receipt_go_at_once(db: Database, clock: Clock, api: respx.MockRouter) -> None:
    api.post(EMS).respond(200, json=SCANNED)
    problem = {"status": 422, "detail": "metadata.notice_id: evidence knows no notice n-1"}
    api.post(EVIDENCE).mock(side_effect=[httpx.ConnectError("refused"), httpx.Response(422, json=problem)])
    worker = scanner(db, clock, attempts=5)

    await worker.run_once()
    assert ((await item(db)).scan, await events(db, "carrier_gateway.ReceiptReturned")) == (ScanState.pending, [])
    await clock.sleep(300)
    await worker.run_once()

    [receipt] = await events(db, "carrier_gateway.ReceiptReturned")
    assert receipt["data"]["scan_evidence_id"] is None
    row = await item(db)
    assert (row.scan, row.scan_tries) == (ScanState.missing, 2) and "evidence knows no notice" in (row.scan_error or "")
