"""The carrier gateway on PostgreSQL and Kafka with the EMS simulator and evidence over HTTP, on a clock where a day passes in ten seconds."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.carrier_gateway.adapters.ems.client import CircuitBreaker, EmsClient
from services.carrier_gateway.config import CarrierGatewaySettings
from services.carrier_gateway.main import create_app as create_gateway
from services.evidence.config import EvidenceSettings
from services.evidence.main import create_app as create_evidence
from shared.contracts.ems_wire import DIGEST_HEADER, decode_key, digest
from shared.contracts.events import DispatchPostalItem
from shared.contracts.topics import CARRIER_GATEWAY_COMMANDS, CARRIER_GATEWAY_EVENTS, EVIDENCE_EVENTS, INTAKE_EVENTS, TopicNames
from shared.plumbing.auth import Role
from shared.plumbing.clock import local_date
from shared.plumbing.settings import DEV_EMS_AUTHORIZATION, DEV_EMS_PUSH_SECRET, DEV_EMS_SENDER_NO, DEV_EMS_SM4_KEY
from simulators.ems_sim.config import EmsSimSettings
from simulators.ems_sim.main import create_app as create_sim
from tests.histories import registered
from tests.support import common, eventually, free_port, publish, read_topic, serving, settings, token

SUPERVISOR = token(Role.supervisor, "sup-1")
# Monday 23 November 2026, 09:00 in Beijing; 8,640 times faster, so a day takes ten seconds.
CLOCK = {"clock": "scaled", "clock_epoch": "2026-11-23T01:00:00+00:00", "time_scale": 8640}
# Tries at a receipt's scan, half an hour of domain time apart at first (about 0.2 s here).
SCAN_ATTEMPTS = 4


class Gateway:
    """The gateway, the simulator and evidence running, with clients for each and the topics to read."""

    def __init__(self, *, gateway: httpx.AsyncClient, sim: httpx.AsyncClient, evidence: httpx.AsyncClient, ems: EmsClient, kafka: str, names: TopicNames) -> None:
        self.gateway, self.sim, self.evidence, self.ems, self.kafka, self.names = gateway, sim, evidence, ems, kafka, names

    async def dispatch(self, phone: str, *, known_to_evidence: bool = True) -> DispatchPostalItem:
        """Registers a new notice with evidence (as intake would) unless told not to, then asks the gateway to book court mail for it."""
        history = registered()
        if known_to_evidence:
            _, notice = history.events[0]
            await publish(self.kafka, self.names.physical(INTAKE_EVENTS), [notice], subject=history.notice_id, source="songda/intake")
        command = DispatchPostalItem(
            notice_id=history.notice_id,
            recipient_id=history.recipient_id,
            attempt_id=str(uuid.uuid4()),
            court_id="C371002",
            court_name="威海市环翠区人民法院",
            case_number="（2026）鲁1002民初1234号",
            receiver_name="张三",
            receiver_phone=phone,
            address="山东省威海市环翠区新威路17号",
            postcode="264200",
            documents=["起诉状副本", "传票"],
        )
        await self.send(command)
        return command

    async def send(self, command: DispatchPostalItem) -> None:
        """Publishes a command as delivery would, again if it was sent before: a redelivery in a new envelope."""
        await publish(self.kafka, self.names.physical(CARRIER_GATEWAY_COMMANDS), [command], subject=command.notice_id)

    async def events(self, attempt_id: str, *, until: str, timeout: float = 90) -> list[dict[str, Any]]:
        """Reads the gateway's events about one item until one of type `until` is among them."""

        async def probe() -> list[dict[str, Any]] | None:
            mine = await self.published(CARRIER_GATEWAY_EVENTS, lambda e: e["data"].get("attempt_id") == attempt_id)
            return mine if any(e["type"] == until for e in mine) else None

        return await eventually(probe, timeout=timeout, interval=1.0, what=f"{until} for {attempt_id}")

    async def published(self, topic: str, mine: Any) -> list[dict[str, Any]]:
        """Returns the envelopes on a topic so far that `mine` picks."""
        records = await read_topic(self.kafka, self.names.physical(topic), expect=10_000, timeout=0.5, settle=0)
        return [e for e in (json.loads(r.value) for r in records) if mine(e)]

    async def sim_waybill(self, waybill: str) -> dict[str, Any]:
        """Returns what the simulator says of a waybill: traces, pushes and answers to its scan queries."""
        return (await self.sim.get(f"/sim/waybills/{waybill}")).json()


