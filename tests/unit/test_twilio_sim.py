"""Twilio simulator: the official SDK sends and reads through it, and signed callbacks arrive in Twilio's order."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from services.delivery.adapters.twilio import HttpxTwilioClient
from shared.plumbing.settings import DEV_TWILIO_ACCOUNT_SID as DEV_ACCOUNT_SID
from shared.plumbing.settings import DEV_TWILIO_AUTH_TOKEN as DEV_AUTH_TOKEN
from shared.plumbing.settings import CommonSettings
from simulators.twilio_sim.config import TwilioSimSettings
from simulators.twilio_sim.main import create_app
from simulators.twilio_sim.mix import RandomMix
from simulators.twilio_sim.outcomes import Completed, Delivered, Failed, Undelivered
from simulators.twilio_sim.resources import segments
from tests.support import eventually, free_port, running, serving

EPOCH = "2026-11-23T01:00:00+00:00"
SENDER = "+15005550006"
MOBILE = "+8613800138000"
OTHER_MOBILE = "+8613900139000"
# A Weihai fixed line (0631 area code).
LANDLINE = "+866315201234"
TWIML = '<Response><Say language="zh-CN">您有法院文书待领取</Say></Response>'
NOTICE_SMS = "【威海市环翠区人民法院】您有一份诉讼文书，请登录送达平台查收。"
MESSAGE_FINAL = {"delivered", "undelivered", "failed"}
CALL_FINAL = {"completed", "no-answer", "busy", "failed"}


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith(("SONGDA_", "TWILIO_SIM_", "TWILIO_"))]:
        monkeypatch.delenv(name)


def sim_settings(**overrides: Any) -> TwilioSimSettings:
    """Returns settings on a clock 3600 times faster than real time, anchored now so dates stay near the epoch."""
    common = CommonSettings(clock="scaled", clock_epoch=EPOCH, clock_anchor=datetime.now(UTC).isoformat(), time_scale=3600)
    return TwilioSimSettings(common=common, **overrides)


@dataclass
class Sim:
    """A running simulator, the SDK pointed at it, and a plain client for /sim."""

    base: str
    twilio: Client
    http: httpx.AsyncClient
    clients: list[HttpxTwilioClient]

    def sdk(self, account_sid: str = DEV_ACCOUNT_SID, auth_token: str = DEV_AUTH_TOKEN) -> Client:
        """Returns an SDK client with other credentials, on delivery's own HTTP client pointed at the simulator."""
        client = HttpxTwilioClient(origin=self.base)
        self.clients.append(client)
        return Client(account_sid, auth_token, http_client=client)

    async def script(self, number: str, **channels: dict[str, Any]) -> None:
        """Scripts outcomes for a number."""
        response = await self.http.post("/sim/script", json={"number": number, **channels})
        assert response.status_code == 200, response.text

    async def received(self, kind: str, to: str) -> list[dict[str, Any]]:
        """Returns what /sim/messages or /sim/calls lists for a number."""
        response = await self.http.get(f"/sim/{kind}", params={"to": to})
        assert response.status_code == 200, response.text
        return response.json()[kind]


@dataclass(frozen=True)
class Callback:
    """One POST the receiver got."""

    path: str
    url: str
    params: dict[str, str]
    headers: dict[str, str]


