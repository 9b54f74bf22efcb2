"""EMS simulator: the encrypted gateway, 法院专递 timelines on a fast clock, signed pushes and their misbehaviour."""

from __future__ import annotations

import asyncio
import base64
import io
import os
import random
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from PIL import Image

from shared.contracts import ems_wire as wire
from shared.plumbing.clock import SHANGHAI, Clock, RealClock, clock_from_settings
from shared.plumbing.settings import DEV_EMS_AUTHORIZATION, DEV_EMS_PUSH_SECRET, DEV_EMS_SENDER_NO, DEV_EMS_SM4_KEY, CommonSettings
from simulators.ems_sim import receipts
from simulators.ems_sim.config import EmsSimSettings
from simulators.ems_sim.main import create_app
from simulators.ems_sim.mix import DELIVERY_MIX, RandomMix
from simulators.ems_sim.offices import station_for
from simulators.ems_sim.scripts import Delivered, Refused, Returned
from simulators.ems_sim.timeline import plan
from tests.support import eventually, free_port, running, serving

# Monday 23 November 2026, 09:00 in Beijing.
EPOCH = "2026-11-23T01:00:00+00:00"
# A simulated week passes in one second; one millisecond is ten simulated minutes.
SCALE = 600_000
KEY = wire.decode_key(DEV_EMS_SM4_KEY)
PHONE = "13800138000"
ADDRESS = "山东省威海市环翠区新威路17号"
DELIVERED_CODES = ["203", "310", "306", "702", "704", "801"]


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith(("SONGDA_", "EMS_SIM_"))]:
        monkeypatch.delenv(name)


def sim_settings(push_url: str = "http://127.0.0.1:9/never", *, seed: int = 7, **overrides: Any) -> EmsSimSettings:
    """Returns settings on a fast clock anchored now, so simulated dates start at the epoch."""
    common = CommonSettings(clock="scaled", clock_epoch=EPOCH, clock_anchor=datetime.now(UTC).isoformat(), time_scale=SCALE)
    return EmsSimSettings(common=common, push_url=push_url, seed=seed, **overrides)


def booking(order_no: str, *, phone: str = PHONE, address: str = ADDRESS, **receiver: str) -> dict[str, Any]:
    """Returns a 020003 payload as the gateway would send it."""
    return {
        "logisticsOrderNo": order_no,
        "bizProductNo": "11",
        "remark": "（2026）鲁1002民初1234号",
        "sender": {"name": "威海市环翠区人民法院", "mobile": "06315200000", "prov": "山东省", "city": "威海市", "county": "环翠区", "address": "青岛中路126号"},
        "receiver": {"name": "张三", "mobile": phone, "postCode": "264200", "address": address, **receiver},
        "cargos": [{"cargoName": "起诉状副本"}, {"cargoName": "应诉通知书"}],
    }


@dataclass(frozen=True)
class Push:
    """One POST the webhook got."""

    body: bytes
    digest: str | None
    traces: list[wire.Trace]


@dataclass
class Webhook:
    """Records every push; answers 503 to the first `refusals` of them."""

    pushes: list[Push] = field(default_factory=list)
    refusals: int = 0
    url: str = ""

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/webhooks/ems")
        async def receive(request: Request) -> Response:
            body = await request.body()
            self.pushes.append(Push(body, request.headers.get(wire.DIGEST_HEADER), wire.Traces.model_validate_json(body).traces))
            if self.refusals:
                self.refusals -= 1
                return Response(status_code=503)
            return Response(status_code=200)

        return app

    def about(self, waybill_no: str) -> list[wire.Trace]:
        """Returns the traces pushed for a waybill, in arrival order."""
        return [trace for push in self.pushes for trace in push.traces if trace.waybill_no == waybill_no]


