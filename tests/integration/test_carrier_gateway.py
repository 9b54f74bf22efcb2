"""The carrier gateway on PostgreSQL and Kafka with the EMS simulator over HTTP, on a clock where a day passes in ten seconds."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from services.carrier_gateway.config import CarrierGatewaySettings
from services.carrier_gateway.ems.wire import DIGEST_HEADER, digest
from services.carrier_gateway.main import create_app as create_gateway
from services.ems_sim.config import EmsSimSettings
from services.ems_sim.main import create_app as create_sim
from shared.auth import Role
from shared.clock import local_date
from shared.events import DispatchPostalItem
from shared.settings import DEV_EMS_PUSH_SECRET
from shared.topics import CARRIER_GATEWAY_COMMANDS, CARRIER_GATEWAY_EVENTS, TopicNames
from tests.support import common, eventually, free_port, publish, read_topic, serving, settings, token

SUPERVISOR = token(Role.supervisor, "sup-1")
# Monday 23 November 2026, 09:00 in Beijing; 8,640 times faster, so a day takes ten seconds.
CLOCK = {"clock": "scaled", "clock_epoch": "2026-11-23T01:00:00+00:00", "time_scale": 8640}


class Gateway:
    """The gateway and the simulator running, with clients for both and the topics to read."""

    def __init__(self, *, gateway: httpx.AsyncClient, sim: httpx.AsyncClient, kafka: str, names: TopicNames) -> None:
        self.gateway, self.sim, self.kafka, self.names = gateway, sim, kafka, names

    async def dispatch(self, phone: str, *, attempt_id: str | None = None) -> DispatchPostalItem:
        command = DispatchPostalItem(
            notice_id=str(uuid.uuid4()),
            recipient_id=str(uuid.uuid4()),
            attempt_id=attempt_id or str(uuid.uuid4()),
            court_id="C371002",
            court_name="威海市环翠区人民法院",
            case_number="（2026）鲁1002民初1234号",
            receiver_name="张三",
            receiver_phone=phone,
            address="山东省威海市环翠区新威路17号",
            postcode="264200",
            documents=["起诉状副本", "传票"],
        )
        await publish(self.kafka, self.names.physical(CARRIER_GATEWAY_COMMANDS), [command], subject=command.notice_id)
        return command

    async def events(self, attempt_id: str, *, until: str, timeout: float = 90) -> list[dict[str, Any]]:
        """Reads the gateway's events about one item until one of type `until` is among them."""

        async def probe() -> list[dict[str, Any]] | None:
            records = await read_topic(self.kafka, self.names.physical(CARRIER_GATEWAY_EVENTS), expect=10_000, timeout=0.5, settle=0)
            mine = [json.loads(r.value) for r in records]
            mine = [e for e in mine if e["data"].get("attempt_id") == attempt_id]
            return mine if any(e["type"] == until for e in mine) else None

        return await eventually(probe, timeout=timeout, interval=1.0, what=f"{until} for {attempt_id}")


@pytest.fixture
async def gw(kafka: str, topic_prefix: str, make_database) -> AsyncIterator[Gateway]:
    clock = {**CLOCK, "clock_anchor": datetime.now(UTC).isoformat()}
    sim_port, gateway_port = free_port(), free_port()
    async with AsyncExitStack() as stack:
        sim_settings = EmsSimSettings(port=sim_port, seed=3, push_url=f"http://127.0.0.1:{gateway_port}/webhooks/ems", common=common(kafka=kafka, prefix=topic_prefix, **clock))
        sim_url = await stack.enter_async_context(serving(create_sim(sim_settings), sim_port))
        gateway_settings = settings(
            CarrierGatewaySettings,
            database_url=await make_database("carrier_gateway"),
            kafka=kafka,
            prefix=topic_prefix,
            ems_origin=sim_url,
            booking_poll_ms=50,
            poll_every_s=0.5,
            ems_backoff_s=0.05,
        )
        gateway_settings = gateway_settings.model_copy(update={"common": common(kafka=kafka, prefix=topic_prefix, **clock)})
        gateway_url = await stack.enter_async_context(serving(create_gateway(gateway_settings), gateway_port))
        gateway = await stack.enter_async_context(httpx.AsyncClient(base_url=gateway_url, timeout=10))
        sim = await stack.enter_async_context(httpx.AsyncClient(base_url=sim_url, timeout=10))
        yield Gateway(gateway=gateway, sim=sim, kafka=kafka, names=TopicNames(topic_prefix))


async def test_dispatch_is_booked_tracked_and_its_receipt_returned(gw: Gateway) -> None:
    phone = "+8613800138101"
    scripted = await gw.sim.post("/sim/script", json={"phone": phone, "delivery": {"outcome": "delivered", "signer": "family", "signer_name": "李秀英"}, "clean": True})
    assert scripted.status_code in (200, 201), scripted.text
    command = await gw.dispatch(phone)

    events = await gw.events(command.attempt_id, until="carrier_gateway.ReceiptReturned")

    types = [e["type"] for e in events]
    assert types[0] == "carrier_gateway.WaybillCreated" and types.count("carrier_gateway.ReceiptReturned") == 1
    statuses = [e["data"]["status"] for e in events if e["type"] == "carrier_gateway.TrackingUpdated"]
    assert statuses[:5] == ["accepted", "in_transit", "arrived", "out_for_delivery", "delivered"] and statuses[-1] == "receipt_returned"
    receipt = next(e["data"] for e in events if e["type"] == "carrier_gateway.ReceiptReturned")
    assert (receipt["signer_name"], receipt["signer_role"], receipt["relation"]) == ("李秀英", "family_member", "家人")
    delivered = next(e["data"] for e in events if e["data"].get("status") == "delivered")
    # The simulator dates the receipt the day the item was signed for (CPL 91).
    assert receipt["signed_on"] == local_date(datetime.fromisoformat(delivered["op_time"])).isoformat()
    waybill = events[0]["data"]["waybill_no"]
    view = (await gw.gateway.get(f"/v1/waybills/{waybill}", headers=SUPERVISOR)).json()
    assert [n["op_code"] for n in view["trace"]][:5] == ["203", "310", "306", "702", "704"] and view["closed"] is True


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
    await gw.dispatch(phone, attempt_id=command.attempt_id)
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