class Receiver:
    """Records every callback posted to it; answers 503 to the first `refusals` of them."""

    def __init__(self) -> None:
        self.callbacks: list[Callback] = []
        self.refusals = 0
        self.base = ""
        self.app = Starlette(routes=[Route("/healthz", self._health), Route("/{path:path}", self._record, methods=["POST"])])

    async def _health(self, request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    async def _record(self, request: Request) -> PlainTextResponse:
        form = await request.form()
        self.callbacks.append(Callback(request.url.path, str(request.url), {k: str(v) for k, v in form.items()}, dict(request.headers)))
        if self.refusals:
            self.refusals -= 1
            return PlainTextResponse("try later", status_code=503)
        return PlainTextResponse("")

    def url(self, path: str) -> str:
        """Returns the absolute URL of a path on the receiver."""
        return self.base + path

    def about(self, key: str, sid: str, *, path: str | None = None) -> list[Callback]:
        """Returns the callbacks whose `key` parameter is `sid`, in arrival order."""
        return [c for c in self.callbacks if c.params.get(key) == sid and path in (None, c.path)]

    def arrived(self, key: str, sid: str, *, count: int, path: str | None = None) -> Callable[[], Awaitable[list[Callback]]]:
        """Returns a check for `eventually` that holds once `count` callbacks about `sid` arrived."""

        async def check() -> list[Callback]:
            found = self.about(key, sid, path=path)
            return found if len(found) >= count else []

        return check


@pytest.fixture
async def sim() -> AsyncIterator[Sim]:
    async with serving(create_app(sim_settings(seed=7)), free_port()) as base, httpx.AsyncClient(base_url=base) as http:
        clients = [HttpxTwilioClient(origin=base)]
        sim = Sim(base=base, twilio=Client(DEV_ACCOUNT_SID, DEV_AUTH_TOKEN, http_client=clients[0]), http=http, clients=clients)
        try:
            yield sim
        finally:
            for client in sim.clients:
                await client.close()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    async with serving(receiver.app, free_port()) as base:
        receiver.base = base
        yield receiver


def assert_signed(callback: Callback, url: str) -> None:
    """Checks a callback was posted to `url` and signed for it as the official validator expects."""
    assert callback.url == url
    assert RequestValidator(DEV_AUTH_TOKEN).validate(url, callback.params, callback.headers["x-twilio-signature"])
    assert callback.headers["user-agent"] == "TwilioProxy/1.1"
    assert callback.headers["content-type"].startswith("application/x-www-form-urlencoded")


async def test_healthz_says_there_is_no_consumer(sim: Sim) -> None:
    response = await sim.http.get("/healthz")

    assert response.json() == {"service": "twilio_sim", "status": "ok", "kafka": {"consumer": "none"}}


async def test_delivered_sms_calls_back_queued_sent_delivered_signed(sim: Sim, receiver: Receiver) -> None:
    await sim.script(MOBILE, sms={"outcome": "delivered"})
    url = receiver.url("/webhooks/twilio/status?attempt=a1")

    message = await sim.twilio.messages.create_async(to=MOBILE, from_=SENDER, body=NOTICE_SMS, status_callback=url)

    assert message.sid.startswith("SM") and len(message.sid) == 34
    assert (message.status, message.direction, message.to, message.from_) == ("queued", "outbound-api", MOBILE, SENDER)
    assert (message.account_sid, message.api_version, message.body) == (DEV_ACCOUNT_SID, "2010-04-01", NOTICE_SMS)
    assert abs(message.date_created - datetime.fromisoformat(EPOCH)) < timedelta(days=1)
    assert message.date_sent is None and message.price is None and message.error_code is None
    assert (message.num_segments, message.num_media, message.price_unit) == ("1", "0", "USD")
    assert message.uri == f"/2010-04-01/Accounts/{DEV_ACCOUNT_SID}/Messages/{message.sid}.json"
    callbacks = await eventually(receiver.arrived("MessageSid", message.sid, count=3), what="three message callbacks")
    assert [c.params["MessageStatus"] for c in callbacks] == ["queued", "sent", "delivered"]
    for callback in callbacks:
        assert_signed(callback, url)
        assert callback.params["SmsStatus"] == callback.params["MessageStatus"]
        assert callback.params["SmsSid"] == message.sid
        assert (callback.params["AccountSid"], callback.params["From"], callback.params["To"]) == (DEV_ACCOUNT_SID, SENDER, MOBILE)
        assert callback.params["ApiVersion"] == "2010-04-01"
        assert "ErrorCode" not in callback.params
    assert len({c.headers["i-twilio-idempotency-token"] for c in callbacks}) == 3
    tampered = {**callbacks[-1].params, "MessageStatus": "undelivered"}
    assert not RequestValidator(DEV_AUTH_TOKEN).validate(url, tampered, callbacks[-1].headers["x-twilio-signature"])
    fetched = await sim.twilio.messages(message.sid).fetch_async()
    assert fetched.status == "delivered"
    assert fetched.date_sent is not None and fetched.date_created <= fetched.date_sent <= fetched.date_updated


async def test_scripted_undelivered_carries_the_error_code(sim: Sim, receiver: Receiver) -> None:
    await sim.script(MOBILE, sms={"outcome": "undelivered", "error_code": 30006})
    url = receiver.url("/status")

    message = await sim.twilio.messages.create_async(to=MOBILE, from_=SENDER, body=NOTICE_SMS, status_callback=url)

    callbacks = await eventually(receiver.arrived("MessageSid", message.sid, count=3), what="three message callbacks")
    assert [c.params["MessageStatus"] for c in callbacks] == ["queued", "sent", "undelivered"]
    assert (callbacks[-1].params["ErrorCode"], callbacks[-1].params["ErrorMessage"]) == ("30006", "Landline or unreachable carrier")
    assert_signed(callbacks[-1], url)
    fetched = await sim.twilio.messages(message.sid).fetch_async()
    assert (fetched.status, fetched.error_code, fetched.error_message) == ("undelivered", 30006, "Landline or unreachable carrier")


async def test_failed_sms_is_never_sent(sim: Sim, receiver: Receiver) -> None:
    await sim.script(MOBILE, sms={"outcome": "failed", "error_code": 30008})

    message = await sim.twilio.messages.create_async(to=MOBILE, from_=SENDER, body="x", status_callback=receiver.url("/s"))

    callbacks = await eventually(receiver.arrived("MessageSid", message.sid, count=2), what="two message callbacks")
    assert [(c.params["MessageStatus"], c.params.get("ErrorCode")) for c in callbacks] == [("queued", None), ("failed", "30008")]
    fetched = await sim.twilio.messages(message.sid).fetch_async()
    assert (fetched.status, fetched.date_sent) == ("failed", None)


@pytest.mark.parametrize(
    ("code", "text"),
    [(21211, f"The 'To' number {MOBILE} is not a valid phone number."), (21614, "'To' number is not a valid mobile number"), (21635, "'To' number cannot be a landline")],
)
async def test_scripted_refusal_raises_in_the_sdk_and_creates_nothing(sim: Sim, code: int, text: str) -> None:
    await sim.script(MOBILE, sms={"outcome": "rejected", "error_code": code})

    with pytest.raises(TwilioRestException) as caught:
        await sim.twilio.messages.create_async(to=MOBILE, from_=SENDER, body=NOTICE_SMS)

    assert (caught.value.status, caught.value.code) == (400, code)
    assert text in caught.value.msg
    assert await sim.received("messages", MOBILE) == []


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"to": "", "from_": SENDER, "body": "x"}, 21604),
        ({"to": MOBILE, "from_": SENDER}, 21602),
        ({"to": MOBILE, "body": "x"}, 21603),
        ({"to": "+86123", "from_": SENDER, "body": "x"}, 21211),
        ({"to": "13800138000", "from_": SENDER, "body": "x"}, 21211),
        ({"to": MOBILE, "from_": SENDER, "body": "x" * 1601}, 21617),
    ],
)
async def test_incomplete_sms_requests_are_refused_like_twilio(sim: Sim, fields: dict[str, str], code: int) -> None:
    with pytest.raises(TwilioRestException) as caught:
        await sim.twilio.messages.create_async(**fields)

    assert (caught.value.status, caught.value.code) == (400, code)