@dataclass
class Ems:
    """A running simulator, called as the gateway calls it."""

    http: httpx.AsyncClient
    clock: Clock = field(default_factory=RealClock)

    async def post(self, api_code: str, payload: dict[str, Any], *, key: bytes = KEY, **form: str) -> httpx.Response:
        """Posts an API call as the gateway does, form fields overridden by `form`."""
        fields = wire.request_form(api_code, payload, sender_no=DEV_EMS_SENDER_NO, authorization=DEV_EMS_AUTHORIZATION, key=key, now=datetime.now(UTC))
        return await self.http.post("/api/gateway", data={**fields, **form})

    async def call(self, api_code: str, payload: dict[str, Any], *, key: bytes = KEY, **form: str) -> dict[str, Any]:
        """Posts an API call and returns its envelope."""
        response = await self.post(api_code, payload, key=key, **form)
        assert response.status_code == 200, response.text
        return response.json()

    async def book(self, order_no: str, **receiver: str) -> str:
        """Books an item and returns its waybill number."""
        envelope = await self.call(wire.API_CREATE_WAYBILL, booking(order_no, **receiver))
        assert envelope["retCode"] == wire.RET_OK, envelope
        return envelope["retBody"]["waybillNo"]

    async def script(self, **body: Any) -> dict[str, Any]:
        """Scripts what happens to items for a receiver."""
        response = await self.http.post("/sim/script", json=body)
        assert response.status_code == 200, response.text
        return response.json()

    async def waybill(self, number: str) -> dict[str, Any]:
        """Returns what /sim/waybills/{no} says."""
        response = await self.http.get(f"/sim/waybills/{number}")
        assert response.status_code == 200, response.text
        return response.json()

    async def finished(self, number: str) -> dict[str, Any]:
        """Waits until every node of a waybill has happened and been pushed; returns its detail."""

        async def check() -> dict[str, Any] | None:
            detail = await self.waybill(number)
            return detail if detail["finished"] else None

        return await eventually(check, timeout=20, what=f"waybill {number} to play out", interval=0.05)

    async def scan(self, number: str) -> dict[str, Any]:
        """Returns what 040005 answers for a waybill."""
        return await self.call(wire.API_RECEIPT_SCAN, {"waybillNo": number})

    async def tracked(self, number: str) -> list[wire.Trace]:
        """Returns the traces 040001 answers with."""
        envelope = await self.call(wire.API_TRACK, {"waybillNo": number})
        assert envelope["retCode"] == wire.RET_OK, envelope
        return wire.Traces.model_validate(envelope["retBody"]).traces


@pytest.fixture
async def webhook() -> AsyncIterator[Webhook]:
    hook = Webhook()
    async with serving(hook.app(), free_port()) as base:
        hook.url = f"{base}/webhooks/ems"
        yield hook


@pytest.fixture
async def ems(webhook: Webhook) -> AsyncIterator[Ems]:
    # Random misbehaviour has tests of its own; here every push and answer is as scripted.
    settings = sim_settings(webhook.url, faults=False)
    async with serving(create_app(settings), free_port()) as base, httpx.AsyncClient(base_url=base) as http:
        yield Ems(http, clock_from_settings(settings.common))


def codes(traces: list[wire.Trace]) -> list[str]:
    return [trace.op_code for trace in traces]


def beijing_date(trace: wire.Trace) -> date:
    return wire.parse_time(trace.op_time).astimezone(SHANGHAI).date()


def assert_signed(hook: Webhook) -> None:
    """Checks every push carried one node and a digest of its exact body made with the push secret."""
    for push in hook.pushes:
        assert len(push.traces) == 1
        assert wire.verify_digest(push.body, DEV_EMS_PUSH_SECRET, push.digest)


async def test_healthz_says_there_is_no_consumer(ems: Ems) -> None:
    response = await ems.http.get("/healthz")

    assert response.json() == {"service": "ems_sim", "status": "ok", "kafka": {"consumer": "none"}}


async def test_booking_through_the_encrypted_form_answers_a_waybill(ems: Ems) -> None:
    before = ems.clock.now()
    envelope = await ems.call(wire.API_CREATE_WAYBILL, booking("att-1"))
    after = ems.clock.now()

    answer = wire.Answer.model_validate(envelope)
    assert (answer.ret_code, answer.ret_msg, answer.ok) == ("00000", "成功", True)
    assert answer.serial_no and before - timedelta(seconds=1) <= wire.parse_time(answer.ret_date) <= after
    assert answer.ret_body is not None and answer.ret_body["logisticsOrderNo"] == "att-1"
    assert re.fullmatch(r"11\d{11}", answer.ret_body["waybillNo"])


async def test_booking_the_same_order_again_returns_the_same_waybill(ems: Ems) -> None:
    first = await ems.book("att-2")
    again = await ems.book("att-2", address="山东省威海市文登区峰山路9号")
    other = await ems.book("att-3")

    assert again == first != other
    listed = (await ems.http.get("/sim/waybills")).json()["waybills"]
    assert [(w["waybillNo"], w["logisticsOrderNo"]) for w in listed] == [(first, "att-2"), (other, "att-3")]
    assert listed[0]["receiver"] == "+86138****8000"
    assert PHONE not in str(listed)