@pytest.fixture
async def gw(kafka: str, topic_prefix: str, make_database, tmp_path: Path) -> AsyncIterator[Gateway]:
    clock = common(kafka=kafka, prefix=topic_prefix, **CLOCK, clock_anchor=datetime.now(UTC).isoformat())
    sim_port, gateway_port, evidence_port = free_port(), free_port(), free_port()
    async with AsyncExitStack() as stack:
        sim_settings = EmsSimSettings(port=sim_port, seed=3, push_url=f"http://127.0.0.1:{gateway_port}/webhooks/ems", common=clock)
        sim_url = await stack.enter_async_context(serving(create_sim(sim_settings), sim_port))
        evidence_settings = settings(EvidenceSettings, database_url=await make_database("evidence"), kafka=kafka, prefix=topic_prefix, blob_dir=tmp_path / "blobs")
        evidence_url = await stack.enter_async_context(serving(create_evidence(evidence_settings.model_copy(update={"common": clock})), evidence_port))
        gateway_settings = settings(
            CarrierGatewaySettings,
            database_url=await make_database("carrier_gateway"),
            kafka=kafka,
            prefix=topic_prefix,
            ems_origin=sim_url,
            booking_poll_ms=50,
            poll_every_s=0.5,
            ems_backoff_s=0.05,
            evidence_url=evidence_url,
            scan_attempts=SCAN_ATTEMPTS,
            scan_backoff_s=1800,
            scan_poll_ms=50,
        )
        gateway_url = await stack.enter_async_context(serving(create_gateway(gateway_settings.model_copy(update={"common": clock})), gateway_port))
        gateway = await stack.enter_async_context(httpx.AsyncClient(base_url=gateway_url, timeout=10))
        sim = await stack.enter_async_context(httpx.AsyncClient(base_url=sim_url, timeout=10))
        evidence = await stack.enter_async_context(httpx.AsyncClient(base_url=evidence_url, timeout=10))
        # The test's own EMS client, to see exactly which bytes the simulator serves as a scan.
        ems = EmsClient(
            origin=sim_url,
            sender_no=DEV_EMS_SENDER_NO,
            authorization=DEV_EMS_AUTHORIZATION,
            key=decode_key(DEV_EMS_SM4_KEY),
            now=lambda: datetime.now(UTC),
            breaker=CircuitBreaker(failures=5, cooldown_s=1),
            http=sim,
        )
        yield Gateway(gateway=gateway, sim=sim, evidence=evidence, ems=ems, kafka=kafka, names=TopicNames(topic_prefix))