async def test_messaging_service_send_is_accepted_first(sim: Sim) -> None:
    service = "MG" + "0" * 32

    message = await sim.twilio.messages.create_async(to=MOBILE, messaging_service_sid=service, body=NOTICE_SMS)

    assert (message.status, message.messaging_service_sid, message.from_) == ("accepted", service, None)


@pytest.mark.parametrize(
    ("outcome", "statuses"),
    [
        ("no-answer", ["initiated", "ringing", "no-answer"]),
        ("busy", ["initiated", "ringing", "busy"]),
        ("failed", ["initiated", "failed"]),
    ],
)
async def test_unanswered_call_reports_the_events_asked_for(sim: Sim, receiver: Receiver, outcome: str, statuses: list[str]) -> None:
    await sim.script(MOBILE, call={"outcome": outcome})
    url = receiver.url("/calls/status")
    events = ["initiated", "ringing", "answered", "completed"]

    call = await sim.twilio.calls.create_async(to=MOBILE, from_=SENDER, twiml=TWIML, status_callback=url, status_callback_event=events)

    assert call.sid.startswith("CA") and len(call.sid) == 34
    assert (call.status, call.direction, call.start_time, call.end_time, call.duration) == ("queued", "outbound-api", None, None, None)
    callbacks = await eventually(receiver.arrived("CallSid", call.sid, count=len(statuses)), what=f"{len(statuses)} call callbacks")
    assert [c.params["CallStatus"] for c in callbacks] == statuses
    assert [c.params["SequenceNumber"] for c in callbacks] == [str(n) for n in range(len(statuses))]
    for callback in callbacks:
        assert_signed(callback, url)
        assert (callback.params["Direction"], callback.params["From"], callback.params["To"]) == ("outbound-api", SENDER, MOBILE)
        assert parsedate_to_datetime(callback.params["Timestamp"]).tzinfo is not None
        assert "CallDuration" not in callback.params
    fetched = await sim.twilio.calls(call.sid).fetch_async()
    assert (fetched.status, fetched.duration) == (outcome, "0")
    assert fetched.start_time is not None and fetched.end_time is not None