@pytest.mark.parametrize("form", [{"authorization": "0" * 32}, {"senderNo": "37100200019"}, {"authorization": ""}])
async def test_wrong_authorization_is_S00001(ems: Ems, form: dict[str, str]) -> None:
    envelope = await ems.call(wire.API_CREATE_WAYBILL, booking("att-4"), **form)

    assert (envelope["retCode"], envelope["retMsg"], envelope["retBody"]) == ("S00001", "授权码无效", None)
    assert (await ems.http.get("/sim/waybills")).json() == {"waybills": []}


@pytest.mark.parametrize("form", [{}, {"logitcsInterface": '{"logisticsOrderNo": "att-5"}'}, {"logitcsInterface": "|$4|AAAA"}])
async def test_undecryptable_payload_is_S00002(ems: Ems, form: dict[str, str]) -> None:
    envelope = await ems.call(wire.API_CREATE_WAYBILL, booking("att-5"), key=bytes(range(16)), **form)

    assert (envelope["retCode"], envelope["retMsg"]) == ("S00002", "报文解密失败")


async def test_unknown_api_is_S00003(ems: Ems) -> None:
    envelope = await ems.call("030001", {"waybillNo": "1100000000000"})

    assert envelope["retCode"] == "S00003"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p: p.pop("logisticsOrderNo"), "缺少必填字段：logisticsOrderNo"),
        (lambda p: p["receiver"].pop("name"), "缺少必填字段：receiver.name"),
        (lambda p: p["receiver"].update(address="  "), "缺少必填字段：receiver.address"),
        (lambda p: p.pop("sender"), "缺少必填字段：sender"),
        (lambda p: p["receiver"].update(mobile="12345"), "字段无效：receiver.mobile"),
    ],
)
async def test_missing_or_unusable_field_is_B00001_naming_it(ems: Ems, change: Any, message: str) -> None:
    payload = booking("att-6")
    change(payload)

    envelope = await ems.call(wire.API_CREATE_WAYBILL, payload)

    assert (envelope["retCode"], envelope["retMsg"]) == ("B00001", message)


async def test_form_fields_outside_the_payload_are_checked_too(ems: Ems) -> None:
    assert (await ems.call(wire.API_TRACK, {"waybillNo": "1"}, msgType="XML"))["retMsg"] == "字段无效：msgType"
    assert (await ems.call(wire.API_TRACK, {"waybillNo": "1"}, timeStamp="2026-11-23T09:00"))["retMsg"] == "字段无效：timeStamp"
    assert (await ems.call(wire.API_TRACK, {}))["retMsg"] == "缺少必填字段：waybillNo"


async def test_scripted_refusal_of_the_booking_is_B00004(ems: Ems) -> None:
    await ems.script(address=ADDRESS, booking="refused")

    envelope = await ems.call(wire.API_CREATE_WAYBILL, booking("att-7", phone="13900139000"))

    assert (envelope["retCode"], envelope["retMsg"], envelope["retBody"]) == ("B00004", "地址超区", None)
    assert (await ems.http.get("/sim/waybills")).json() == {"waybills": []}


async def test_delivered_to_family_pushes_every_node_then_the_return_receipt(ems: Ems, webhook: Webhook) -> None:
    await ems.script(phone=f"+86{PHONE}", delivery={"outcome": "delivered", "signer": "family", "signer_name": "李秀英"})

    number = await ems.book("att-8")

    detail = await ems.finished(number)
    pushed = webhook.about(number)
    assert codes(pushed) == DELIVERED_CODES
    assert_signed(webhook)
    assert [wire.Trace.model_validate(t) for t in detail["traces"]] == pushed == await ems.tracked(number)
    assert [note["action"] for note in detail["pushes"]] == ["pushed"] * 6
    assert (detail["status"], detail["lastCode"]) == ("receipt_returned", "801")
    times = [wire.parse_time(t.op_time) for t in pushed]
    assert times == sorted(times) and times[0] > datetime.fromisoformat(EPOCH)
    delivered, receipt = pushed[4], pushed[5]
    assert (delivered.op_name, delivered.op_desc, delivered.deliver_code, delivered.attempt_delivery_code) == ("妥投", "已签收，代签收【家人：李秀英】", "1", "1")
    assert delivered.op_org_name == "威海市环翠区投递部" and delivered.operator_name
    signed_on = beijing_date(delivered)
    assert receipt.op_desc == f"回执已返回，签收人：李秀英，关系：家人，签收日期：{signed_on.isoformat()}"
    assert 2 <= (beijing_date(receipt) - signed_on).days <= 4
    out = pushed[3]
    assert re.fullmatch(r"投递员：(.+)，电话：1\d{10}", out.op_desc or "") and out.attempt_delivery_code == "1"
    assert pushed[1].op_desc == "离开【威海邮区中心】，下一站【环翠区投递部】"
    assert 8 <= wire.parse_time(delivered.op_time).astimezone(SHANGHAI).hour < 18