async def test_dispatch_is_booked_tracked_and_its_receipt_returned_with_its_scan_once(gw: Gateway) -> None:
    phone = "+8613800138101"
    scripted = await gw.sim.post(
        "/sim/script", json={"phone": phone, "delivery": {"outcome": "delivered", "signer": "family", "signer_name": "李秀英"}, "clean": True, "duplicate": ["801"]}
    )
    assert scripted.status_code in (200, 201), scripted.text
    command = await gw.dispatch(phone)
    await gw.send(command)

    events = await gw.events(command.attempt_id, until="carrier_gateway.ReceiptReturned")

    types = [e["type"] for e in events]
    assert types[0] == "carrier_gateway.WaybillCreated"
    statuses = [e["data"]["status"] for e in events if e["type"] == "carrier_gateway.TrackingUpdated"]
    assert statuses[:5] == ["accepted", "in_transit", "arrived", "out_for_delivery", "delivered"] and statuses[-1] == "receipt_returned"
    receipt = next(e["data"] for e in events if e["type"] == "carrier_gateway.ReceiptReturned")
    assert (receipt["signer_name"], receipt["signer_role"], receipt["relation"]) == ("李秀英", "family_member", "家人")
    delivered = next(e["data"] for e in events if e["data"].get("status") == "delivered")
    # The simulator dates the receipt the day the item was signed for (CPL 91).
    assert receipt["signed_on"] == local_date(datetime.fromisoformat(delivered["op_time"])).isoformat()
    waybill = events[0]["data"]["waybill_no"]

    # The scan in evidence is exactly what EMS serves for the waybill.
    assert receipt["scan_evidence_id"]
    scan, content_type = await gw.ems.receipt_scan(waybill)
    stored = (await gw.evidence.get(f"/v1/evidence/{receipt['scan_evidence_id']}", headers=SUPERVISOR)).json()
    assert (stored["kind"], stored["sha256"], stored["content_type"]) == ("return_receipt_scan", hashlib.sha256(scan).hexdigest(), content_type)
    assert (stored["notice_id"], stored["attempt_id"], stored["recipient_id"], stored["details"]) == (
        command.notice_id,
        command.attempt_id,
        command.recipient_id,
        {"waybill_no": waybill},
    )
    view = (await gw.gateway.get(f"/v1/waybills/{waybill}", headers=SUPERVISOR)).json()
    assert [n["op_code"] for n in view["trace"]][:5] == ["203", "310", "306", "702", "704"] and view["closed"] is True
    assert (view["scan"], view["scan_evidence_id"]) == ("stored", receipt["scan_evidence_id"])

    # Once the simulator has pushed everything, the 801 twice among it, there is still one receipt and one scan.
    detail = await eventually(lambda: _finished(gw, waybill), what=f"waybill {waybill} to play out")
    assert [n["action"] for n in detail["pushes"] if n["opCode"] == "801"] == ["pushed", "duplicated"]
    booked = (await gw.sim.get("/sim/waybills")).json()
    assert sum(1 for w in booked["waybills"] if w["logisticsOrderNo"] == command.attempt_id) == 1, "the redelivered command booked once"
    again = await gw.published(CARRIER_GATEWAY_EVENTS, lambda e: e["data"].get("attempt_id") == command.attempt_id)
    assert [e["type"] for e in again].count("carrier_gateway.ReceiptReturned") == 1
    recorded = await gw.published(EVIDENCE_EVENTS, lambda e: e["subject"] == command.notice_id and e["data"].get("kind") == "return_receipt_scan")
    assert [e["data"]["evidence_id"] for e in recorded] == [receipt["scan_evidence_id"]]


async def _finished(gw: Gateway, waybill: str) -> dict[str, Any] | None:
    detail = await gw.sim_waybill(waybill)
    return detail if detail["finished"] else None


async def test_the_receipt_waits_for_a_late_scan_and_goes_without_one_in_the_end(gw: Gateway) -> None:
    late, never, unknown = "+8613800138104", "+8613800138105", "+8613800138106"
    for phone, withheld in ((late, 2), (never, 20), (unknown, 0)):
        script = {"phone": phone, "delivery": {"outcome": "delivered", "signer": "recipient", "signer_name": "张三"}, "clean": True, "withhold_scan": withheld}
        assert (await gw.sim.post("/sim/script", json=script)).status_code == 200
    commands = [await gw.dispatch(late), await gw.dispatch(never), await gw.dispatch(unknown, known_to_evidence=False)]

    journeys = await asyncio.gather(*(gw.events(c.attempt_id, until="carrier_gateway.ReceiptReturned") for c in commands))

    outcomes = []
    for events in journeys:
        receipt = next(e["data"] for e in events if e["type"] == "carrier_gateway.ReceiptReturned")
        view = (await gw.gateway.get(f"/v1/waybills/{receipt['waybill_no']}", headers=SUPERVISOR)).json()
        scans = [note["retCode"] for note in (await gw.sim_waybill(receipt["waybill_no"]))["scans"]]
        outcomes.append((receipt["scan_evidence_id"] is not None, view["scan"], scans))
    # Asked again while EMS had no scan, the receipt went out once it was stored.
    assert outcomes[0] == (True, "stored", ["B00005", "B00005", "00000"])
    # Never scanned: after the last try the receipt goes out without it, its date intact.
    assert outcomes[1] == (False, "missing", ["B00005"] * SCAN_ATTEMPTS)
    # Evidence refuses a scan for a notice it does not know (422): no point asking again, the receipt goes at once.
    assert outcomes[2] == (False, "missing", ["00000"])