async def test_completed_call_reports_its_end_and_its_recording(sim: Sim, receiver: Receiver) -> None:
    await sim.script(MOBILE, call={"outcome": "completed", "duration": 42})
    status_url, recording_url = receiver.url("/calls/status"), receiver.url("/calls/recording")

    call = await sim.twilio.calls.create_async(
        to=MOBILE, from_=SENDER, url="https://example.org/twiml", status_callback=status_url, record=True, recording_status_callback=recording_url
    )

    recordings = await eventually(receiver.arrived("CallSid", call.sid, count=1, path="/calls/recording"), what="the recording callback")
    statuses = receiver.about("CallSid", call.sid, path="/calls/status")
    assert [(c.params["CallStatus"], c.params["CallDuration"], c.params["SequenceNumber"]) for c in statuses] == [("completed", "42", "0")]
    assert_signed(statuses[0], status_url)
    recording = recordings[0].params
    assert_signed(recordings[0], recording_url)
    assert recording["RecordingSid"].startswith("RE") and len(recording["RecordingSid"]) == 34
    assert (recording["RecordingStatus"], recording["RecordingDuration"], recording["AccountSid"]) == ("completed", "42", DEV_ACCOUNT_SID)
    assert recording["RecordingUrl"].endswith(f"/Accounts/{DEV_ACCOUNT_SID}/Recordings/{recording['RecordingSid']}")
    fetched = await sim.twilio.calls(call.sid).fetch_async()
    assert (fetched.status, fetched.duration) == ("completed", "42")


async def test_wrong_credentials_or_account_get_401(sim: Sim) -> None:
    for client in (sim.sdk(auth_token="f" * 32), sim.sdk(account_sid="AC" + "f" * 32)):
        with pytest.raises(TwilioRestException) as caught:
            await client.messages.create_async(to=MOBILE, from_=SENDER, body="x")
        assert (caught.value.status, caught.value.code) == (401, 20003)

    response = await sim.http.get(f"/2010-04-01/Accounts/{DEV_ACCOUNT_SID}/Messages.json")

    assert response.status_code == 401
    assert response.json() == {"code": 20003, "message": "Authenticate", "more_info": "https://www.twilio.com/docs/errors/20003", "status": 401}
    assert await sim.received("messages", MOBILE) == []