async def test_unclaimed_item_is_tried_three_times_within_five_days_then_returned(ems: Ems, webhook: Webhook) -> None:
    await ems.script(phone=PHONE, delivery={"outcome": "returned", "reason": "unclaimed"})

    number = await ems.book("att-9")

    await ems.finished(number)
    pushed = webhook.about(number)
    assert codes(pushed) == ["203", "310", "306", "702", "705", "702", "705", "702", "705", "711"]
    assert_signed(webhook)
    failures = [t for t in pushed if t.op_code == "705"]
    assert [t.attempt_delivery_code for t in failures] == ["1", "2", "3"]
    assert {t.op_desc for t in failures} == {"未妥投，原因：收件人不在，电话无法接通"}
    first, returned = beijing_date(failures[0]), pushed[-1]
    assert (beijing_date(failures[2]) - first).days <= 4
    assert 1 <= (beijing_date(returned) - first).days <= 5
    assert (returned.op_name, returned.op_desc) == ("退回", "退回寄件人，原因：招领期满无人领取")
    assert (await ems.waybill(number))["status"] == "returned"


async def test_refused_item_is_returned_the_next_day_with_the_reason(ems: Ems, webhook: Webhook) -> None:
    await ems.script(address=ADDRESS, delivery={"outcome": "refused"})

    number = await ems.book("att-10", phone="13900139001")

    await ems.finished(number)
    pushed = webhook.about(number)
    assert codes(pushed) == ["203", "310", "306", "702", "706", "711"]
    refused, returned = pushed[4], pushed[5]
    assert (refused.op_name, refused.op_desc, refused.attempt_delivery_code) == ("拒收", "收件人拒收", "1")
    assert returned.op_desc == "退回寄件人，原因：收件人拒收"
    assert (beijing_date(returned) - beijing_date(refused)).days == 1


async def test_dropped_node_is_never_pushed_but_the_tracking_query_has_it(ems: Ems, webhook: Webhook) -> None:
    await ems.script(phone=PHONE, drop=["306", "704"], delivery={"outcome": "delivered"})

    number = await ems.book("att-11")

    detail = await ems.finished(number)
    assert codes(webhook.about(number)) == ["203", "310", "702", "801"]
    assert codes(await ems.tracked(number)) == DELIVERED_CODES
    assert [(n["opCode"], n["action"]) for n in detail["pushes"] if n["action"] != "pushed"] == [("306", "dropped"), ("704", "dropped")]


async def test_duplicated_node_is_pushed_twice(ems: Ems, webhook: Webhook) -> None:
    await ems.script(phone=PHONE, duplicate=["704"], delivery={"outcome": "delivered", "signer": "mail_room"})

    number = await ems.book("att-12")

    detail = await ems.finished(number)
    pushed = webhook.about(number)
    assert codes(pushed) == ["203", "310", "306", "702", "704", "704", "801"]
    assert pushed[4] == pushed[5] and re.fullmatch(r"已签收，单位收发室签收【收发室：.+】", pushed[4].op_desc or "")
    assert [n["action"] for n in detail["pushes"] if n["opCode"] == "704"] == ["pushed", "duplicated"]
    assert codes(await ems.tracked(number)) == DELIVERED_CODES


async def test_reordered_item_pushes_its_last_out_for_delivery_after_the_outcome(ems: Ems, webhook: Webhook) -> None:
    await ems.script(phone=PHONE, reorder=True, delivery={"outcome": "delivered", "failed_attempts": 1})

    number = await ems.book("att-13")

    detail = await ems.finished(number)
    assert codes(webhook.about(number)) == ["203", "310", "306", "702", "705", "704", "702", "801"]
    assert codes(await ems.tracked(number)) == ["203", "310", "306", "702", "705", "702", "704", "801"]
    assert [n["action"] for n in detail["pushes"] if n["opCode"] == "702"] == ["pushed", "held", "pushed"]