async def test_a_lost_push_is_found_by_polling(gw: Gateway) -> None:
    phone = "+8613800138102"
    await gw.sim.post("/sim/script", json={"phone": phone, "delivery": {"outcome": "delivered", "signer": "recipient", "signer_name": "张三"}, "clean": True, "drop": ["704"]})
    command = await gw.dispatch(phone)

    events = await gw.events(command.attempt_id, until="carrier_gateway.ReceiptReturned")

    assert "delivered" in [e["data"].get("status") for e in events]
    waybill = events[0]["data"]["waybill_no"]
    view = (await gw.gateway.get(f"/v1/waybills/{waybill}", headers=SUPERVISOR)).json()
    assert next(n["source"] for n in view["trace"] if n["op_code"] == "704") == "poll"


async def test_forged_and_repeated_pushes_and_a_redelivered_command(gw: Gateway) -> None:
    phone = "+8613800138103"
    await gw.sim.post("/sim/script", json={"phone": phone, "delivery": {"outcome": "delivered", "signer": "recipient", "signer_name": "张三"}, "clean": True})
    command = await gw.dispatch(phone)
    await gw.send(command)
    events = await gw.events(command.attempt_id, until="carrier_gateway.TrackingUpdated", timeout=30)
    waybill = events[0]["data"]["waybill_no"]
    booked = (await gw.sim.get("/sim/waybills")).json()
    assert sum(1 for w in booked["waybills"] if w["logisticsOrderNo"] == command.attempt_id) == 1, "the redelivered command booked once"

    before = (await gw.gateway.get(f"/v1/waybills/{waybill}", headers=SUPERVISOR)).json()
    # A node from before the item was even booked: EMS pushing late and out of order.
    node = {"waybillNo": waybill, "opTime": "2026-11-20 08:00:00", "opCode": "203", "opName": "收寄", "opDesc": "已收寄"}
    body = json.dumps({"traces": [node]}, ensure_ascii=False).encode()
    forged = await gw.gateway.post("/webhooks/ems", content=body, headers={DIGEST_HEADER: digest(body, "not-the-secret"), "content-type": "application/json"})
    assert forged.status_code == 403 and forged.headers["content-type"].startswith("application/problem+json")
    signed = {DIGEST_HEADER: digest(body, DEV_EMS_PUSH_SECRET), "content-type": "application/json"}
    first = (await gw.gateway.post("/webhooks/ems", content=body, headers=signed)).json()
    again = (await gw.gateway.post("/webhooks/ems", content=body, headers=signed)).json()
    assert (first["new"], again["new"], again["repeated"]) == (1, 0, 1)
    after = (await gw.gateway.get(f"/v1/waybills/{waybill}", headers=SUPERVISOR)).json()
    assert after["trace"][0]["op_time"].startswith("2026-11-20") and len(after["trace"]) >= len(before["trace"]) + 1
    # It is kept as history and told to delivery as not the latest, so nothing moves back.
    late = await gw.events(command.attempt_id, until="carrier_gateway.TrackingUpdated", timeout=10)
    assert [e["data"]["latest"] for e in late if e["data"].get("op_time", "").startswith("2026-11-20")] == [False]