async def test_unknown_resources_are_404(sim: Sim) -> None:
    for fetch in (sim.twilio.messages("SM" + "0" * 32).fetch_async, sim.twilio.calls("CA" + "0" * 32).fetch_async):
        with pytest.raises(TwilioRestException) as caught:
            await fetch()
        assert (caught.value.status, caught.value.code) == (404, 20404)


async def test_list_filters_by_to_and_date_sent_through_the_sdk(sim: Sim) -> None:
    for number in (MOBILE, OTHER_MOBILE):
        await sim.script(number, sms={"outcome": "delivered"})
    first = await sim.twilio.messages.create_async(to=MOBILE, from_=SENDER, body="one")
    second = await sim.twilio.messages.create_async(to=MOBILE, from_=SENDER, body="two")
    other = await sim.twilio.messages.create_async(to=OTHER_MOBILE, from_=SENDER, body="three")

    async def all_delivered() -> bool:
        response = await sim.http.get("/sim/messages")
        return all(m["status"] == "delivered" for m in response.json()["messages"])

    await eventually(all_delivered, what="every message delivered", interval=0.02)
    before = first.date_created - timedelta(minutes=1)
    listed = await sim.twilio.messages.list_async(to=MOBILE, date_sent_after=before)
    assert [m.sid for m in listed] == [second.sid, first.sid]
    assert all(m.status == "delivered" and m.date_sent is not None for m in listed)
    paged = await sim.twilio.messages.list_async(to=MOBILE, page_size=1)
    assert [m.sid for m in paged] == [second.sid, first.sid]
    assert [m.sid for m in await sim.twilio.messages.list_async(to=OTHER_MOBILE)] == [other.sid]
    last_sent = max(m.date_sent for m in listed)
    assert await sim.twilio.messages.list_async(to=MOBILE, date_sent_after=last_sent + timedelta(minutes=1)) == []
    assert await sim.twilio.messages.list_async(to=MOBILE, date_sent_before=before) == []
    assert len(await sim.received("messages", "13800138000")) == 2


async def settled(client: httpx.AsyncClient, *, messages: int, calls: int) -> tuple[list[tuple[str, int | None]], list[tuple[str, str | None]]]:
    """Waits until every message and call reached a final status; returns their outcomes in order."""

    async def check() -> tuple[list[tuple[str, int | None]], list[tuple[str, str | None]]] | None:
        sent = (await client.get("/sim/messages")).json()["messages"]
        placed = (await client.get("/sim/calls")).json()["calls"]
        if len(sent) < messages or len(placed) < calls:
            return None
        if any(m["status"] not in MESSAGE_FINAL for m in sent) or any(c["status"] not in CALL_FINAL for c in placed):
            return None
        return [(m["status"], m["error_code"]) for m in sent], [(c["status"], c["duration"]) for c in placed]

    return await eventually(check, what="every message and call settled", interval=0.02)


async def run_traffic(seed: int) -> tuple[list[tuple[str, int | None]], list[tuple[str, str | None]]]:
    """Sends the same 40 SMS and 20 calls to unscripted mobiles through a simulator seeded with `seed`."""
    auth = (DEV_ACCOUNT_SID, DEV_AUTH_TOKEN)
    base = f"/2010-04-01/Accounts/{DEV_ACCOUNT_SID}"
    async with running(create_app(sim_settings(seed=seed))) as client:
        for index in range(40):
            response = await client.post(f"{base}/Messages.json", data={"To": f"+86139{index:08d}", "From": SENDER, "Body": "x"}, auth=auth)
            assert response.status_code == 201, response.text
        for index in range(20):
            response = await client.post(f"{base}/Calls.json", data={"To": f"+86139{index:08d}", "From": SENDER, "Twiml": TWIML}, auth=auth)
            assert response.status_code == 201, response.text
        return await settled(client, messages=40, calls=20)