async def test_refused_pushes_are_retried_until_taken(ems: Ems, webhook: Webhook) -> None:
    await ems.script(phone=PHONE, delivery={"outcome": "refused"})
    webhook.refusals = 2

    number = await ems.book("att-14")

    await ems.finished(number)
    assert codes(webhook.about(number)) == ["203", "203", "203", "310", "306", "702", "706", "711"]
    assert_signed(webhook)


async def test_cancel_before_out_for_delivery_stops_the_item(ems: Ems) -> None:
    await ems.script(phone=PHONE, delivery={"outcome": "delivered"})
    cancelled, control = await ems.book("att-15"), await ems.book("att-16")

    envelope = await ems.call(wire.API_CANCEL_WAYBILL, {"waybillNo": cancelled, "cancelReason": "当事人已到庭领取"})

    assert (envelope["retCode"], envelope["retBody"]) == ("00000", {"waybillNo": cancelled, "cancelled": True})
    await ems.finished(control)
    detail = await ems.waybill(cancelled)
    assert (detail["status"], detail["finished"]) == ("cancelled", False)
    assert not {"702", "704", "801"} & set(codes(await ems.tracked(cancelled)))
    again = await ems.call(wire.API_CANCEL_WAYBILL, {"waybillNo": cancelled})
    assert again["retCode"] == "00000"
    assert await ems.book("att-15") == cancelled


async def test_cancel_after_out_for_delivery_is_B00003(ems: Ems) -> None:
    await ems.script(phone=PHONE, delivery={"outcome": "delivered"})
    number = await ems.book("att-17")
    await ems.finished(number)

    envelope = await ems.call(wire.API_CANCEL_WAYBILL, {"waybillNo": number})

    assert (envelope["retCode"], envelope["retMsg"]) == ("B00003", "运单已进入投递环节，不能撤单")
    assert (await ems.waybill(number))["status"] == "receipt_returned"
    assert (await ems.call(wire.API_CANCEL_WAYBILL, {"waybillNo": "1100000000000"}))["retCode"] == "B00002"
    assert (await ems.call(wire.API_TRACK, {"waybillNo": "1100000000000"}))["retCode"] == "B00002"
    assert (await ems.http.get("/sim/waybills/1100000000000")).status_code == 404


async def test_the_receipt_scan_is_B00005_until_the_801_then_the_same_png_every_time(ems: Ems) -> None:
    await ems.script(phone=PHONE, delivery={"outcome": "delivered", "signer": "family", "signer_name": "李秀英"})
    number = await ems.book("att-30")

    early = await ems.scan(number)
    detail = await ems.finished(number)
    first, again = await ems.scan(number), await ems.scan(number)

    assert (early["retCode"], early["retMsg"], early["retBody"]) == ("B00005", "回执尚未返回", None)
    assert first["retCode"] == "00000" and first["retBody"] == again["retBody"]
    body = first["retBody"]
    assert (body["waybillNo"], body["imageType"]) == (number, "image/png")
    image = base64.b64decode(body["image"])
    with Image.open(io.BytesIO(image)) as png:
        assert (png.format, png.size) == ("PNG", receipts.SIZE)
    signed = next(wire.Trace.model_validate(t) for t in detail["traces"] if t["opCode"] == "704")
    assert image == receipts.card(waybill_no=number, signer="family", signed_on=beijing_date(signed))
    assert [note["retCode"] for note in (await ems.waybill(number))["scans"]] == ["B00005", "00000", "00000"]


async def test_a_script_can_withhold_the_scan_for_some_queries_after_the_801(ems: Ems) -> None:
    await ems.script(phone=PHONE, delivery={"outcome": "delivered"}, withhold_scan=2)
    number = await ems.book("att-31")
    await ems.finished(number)

    answers = [(await ems.scan(number))["retCode"] for _ in range(4)]

    assert answers == ["B00005", "B00005", "00000", "00000"]


