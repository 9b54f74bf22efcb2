"""The EMS client against respx: encrypted form, retries on 5xx and timeouts, refusals raised, the circuit breaker."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import parse_qs

import httpx
import pytest
import respx

from services.carrier_gateway.adapters.ems.client import CarrierUnavailable, CircuitBreaker, CircuitOpen, EmsClient, ScanNotReady
from services.carrier_gateway.adapters.ems.mapper import CarrierRejected
from shared.contracts.ems_wire import API_CREATE_WAYBILL, API_RECEIPT_SCAN, PAYLOAD_FIELD, decrypt

ORIGIN = "http://ems.test"
URL = f"{ORIGIN}/api/gateway"
KEY = base64.b64decode("qjWoPE+0ODlwyYfhMxQCMw==")
NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
SCANNED = {
    "serialNo": "2",
    "retCode": "00000",
    "retMsg": "成功",
    "retDate": "2026-11-27 10:00:00",
    "retBody": {"waybillNo": "1190000000017", "imageType": "image/png", "image": base64.b64encode(PNG).decode()},
}
NOT_YET = {**SCANNED, "retCode": "B00005", "retMsg": "回执尚未返回", "retBody": None}
BOOKED = {"serialNo": "1", "retCode": "00000", "retMsg": "成功", "retDate": "2026-11-23 09:00:00", "retBody": {"waybillNo": "1190000000017", "logisticsOrderNo": "a-1"}}


class Ticks:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.value = 1000.0

    def __call__(self) -> float:
        return self.value


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


def client(*, attempts: int = 3, breaker: CircuitBreaker | None = None) -> EmsClient:
    return EmsClient(
        origin=ORIGIN,
        sender_no="37100200018",
        authorization="auth",
        key=KEY,
        now=lambda: NOW,
        breaker=breaker or CircuitBreaker(failures=100, cooldown_s=30),
        attempts=attempts,
        backoff_s=0.001,
        backoff_max_s=0.002,
        timeout_s=1.0,
    )


def form(request: httpx.Request) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(request.content.decode()).items()}


async def test_a_booking_goes_out_encrypted_with_the_customer_fields(api: respx.MockRouter) -> None:
    route = api.post(URL).respond(200, json=BOOKED)

    envelope = await client().create_waybill({"logisticsOrderNo": "a-1"})

    sent = form(route.calls.last.request)
    assert envelope.ok and envelope.ret_body == BOOKED["retBody"]
    assert (sent["senderNo"], sent["apiCode"], sent["authorization"], sent["msgType"], sent["timeStamp"]) == (
        "37100200018",
        API_CREATE_WAYBILL,
        "auth",
        "JSON",
        "2026-11-23 09:00:00",
    )
    assert decrypt(sent[PAYLOAD_FIELD], KEY) == {"logisticsOrderNo": "a-1"}


async def test_a_5xx_is_tried_again_until_ems_answers(api: respx.MockRouter) -> None:
    route = api.post(URL).mock(side_effect=[httpx.Response(502), httpx.Response(503), httpx.Response(200, json=BOOKED)])

    envelope = await client(attempts=3).create_waybill({"logisticsOrderNo": "a-1"})

    assert route.call_count == 3
    assert envelope.ret_body["waybillNo"] == "1190000000017"


async def test_timeouts_on_every_try_raise_unavailable(api: respx.MockRouter) -> None:
    route = api.post(URL).mock(side_effect=httpx.ReadTimeout("slow"))

    with pytest.raises(CarrierUnavailable, match="after 3 tries"):
        await client(attempts=3).track("1190000000017")

    assert route.call_count == 3


async def test_refused_authorisation_raises_rejected_without_retrying(api: respx.MockRouter) -> None:
    route = api.post(URL).respond(200, json={**BOOKED, "retCode": "S00001", "retMsg": "授权码无效", "retBody": None})

    with pytest.raises(CarrierRejected) as refused:
        await client().create_waybill({"logisticsOrderNo": "a-1"})

    assert refused.value.code == "S00001"
    assert route.call_count == 1


async def test_a_business_refusal_is_an_answer_not_an_error(api: respx.MockRouter) -> None:
    api.post(URL).respond(200, json={**BOOKED, "retCode": "B00004", "retMsg": "地址超区", "retBody": None})

    envelope = await client().create_waybill({"logisticsOrderNo": "a-1"})

    assert (envelope.ok, envelope.ret_code) == (False, "B00004")


async def test_a_wrong_address_is_rejected_not_retried(api: respx.MockRouter) -> None:
    route = api.post(URL).respond(404, text="no such path")

    with pytest.raises(CarrierRejected, match="HTTP 404"):
        await client().track("1190000000017")

    assert route.call_count == 1


async def test_a_garbled_answer_is_tried_again(api: respx.MockRouter) -> None:
    route = api.post(URL).mock(side_effect=[httpx.Response(200, text="<html>gateway</html>"), httpx.Response(200, json=BOOKED)])

    envelope = await client().create_waybill({"logisticsOrderNo": "a-1"})

    assert route.call_count == 2 and envelope.ok


async def test_the_circuit_opens_after_failures_in_a_row_and_lets_one_trial_through_after_the_cooldown(api: respx.MockRouter) -> None:
    ticks = Ticks()
    breaker = CircuitBreaker(failures=3, cooldown_s=30, now=ticks)
    ems = client(attempts=1, breaker=breaker)
    route = api.post(URL).respond(503)

    for _ in range(3):
        with pytest.raises(CarrierUnavailable):
            await ems.track("1190000000017")
    with pytest.raises(CircuitOpen):
        await ems.track("1190000000017")
    assert (route.call_count, breaker.state) == (3, "open")

    ticks.value += 31
    assert breaker.state == "half-open"
    with pytest.raises(CarrierUnavailable):
        await ems.track("1190000000017")
    assert (route.call_count, breaker.state) == (4, "open"), "a failed trial opens the circuit again"

    ticks.value += 31
    route.respond(200, json=BOOKED)
    assert (await ems.track("1190000000017")).ok
    assert (route.call_count, breaker.state, breaker.failed_in_a_row) == (5, "closed", 0)


async def test_an_open_circuit_stops_the_retries_of_the_request_that_opened_it(api: respx.MockRouter) -> None:
    breaker = CircuitBreaker(failures=2, cooldown_s=30, now=Ticks())
    route = api.post(URL).respond(500)

    with pytest.raises(CircuitOpen):
        await client(attempts=5, breaker=breaker).track("1190000000017")

    assert route.call_count == 2


async def test_a_receipt_scan_comes_back_as_its_bytes_and_content_type(api: respx.MockRouter) -> None:
    route = api.post(URL).respond(200, json=SCANNED)

    image, content_type = await client().receipt_scan("1190000000017")

    sent = form(route.calls.last.request)
    assert (image, content_type) == (PNG, "image/png")
    assert sent["apiCode"] == API_RECEIPT_SCAN and decrypt(sent[PAYLOAD_FIELD], KEY) == {"waybillNo": "1190000000017"}


async def test_no_receipt_yet_raises_scan_not_ready_without_retrying(api: respx.MockRouter) -> None:
    route = api.post(URL).respond(200, json=NOT_YET)

    with pytest.raises(ScanNotReady):
        await client().receipt_scan("1190000000017")

    assert route.call_count == 1


async def test_a_receipt_scan_is_tried_again_through_5xx_like_every_request(api: respx.MockRouter) -> None:
    route = api.post(URL).mock(side_effect=[httpx.Response(503), httpx.Response(200, json=SCANNED)])

    image, _ = await client().receipt_scan("1190000000017")

    assert route.call_count == 2 and image == PNG


async def test_an_unknown_waybill_is_rejected_and_an_unreadable_scan_is_unavailable(api: respx.MockRouter) -> None:
    route = api.post(URL).respond(200, json={**NOT_YET, "retCode": "B00002", "retMsg": "运单不存在"})
    with pytest.raises(CarrierRejected) as rejected:
        await client().receipt_scan("1190000000017")
    assert rejected.value.code == "B00002"

    route.respond(200, json={**SCANNED, "retBody": {**SCANNED["retBody"], "image": "not base64!"}})
    with pytest.raises(CarrierUnavailable, match="unreadable scan"):
        await client().receipt_scan("1190000000017")