async def test_random_mix_repeats_with_the_same_seed() -> None:
    first, again, other = await run_traffic(11), await run_traffic(11), await run_traffic(12)

    assert first == again
    assert first != other
    sms, calls = first
    assert len(set(sms)) > 1 and len(set(calls)) > 1


def test_random_mix_has_realistic_shares() -> None:
    mix = RandomMix(seed=3)
    sms = [mix.sms() for _ in range(20_000)]
    calls = [mix.call() for _ in range(20_000)]

    assert 0.86 < sms.count(Delivered()) / len(sms) < 0.90
    assert 0.025 < sms.count(Undelivered(error_code=30006)) / len(sms) < 0.035
    assert 0.015 < sms.count(Failed(error_code=30008)) / len(sms) < 0.025
    completed = [c for c in calls if isinstance(c, Completed)]
    assert 0.58 < len(completed) / len(calls) < 0.62
    assert {c.duration for c in completed} == set(range(20, 91))
    assert 0.23 < sum(c.outcome == "no-answer" for c in calls) / len(calls) < 0.27


async def test_fixed_line_gets_undelivered_30006_unless_scripted_and_calls_normally(sim: Sim) -> None:
    await sim.twilio.messages.create_async(to=LANDLINE, from_=SENDER, body=NOTICE_SMS)
    await sim.twilio.calls.create_async(to=LANDLINE, from_=SENDER, twiml=TWIML)

    sms, calls = await settled(sim.http, messages=1, calls=1)

    assert sms == [("undelivered", 30006)]
    assert calls[0][0] in CALL_FINAL
    await sim.script(LANDLINE, sms={"outcome": "delivered"})
    await sim.twilio.messages.create_async(to=LANDLINE, from_=SENDER, body=NOTICE_SMS)
    sms, _ = await settled(sim.http, messages=2, calls=1)
    assert sms[1] == ("delivered", None)


async def test_script_endpoint_validates_merges_and_clears(sim: Sim) -> None:
    refusals = {
        "sms: Input tag 'lost'": {"number": MOBILE, "sms": {"outcome": "lost"}},
        "call: Input tag 'hung-up'": {"number": MOBILE, "call": {"outcome": "hung-up"}},
        "sms.undelivered.error_code: 12345 is not a carrier error": {"number": MOBILE, "sms": {"outcome": "undelivered", "error_code": 12345}},
        "sms.rejected.error_code: 30006 is not a refusal": {"number": MOBILE, "sms": {"outcome": "rejected", "error_code": 30006}},
        "number: not a valid number": {"number": "12345", "sms": {"outcome": "delivered"}},
        "give sms, call or both": {"number": MOBILE},
    }
    for detail, body in refusals.items():
        response = await sim.http.post("/sim/script", json=body)
        assert response.status_code == 422, body
        assert detail in response.json()["detail"], response.json()

    await sim.script("13800138000", sms={"outcome": "undelivered", "error_code": 30003})
    await sim.script(MOBILE, call={"outcome": "busy"})
    await sim.script(MOBILE, sms={"outcome": "delivered"})

    listed = (await sim.http.get("/sim/script")).json()
    assert listed == {"scripts": [{"number": MOBILE, "sms": {"outcome": "delivered"}, "call": {"outcome": "busy"}}]}
    assert (await sim.http.delete("/sim/script")).status_code == 204
    assert (await sim.http.get("/sim/script")).json() == {"scripts": []}
    response = await sim.http.get("/sim/messages", params={"to": "nobody"})
    assert response.status_code == 422