async def test_an_item_that_came_back_unserved_never_has_a_receipt_scan(ems: Ems) -> None:
    await ems.script(phone=PHONE, delivery={"outcome": "returned", "reason": "moved"})
    number = await ems.book("att-32")
    await ems.finished(number)

    assert (await ems.scan(number))["retCode"] == "B00005"
    assert (await ems.scan("1100000000000"))["retCode"] == "B00002"
    assert (await ems.call(wire.API_RECEIPT_SCAN, {}))["retMsg"] == "缺少必填字段：waybillNo"


async def test_the_receipt_scan_obeys_the_gateway_checks_and_the_weather(ems: Ems) -> None:
    assert (await ems.call(wire.API_RECEIPT_SCAN, {"waybillNo": "1100000000000"}, authorization="0" * 32))["retCode"] == "S00001"
    assert (await ems.call(wire.API_RECEIPT_SCAN, {"waybillNo": "1100000000000"}, key=bytes(range(16))))["retCode"] == "S00002"
    async with running(create_app(sim_settings(outage_rate=1.0))) as client:
        stormy = Ems(client)
        assert (await stormy.post(wire.API_RECEIPT_SCAN, {"waybillNo": "1100000000000"})).status_code == 503
        await stormy.script(phone=PHONE, clean=True)
        assert (await stormy.scan(await stormy.book("att-33")))["retCode"] == "B00005"


def test_receipt_cards_differ_by_waybill_signer_and_date() -> None:
    signed = date(2026, 11, 24)
    cards = [
        receipts.card(waybill_no="1100000000017", signer="recipient", signed_on=signed),
        receipts.card(waybill_no="1100000000024", signer="recipient", signed_on=signed),
        receipts.card(waybill_no="1100000000017", signer="mail_room", signed_on=signed),
        receipts.card(waybill_no="1100000000017", signer="recipient", signed_on=signed + timedelta(days=1)),
    ]

    assert cards[0] == receipts.card(waybill_no="1100000000017", signer="recipient", signed_on=signed)
    assert len(set(cards)) == len(cards)


async def test_script_endpoint_validates_normalises_and_clears(ems: Ems) -> None:
    refusals = [
        ("phone: not a valid number", {"phone": "12345"}),
        ("give either phone or address", {"phone": PHONE, "address": ADDRESS}),
        ("give either phone or address", {}),
        ("address: must not be blank", {"address": "  "}),
        ("drop[0]: 999 is not a trace code", {"phone": PHONE, "drop": ["999"]}),
        ("delivery.delivered.signer: Input should be", {"phone": PHONE, "delivery": {"outcome": "delivered", "signer": "lawyer"}}),
        ("delivery.delivered.failed_attempts: Input should be less than or equal to 2", {"phone": PHONE, "delivery": {"outcome": "delivered", "failed_attempts": 3}}),
        ("delivery.returned.reason: Input should be", {"phone": PHONE, "delivery": {"outcome": "returned", "reason": "lost"}}),
        ("delivery: Input tag 'lost'", {"phone": PHONE, "delivery": {"outcome": "lost"}}),
        ("booking: Input should be 'accepted' or 'refused'", {"phone": PHONE, "booking": "maybe"}),
    ]
    for detail, body in refusals:
        response = await ems.http.post("/sim/script", json=body)
        assert response.status_code == 422, body
        assert response.headers["content-type"] == "application/problem+json"
        assert detail in response.json()["detail"], response.json()

    await ems.script(phone=f"+86{PHONE}", delivery={"outcome": "refused"})
    stored = await ems.script(phone=PHONE, delivery={"outcome": "delivered", "signer": "other", "signer_name": "赵六"}, drop=["801"])

    assert stored["phone"] == f"+86{PHONE}" and stored["drop"] == ["801"]
    assert (await ems.http.get("/sim/script")).json() == {"scripts": [stored]}
    assert (await ems.http.delete("/sim/script")).status_code == 204
    assert (await ems.http.get("/sim/script")).json() == {"scripts": []}


async def test_outages_and_slow_answers_spare_clean_items() -> None:
    async with running(create_app(sim_settings(outage_rate=1.0))) as client:
        ems = Ems(client)
        outage = await ems.post(wire.API_CREATE_WAYBILL, booking("att-18"))
        await ems.script(phone=PHONE, clean=True)
        assert re.fullmatch(r"11\d{11}", await ems.book("att-18"))
    assert outage.status_code == 503
    async with running(create_app(sim_settings(outage_rate=1.0, faults=False))) as client:
        assert re.fullmatch(r"11\d{11}", await Ems(client).book("att-19"))
    async with running(create_app(sim_settings(outage_rate=0.0, slow_answer_rate=1.0, slow_answer_seconds=0.3))) as client:
        started = time.monotonic()
        assert await Ems(client).book("att-20")
        assert time.monotonic() - started >= 0.3


