"""The Twilio adapter drives the real SDK against Twilio's URLs, intercepted by respx."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import respx
from twilio.base.exceptions import TwilioRestException

from services.delivery.adapters.twilio import (
    FakeTelephony,
    ProviderResult,
    ProviderUnavailable,
    TwilioTelephony,
    notice_twiml,
    sign,
    verify_signature,
)

SID = "AC" + "a1" * 16
TOKEN = "twilio-test-auth-token"
FROM = "+15005550006"
TO = "+8613800138000"
ACCOUNT = f"/2010-04-01/Accounts/{SID}"
API = f"https://api.twilio.com{ACCOUNT}"
SIMULATOR = "http://127.0.0.1:8011"
SMS_CALLBACK = "https://delivery.example/webhooks/twilio/status?attempt=a-1"


def message(*, sid: str, body: str, status: str = "queued") -> dict[str, Any]:
    """A Message resource as Twilio returns it."""
    return {
        "sid": sid,
        "account_sid": SID,
        "to": TO,
        "from": FROM,
        "body": body,
        "status": status,
        "direction": "outbound-api",
        "num_segments": "1",
        "date_created": "Mon, 01 Jun 2026 08:00:00 +0000",
        "date_sent": None if status == "queued" else "Mon, 01 Jun 2026 08:00:01 +0000",
        "error_code": None,
        "error_message": None,
        "uri": f"{ACCOUNT}/Messages/{sid}.json",
    }


def page(messages: list[dict[str, Any]], *, next_page_uri: str | None) -> dict[str, Any]:
    """A page of the Messages list as Twilio returns it."""
    return {
        "messages": messages,
        "page": 0,
        "page_size": 50,
        "start": 0,
        "end": len(messages) - 1,
        "uri": f"{ACCOUNT}/Messages.json",
        "first_page_uri": f"{ACCOUNT}/Messages.json?PageSize=50&Page=0",
        "previous_page_uri": None,
        "next_page_uri": next_page_uri,
    }


def form(request: httpx.Request) -> dict[str, list[str]]:
    return parse_qs(request.content.decode())


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.fixture
async def telephony() -> AsyncIterator[TwilioTelephony]:
    adapter = TwilioTelephony(account_sid=SID, auth_token=TOKEN, from_number=FROM)
    yield adapter
    await adapter.close()


async def test_an_accepted_sms_returns_the_sid_and_sends_twilios_form(api: respx.MockRouter, telephony: TwilioTelephony) -> None:
    sid = "SM" + "0" * 31 + "1"
    route = api.post(f"{API}/Messages.json").respond(201, json=message(sid=sid, body="送达通知 a-1"))

    result = await telephony.send_sms(to=TO, body="送达通知 a-1", status_callback=SMS_CALLBACK)

    assert result == ProviderResult(accepted=True, provider_ref=sid, status="queued")
    request = route.calls.last.request
    assert form(request) == {"To": [TO], "From": [FROM], "Body": ["送达通知 a-1"], "StatusCallback": [SMS_CALLBACK]}
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    assert ProviderResult.from_dict(result.to_dict()) == result


async def test_a_definite_refusal_is_a_rejected_result(api: respx.MockRouter, telephony: TwilioTelephony) -> None:
    api.post(f"{API}/Messages.json").respond(
        400,
        json={
            "code": 21211,
            "message": "The 'To' number +8613800138000 is not a valid phone number.",
            "more_info": "https://www.twilio.com/docs/errors/21211",
            "status": 400,
        },
    )

    result = await telephony.send_sms(to=TO, body="x", status_callback=SMS_CALLBACK)

    assert (result.accepted, result.provider_ref, result.status, result.error_code) == (False, None, "rejected", 21211)
    assert result.error_message is not None and "not a valid phone number" in result.error_message
    assert ProviderResult.from_dict(result.to_dict()) == result


@pytest.mark.parametrize("status", [500, 503, 429])
async def test_a_server_error_or_rate_limit_leaves_the_outcome_unknown(api: respx.MockRouter, telephony: TwilioTelephony, status: int) -> None:
    api.post(f"{API}/Messages.json").respond(status, json={"code": 20500, "message": "Internal error", "status": status})

    with pytest.raises(ProviderUnavailable) as raised:
        await telephony.send_sms(to=TO, body="x", status_callback=SMS_CALLBACK)

    assert isinstance(raised.value.__cause__, TwilioRestException)


@pytest.mark.parametrize("error", [httpx.ReadTimeout("read timed out"), httpx.ConnectError("refused")])
async def test_a_timeout_or_connection_error_leaves_the_outcome_unknown(api: respx.MockRouter, telephony: TwilioTelephony, error: Exception) -> None:
    api.post(f"{API}/Calls.json").mock(side_effect=error)

    with pytest.raises(ProviderUnavailable) as raised:
        await telephony.place_call(to=TO, twiml="<Response/>", status_callback=SMS_CALLBACK)

    assert raised.value.__cause__ is error


async def test_a_call_sends_the_twiml_asks_for_its_final_status_and_recording(api: respx.MockRouter, telephony: TwilioTelephony) -> None:
    sid = "CA" + "0" * 31 + "7"
    call = {"sid": sid, "account_sid": SID, "to": TO, "from": FROM, "status": "queued"}
    route = api.post(f"{API}/Calls.json").respond(201, json=call)
    twiml = notice_twiml(court_name="威海市环翠区人民法院", case_number="（2024）鲁1002民初1234号", callback_hint="电话0631-5200000")

    result = await telephony.place_call(
        to=TO,
        twiml=twiml,
        status_callback="https://delivery.example/webhooks/twilio/status?attempt=a-2",
        recording_callback="https://delivery.example/webhooks/twilio/recording?attempt=a-2",
    )

    assert result == ProviderResult(accepted=True, provider_ref=sid, status="queued")
    sent = form(route.calls.last.request)
    assert sent["Twiml"] == [twiml]
    assert sent["StatusCallbackEvent"] == ["completed"]  # the intermediate events decide nothing
    assert sent["StatusCallbackMethod"] == ["POST"]
    assert sent["Record"] == ["true"]
    assert sent["RecordingStatusCallback"] == ["https://delivery.example/webhooks/twilio/recording?attempt=a-2"]


async def test_a_call_without_recording_callback_is_not_recorded(api: respx.MockRouter, telephony: TwilioTelephony) -> None:
    route = api.post(f"{API}/Calls.json").respond(201, json={"sid": "CA" + "1" * 32, "status": "queued"})

    await telephony.place_call(to=TO, twiml="<Response/>", status_callback=SMS_CALLBACK)

    assert "Record" not in form(route.calls.last.request)


async def test_find_sms_returns_the_message_holding_the_token_across_pages(api: respx.MockRouter, telephony: TwilioTelephony) -> None:
    next_page = f"{ACCOUNT}/Messages.json?To=%2B8613800138000&PageSize=50&Page=1&PageToken=PASM1"
    first_page = page([message(sid="SM" + "2" * 32, body="other token b-9", status="delivered")], next_page_uri=next_page)
    second_page = page([message(sid="SM" + "3" * 32, body="您的文书 a-1", status="sent")], next_page_uri=None)
    route = api.get(f"{API}/Messages.json").mock(side_effect=lambda request: httpx.Response(200, json=second_page if "PageToken" in request.url.params else first_page))

    found = await telephony.find_sms(to=TO, containing="a-1")
    missing = await telephony.find_sms(to=TO, containing="a-404")

    assert found == ProviderResult(accepted=True, provider_ref="SM" + "3" * 32, status="sent")
    assert missing is None
    first = route.calls[0].request.url.params
    assert first["To"] == TO
    assert "DateSent>" not in first, "a queued message has no date_sent yet; a date filter would hide it"
    assert route.calls[1].request.url.params["PageToken"] == "PASM1"


async def test_find_sms_that_cannot_list_raises_instead_of_answering_none(api: respx.MockRouter, telephony: TwilioTelephony) -> None:
    api.get(f"{API}/Messages.json").respond(503)

    with pytest.raises(ProviderUnavailable):
        await telephony.find_sms(to=TO, containing="a-1")


async def test_an_origin_sends_every_request_there_instead_of_to_twilio(api: respx.MockRouter) -> None:
    adapter = TwilioTelephony(account_sid=SID, auth_token=TOKEN, from_number=FROM, origin=SIMULATOR)
    sent = api.post(f"{SIMULATOR}{ACCOUNT}/Messages.json").respond(201, json=message(sid="SM" + "4" * 32, body="x"))
    listed = api.get(f"{SIMULATOR}{ACCOUNT}/Messages.json").mock(
        side_effect=[
            httpx.Response(200, json=page([], next_page_uri=f"{ACCOUNT}/Messages.json?Page=1&PageToken=PA1")),
            httpx.Response(200, json=page([message(sid="SM" + "4" * 32, body="x", status="sent")], next_page_uri=None)),
        ]
    )
    try:
        await adapter.send_sms(to=TO, body="x", status_callback=SMS_CALLBACK)
        found = await adapter.find_sms(to=TO, containing="x")
    finally:
        await adapter.close()

    assert sent.call_count == 1
    assert listed.call_count == 2
    assert found is not None and found.provider_ref == "SM" + "4" * 32


def test_sign_matches_twilios_published_example() -> None:
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    params = {"CallSid": "CA1234567890ABCDE", "Caller": "+14158675309", "Digits": "1234", "From": "+14158675309", "To": "+18005551212"}

    assert sign(auth_token="12345", url=url, params=params) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="


def test_verify_signature_accepts_only_the_signed_url_and_params() -> None:
    url = "https://delivery.example/webhooks/twilio/status?attempt=a-1"
    params = {"MessageSid": "SM" + "5" * 32, "MessageStatus": "delivered", "To": TO}
    signature = sign(auth_token=TOKEN, url=url, params=params)

    assert verify_signature(auth_token=TOKEN, url=url, params=params, signature=signature)
    assert not verify_signature(auth_token=TOKEN, url=url, params={**params, "MessageStatus": "failed"}, signature=signature)
    assert not verify_signature(auth_token=TOKEN, url=url.replace("a-1", "a-2"), params=params, signature=signature)
    assert not verify_signature(auth_token="another-token", url=url, params=params, signature=signature)
    assert not verify_signature(auth_token=TOKEN, url=url, params=params, signature=None)
    assert not verify_signature(auth_token=TOKEN, url=url, params=params, signature="")


def test_notice_twiml_reads_the_case_in_mandarin_twice_and_hangs_up() -> None:
    twiml = notice_twiml(court_name="威海市环翠区人民法院", case_number="（2024）鲁1002民初1234号", callback_hint="请拨打0631-5200000")

    assert "（2024）鲁1002民初1234号" in twiml
    assert "威海市环翠区人民法院" in twiml
    assert 'language="zh-CN"' in twiml
    assert 'loop="2"' in twiml
    assert twiml.endswith("<Hangup /></Response>")


async def test_the_fake_answers_as_scripted_and_can_fail_after_or_before_sending() -> None:
    fake = FakeTelephony()
    landline = "+865318888888"
    refusal = ProviderResult(accepted=False, provider_ref=None, status="rejected", error_code=21614, error_message="not a mobile number")
    fake.script(landline, refusal)

    fake.fail_next(delivered=True)
    with pytest.raises(ProviderUnavailable):
        await fake.send_sms(to=TO, body="文书 a-1", status_callback=SMS_CALLBACK)
    fake.fail_next(delivered=False)
    with pytest.raises(ProviderUnavailable):
        await fake.send_sms(to=TO, body="文书 a-2", status_callback=SMS_CALLBACK)

    assert await fake.find_sms(to=TO, containing="a-1") == fake.messages[0].result
    assert await fake.find_sms(to=TO, containing="a-2") is None
    assert await fake.send_sms(to=landline, body="x", status_callback=SMS_CALLBACK) == refusal
    call = await fake.place_call(to=TO, twiml="<Response/>", status_callback=SMS_CALLBACK)
    assert call.accepted and call.provider_ref is not None and call.provider_ref.startswith("CA")
    assert [sms.body for sms in fake.messages] == ["文书 a-1", "x"]