async def test_refused_callback_is_retried_with_the_same_token(sim: Sim, receiver: Receiver) -> None:
    await sim.script(MOBILE, sms={"outcome": "failed", "error_code": 30008})
    receiver.refusals = 2
    url = receiver.url("/flaky")

    message = await sim.twilio.messages.create_async(to=MOBILE, from_=SENDER, body="x", status_callback=url)

    callbacks = await eventually(receiver.arrived("MessageSid", message.sid, count=4), what="two refusals and the retries that get through")
    by_token: dict[str, list[str]] = {}
    for callback in callbacks:
        by_token.setdefault(callback.headers["i-twilio-idempotency-token"], []).append(callback.params["MessageStatus"])
    # Callbacks go out in the background, so the two refusals may fall on either status; each retry keeps its token.
    assert sorted(tuple(set(statuses)) for statuses in by_token.values()) == [("failed",), ("queued",)]
    assert sorted(len(statuses) for statuses in by_token.values()) in ([1, 3], [2, 2])
    for callback in callbacks:
        assert_signed(callback, url)


async def test_unreachable_callback_is_given_up_while_the_message_moves_on(sim: Sim) -> None:
    await sim.script(MOBILE, sms={"outcome": "delivered"})
    nowhere = f"http://127.0.0.1:{free_port()}/gone"

    message = await sim.twilio.messages.create_async(to=MOBILE, from_=SENDER, body="x", status_callback=nowhere)

    async def delivered() -> bool:
        return (await sim.twilio.messages(message.sid).fetch_async()).status == "delivered"

    await eventually(delivered, what="the message delivered despite its callbacks failing", interval=0.05)


async def test_shutdown_cancels_lives_in_flight() -> None:
    app = create_app(TwilioSimSettings(common=CommonSettings(clock="real")))
    async with running(app) as client:
        response = await client.post(
            f"/2010-04-01/Accounts/{DEV_ACCOUNT_SID}/Calls.json",
            data={"To": MOBILE, "From": SENDER, "Twiml": TWIML, "StatusCallback": "http://127.0.0.1:9/never"},
            auth=(DEV_ACCOUNT_SID, DEV_AUTH_TOKEN),
        )
        assert response.status_code == 201
        assert [t for t in asyncio.all_tasks() if t.get_name().startswith("twilio_sim.")]

    assert [t for t in asyncio.all_tasks() if t.get_name().startswith("twilio_sim.") and not t.done()] == []


def test_segments_count_like_a_carrier() -> None:
    assert [segments("a" * 160), segments("a" * 161), segments("{" * 80), segments("{" * 81)] == [1, 2, 1, 2]
    assert [segments("法" * 70), segments("法" * 71), segments("a" * 70 + "法")] == [1, 2, 2]


async def test_a_handset_reply_posts_the_signed_incoming_message_webhook_to_the_numbers_sms_url(receiver: Receiver) -> None:
    url = receiver.url("/webhooks/twilio/inbound")
    async with serving(create_app(sim_settings(seed=7, sms_url=url)), free_port()) as base, httpx.AsyncClient(base_url=base) as http:
        never = await http.post("/sim/inbound", json={"from": MOBILE, "body": "收到"})
        assert never.status_code == 422 and never.json()["detail"].startswith("from:")
        client = HttpxTwilioClient(origin=base)
        try:
            await Client(DEV_ACCOUNT_SID, DEV_AUTH_TOKEN, http_client=client).messages.create_async(to=MOBILE, from_=SENDER, body=NOTICE_SMS)
        finally:
            await client.close()
        replied = await http.post("/sim/inbound", json={"from": "138 0013 8000", "body": "收到"})
    assert replied.status_code == 200 and replied.json()["webhook_status"] == 200
    [callback] = [c for c in receiver.callbacks if c.path == "/webhooks/twilio/inbound"]
    assert_signed(callback, url)
    assert {k: callback.params[k] for k in ("From", "To", "Body", "SmsStatus", "AccountSid")} == {
        "From": MOBILE,
        "To": SENDER,
        "Body": "收到",
        "SmsStatus": "received",
        "AccountSid": DEV_ACCOUNT_SID,
    }
    assert callback.params["MessageSid"] == replied.json()["sid"]