async def test_random_push_faults_follow_their_rates_except_for_clean_items(webhook: Webhook) -> None:
    rates = {"duplicate_push_rate": 1.0, "drop_push_rate": 0.0, "reorder_push_rate": 0.0, "outage_rate": 0.0, "slow_answer_rate": 0.0}
    async with running(create_app(sim_settings(webhook.url, **rates))) as client:
        ems = Ems(client)
        await ems.script(phone=PHONE, delivery={"outcome": "refused"})
        await ems.script(address=ADDRESS, clean=True, delivery={"outcome": "refused"})
        doubled, clean = await ems.book("att-21"), await ems.book("att-22", phone="13900139002")
        await ems.finished(doubled)
        await ems.finished(clean)

    refused = ["203", "310", "306", "702", "706", "711"]
    assert codes(webhook.about(doubled)) == [code for code in refused for _ in range(2)]
    assert codes(webhook.about(clean)) == refused


async def test_shutdown_cancels_lives_in_flight() -> None:
    app = create_app(EmsSimSettings(faults=False, common=CommonSettings(clock="real")))
    async with running(app) as client:
        assert await Ems(client).book("att-23")
        assert [t for t in asyncio.all_tasks() if t.get_name().startswith("ems_sim.")]

    assert [t for t in asyncio.all_tasks() if t.get_name().startswith("ems_sim.") and not t.done()] == []


def test_random_mix_has_realistic_shares_and_repeats_with_a_seed() -> None:
    mix, again, other = RandomMix(seed=3), RandomMix(seed=3), RandomMix(seed=4)
    draws = [mix.delivery() for _ in range(20_000)]

    assert draws[:50] == [again.delivery() for _ in range(50)] != [other.delivery() for _ in range(50)]
    delivered = [d for d in draws if isinstance(d, Delivered)]
    assert 0.83 < len(delivered) / len(draws) < 0.91
    assert 0.70 < sum(d.signer in ("recipient", "family") for d in delivered) / len(delivered)
    assert 0.08 < sum(isinstance(d, Returned) for d in draws) / len(draws) < 0.14
    assert 0.01 < sum(isinstance(d, Refused) for d in draws) / len(draws) < 0.03
    assert sum(weight for _, weight in DELIVERY_MIX) == 100


@pytest.mark.parametrize("delivery", [Delivered(), Delivered(failed_attempts=2, signer="family"), Returned(reason="moved"), Refused()])
def test_every_planned_timeline_keeps_the_court_mail_rules(delivery: Any) -> None:
    for seed in range(200):
        booked = datetime.fromisoformat(EPOCH) + timedelta(minutes=random.Random(seed).randrange(24 * 60))
        nodes = plan(waybill_no="1100000000001", booked_at=booked, delivery=delivery, receiver_name="张三", station=station_for("264400"), mix=RandomMix(seed))

        times = [node.at for node in nodes]
        assert times == sorted(times) and times[0] > booked
        assert all(wire.parse_time(node.trace.op_time) == node.at for node in nodes)
        attempts = [node for node in nodes if node.trace.op_code in ("704", "705", "706")]
        assert [node.trace.attempt_delivery_code for node in attempts] == [str(n) for n in range(1, len(attempts) + 1)]
        assert len(attempts) <= 3
        days = [node.at.astimezone(SHANGHAI).date() for node in nodes]
        first_attempt, last_attempt = days[codes([node.trace for node in nodes]).index("702")], days[nodes.index(attempts[-1])]
        assert (last_attempt - first_attempt).days <= 4
        final = nodes[-1].trace.op_code
        if final == "711":
            assert 1 <= (days[-1] - last_attempt).days and (days[-1] - first_attempt).days <= 5
        else:
            assert final == "801" and 2 <= (days[-1] - last_attempt).days <= 4
        assert all(8 <= node.at.astimezone(SHANGHAI).hour < 18 for node in nodes if node.trace.op_code[0] in "78")
        assert all(node.trace.op_org_name == "威海市文登区投递部" for node in nodes if node.trace.op_code in ("306", "702"))
