"""Delivery on PostgreSQL and Kafka with the Twilio simulator and a real SMTP server: messages, callbacks, the e-delivery page, tasks, court mail."""

from __future__ import annotations

import email
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.policy import default as default_policy
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import text

from services.delivery.adapters.twilio import sign
from services.delivery.config import DeliverySettings
from services.delivery.main import create_app as create_delivery
from shared.contracts.events import (
    EDeliveryChannel,
    EvidenceRecorded,
    NoticeRegistered,
    PostalStatus,
    ReturnReason,
    TrackingUpdated,
    WaybillCreated,
)
from shared.contracts.registry import Event
from shared.contracts.topics import CARRIER_GATEWAY_EVENTS, DELIVERY_EVENTS, EVIDENCE_EVENTS, INTAKE_EVENTS, TopicNames
from shared.plumbing.auth import Role
from shared.plumbing.clock import SHANGHAI, ScaledClock
from shared.plumbing.db import Database
from shared.plumbing.documents import DocumentStore
from shared.plumbing.settings import DEV_TWILIO_AUTH_TOKEN
from simulators.twilio_sim.config import TwilioSimSettings
from simulators.twilio_sim.main import create_app as create_sim
from tests.support import EXAMPLES, HOME, MOBILE, common, eventually, free_port, publish, read_topic, registered_notice, serving, settings, token, until, without_contact_hours

SUPERVISOR = token(Role.supervisor, "sup-1")


class Inbox:
    """An SMTP handler keeping every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content, policy=default_policy))  # type: ignore[arg-type]
        return "250 OK"


@dataclass
class Harness:
    delivery: httpx.AsyncClient
    sim: httpx.AsyncClient
    db: Database
    kafka: str
    names: TopicNames
    inbox: Inbox
    base: str
    documents: DocumentStore

    async def publish(self, topic: str, event: Event, *, notice_id: str) -> None:
        await publish(self.kafka, self.names.physical(topic), [event], subject=notice_id)

    async def view(self, notice_id: str) -> dict[str, Any] | None:
        response = await self.delivery.get(f"/v1/notices/{notice_id}/delivery", headers=SUPERVISOR)
        return response.json() if response.status_code == 200 else None

    async def recipient_when(self, notice_id: str, check: Any, what: str) -> dict[str, Any]:
        async def probe() -> dict[str, Any] | None:
            view = await self.view(notice_id)
            return view["recipients"][0] if view and check(view["recipients"][0]) else None

        return await eventually(probe, what=what, timeout=45)

    async def scalar(self, sql: str, **params: Any) -> Any:
        async with self.db.sessions() as session:
            return (await session.exec(text(sql).bindparams(**params))).scalar()


@asynccontextmanager
async def harness(kafka: str, prefix: str, database_url: str, *, documents: Path, callbacks_lost: bool = False, clock: ScaledClock | None = None) -> AsyncIterator[Harness]:
    """Runs delivery beside the Twilio simulator and an SMTP server; with `callbacks_lost`, Twilio's callbacks go where nothing listens.

    On the real clock the policy's contact hours are lifted (a test must not depend on the hour it runs at); on a scaled `clock` they hold.
    """
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    sim_port, delivery_port = free_port(), free_port()
    base = f"http://127.0.0.1:{delivery_port}"
    public_url = f"http://127.0.0.1:{free_port()}" if callbacks_lost else base
    try:
        async with AsyncExitStack() as stack:
            sim_url = await stack.enter_async_context(
                serving(create_sim(TwilioSimSettings(port=sim_port, seed=7, sms_url=f"{public_url}/webhooks/twilio/inbound", common=common(kafka=kafka, prefix=prefix))), sim_port)
            )
            delivery_settings = settings(
                DeliverySettings,
                database_url=database_url,
                kafka=kafka,
                prefix=prefix,
                public_url=public_url,
                twilio_origin=sim_url,
                smtp_port=smtp.port,
                dispatch_poll_ms=50,
                sweep_poll_ms=100,
                status_check_after_s=1,
                status_check_poll_ms=100,
            )
            delivery_settings.common.documents_dir = documents
            if clock is None:
                delivery_settings.policy_file = without_contact_hours(documents.parent / "policy", policy=delivery_settings.policy_file)
            else:
                timing = {"clock": "scaled", "clock_epoch": clock.epoch.isoformat(), "clock_anchor": clock.anchor.isoformat(), "time_scale": clock.scale}
                delivery_settings.common = common(kafka=kafka, prefix=prefix, documents_dir=documents, **timing)
            await stack.enter_async_context(serving(create_delivery(delivery_settings), delivery_port))
            delivery = await stack.enter_async_context(httpx.AsyncClient(base_url=base, timeout=10))
            sim = await stack.enter_async_context(httpx.AsyncClient(base_url=sim_url, timeout=10))
            db = Database(database_url)
            stack.push_async_callback(db.dispose)
            yield Harness(delivery=delivery, sim=sim, db=db, kafka=kafka, names=TopicNames(prefix), inbox=inbox, base=base, documents=DocumentStore(documents))
    finally:
        smtp.stop()


def notice(*, consent: list[tuple[EDeliveryChannel, str]], phones: tuple[str, ...] = (MOBILE,), confirmed: bool = False) -> NoticeRegistered:
    return registered_notice(consent=consent, phones=phones, confirmed=confirmed)


@pytest.fixture
async def h(kafka: str, topic_prefix: str, make_database, tmp_path: Path) -> AsyncIterator[Harness]:
    async with harness(kafka, topic_prefix, await make_database("delivery"), documents=tmp_path / "documents") as running:
        yield running


async def test_sms_delivered_serves_the_recipient_once(h: Harness) -> None:
    await h.sim.post("/sim/script", json={"number": MOBILE, "sms": {"outcome": "delivered"}})
    registered = notice(consent=[(EDeliveryChannel.sms, MOBILE)])
    await h.publish(INTAKE_EVENTS, registered, notice_id=registered.notice_id)
    served = await h.recipient_when(registered.notice_id, lambda r: r["status"] == "served", "the SMS to serve the recipient")
    assert (served["served"]["method"], served["served"]["channel"], served["legal_basis"]) == ("electronic", "sms", "民事诉讼法第90条；民诉法解释第135条")
    received = (await h.sim.get("/sim/messages", params={"to": MOBILE})).json()["messages"]
    assert len(received) == 1 and f"{h.base}/e/" in received[0]["body"]
    records = await read_topic(h.kafka, h.names.physical(DELIVERY_EVENTS), expect=4)
    mine = [r for r in records if r.key == registered.notice_id.encode()]
    types = [json.loads(r.value)["type"] for r in mine]
    assert types.count("delivery.RecipientServed") == 1 and types.count("delivery.NoticeCompleted") == 1
    # The attempt's message is re-dispatched as if the process had died before recording it: the ledger answers, Twilio is not asked again.
    await h.scalar("UPDATE delivery_outgoing SET status = 'pending' WHERE notice_id = :n RETURNING attempt_id", n=registered.notice_id)
    await eventually(
        lambda: h.scalar("SELECT count(*) = 0 FROM delivery_outgoing WHERE status = 'pending' AND notice_id = :n", n=registered.notice_id),
        what="the redelivered send to finish",
    )
    assert len((await h.sim.get("/sim/messages", params={"to": MOBILE})).json()["messages"]) == 1


async def test_a_lost_status_callback_is_made_good_by_asking_twilio(kafka: str, topic_prefix: str, make_database, tmp_path: Path) -> None:
    async with harness(kafka, topic_prefix, await make_database("delivery"), documents=tmp_path / "documents", callbacks_lost=True) as h:
        await h.sim.post("/sim/script", json={"number": MOBILE, "sms": {"outcome": "delivered"}})
        registered = notice(consent=[(EDeliveryChannel.sms, MOBILE)])
        await h.publish(INTAKE_EVENTS, registered, notice_id=registered.notice_id)
        served = await h.recipient_when(registered.notice_id, lambda r: r["status"] == "served", "a status check to find the SMS delivered")
        message = (await h.sim.get("/sim/messages", params={"to": MOBILE})).json()["messages"][0]
        assert await h.scalar("SELECT count(*) FROM delivery_callback") == 0, "no callback reached delivery"
        # The arrival is Twilio's time for the delivered status, not the time delivery asked.
        arrived = datetime.fromisoformat(served["attempts"][0]["arrived_at"])
        assert arrived == parsedate_to_datetime(message["date_updated"])
        assert await h.scalar("SELECT status FROM delivery_outgoing WHERE notice_id = :n", n=registered.notice_id) == "settled"


async def test_callbacks_forged_replayed_and_stale(h: Harness) -> None:
    number = "+8613900139000"
    await h.sim.post("/sim/script", json={"number": number, "sms": {"outcome": "undelivered", "error_code": 30006}, "call": {"outcome": "no-answer"}})
    registered = notice(consent=[(EDeliveryChannel.sms, number)], phones=(number,))
    await h.publish(INTAKE_EVENTS, registered, notice_id=registered.notice_id)
    moved = await h.recipient_when(registered.notice_id, lambda r: r["tier"] == "direct", "SMS 30006 then an unanswered call to lead to a visit")
    channels = [(a["channel"], a["status"], a["error_code"]) for a in moved["attempts"]]
    assert channels[:2] == [("sms", "failed", 30006), ("voice", "failed", None)]
    sms = moved["attempts"][0]
    url = f"{h.base}/webhooks/twilio/status?attempt={sms['attempt_id']}"
    params = {"MessageSid": sms["provider_ref"] or "SMx", "MessageStatus": "delivered", "To": number, "From": "+8610012368"}
    forged = await h.delivery.post(url, data=params, headers={"X-Twilio-Signature": sign(auth_token="0" * 32, url=url, params=params)})
    assert forged.status_code == 403 and forged.headers["content-type"].startswith("application/problem+json")
    # A genuinely signed "delivered" for the SMS that failed earlier is stale: it changes nothing.
    genuine = {"X-Twilio-Signature": sign(auth_token=DEV_TWILIO_AUTH_TOKEN, url=url, params=params)}
    first = await h.delivery.post(url, data=params, headers=genuine)
    replay = await h.delivery.post(url, data=params, headers=genuine)
    assert (first.status_code, first.json()) == (200, {"applied": False})
    assert (replay.status_code, replay.json()) == (200, {"applied": False, "reason": "duplicate"})
    after = (await h.view(registered.notice_id))["recipients"][0]  # type: ignore[index]
    assert after["status"] == "in_progress" and after["attempts"] == moved["attempts"]


async def test_email_link_page_and_acknowledgement(h: Harness) -> None:
    mailbox = "zhangsan@example.com"
    registered = notice(consent=[(EDeliveryChannel.email, mailbox)], phones=())
    await h.publish(INTAKE_EVENTS, registered, notice_id=registered.notice_id)
    served = await h.recipient_when(registered.notice_id, lambda r: r["status"] == "served", "the e-mail to serve the recipient")
    assert (served["served"]["channel"], served["served"]["method"]) == ("email", "electronic")
    [message] = [m for m in h.inbox.messages if registered.case_number in str(m["Subject"])]
    link = next(line for line in message.get_content().splitlines() if "/e/" in line).strip()
    page = await h.delivery.get(link.removeprefix(h.base))
    assert page.status_code == 200 and registered.case_number in page.text and "传票" in page.text and "确认收到" in page.text
    assert page.headers["x-frame-options"] == "DENY" and "frame-ancestors 'none'" in page.headers["content-security-policy"]
    path = link.removeprefix(h.base)
    assert f'href="{path}/documents/1"' in page.text and f'href="{path}/documents/1/download"' in page.text and "下载" in page.text

    # The 起诉状 is shown in place and downloaded, each opening recorded; the 传票's file is missing: a Chinese page says so, never an empty one.
    complaint = (EXAMPLES / "complaint_copy.pdf").read_bytes()
    await h.documents.put(complaint)
    shown = await h.delivery.get(f"{path}/documents/1", headers={"User-Agent": "Mozilla/5.0 test"})
    assert (shown.status_code, shown.content, shown.headers["content-type"]) == (200, complaint, "application/pdf")
    assert shown.headers["content-disposition"].startswith("inline;") and "sandbox" in shown.headers["content-security-policy"]
    saved = await h.delivery.get(f"{path}/documents/1/download", headers={"User-Agent": "Mozilla/5.0 test"})
    assert saved.status_code == 200 and saved.headers["content-disposition"].startswith("attachment;")
    missing = await h.delivery.get(f"{path}/documents/2")
    assert missing.status_code == 503 and "暂时无法打开" in missing.text
    records = await read_topic(h.kafka, h.names.physical(DELIVERY_EVENTS), expect=2)
    opened = [json.loads(r.value)["data"] for r in records if b"DocumentOpened" in r.value and r.key == registered.notice_id.encode()]
    assert [(o["title"], o["disposition"], o["ip"], o["user_agent"]) for o in opened] == [
        ("起诉状副本", "view", "127.0.0.1", "Mozilla/5.0 test"),
        ("起诉状副本", "download", "127.0.0.1", "Mozilla/5.0 test"),
    ]
    # A form on another site posting to the link is not the recipient acknowledging: refused, nothing recorded.
    for foreign in ({"Origin": "https://evil.example"}, {"Referer": "https://evil.example/page"}, {}):
        refused = await h.delivery.post(link.removeprefix(h.base) + "/ack", headers={"User-Agent": "Mozilla/5.0 test", **foreign})
        assert refused.status_code == 403 and "确认收到" in refused.text, foreign
    assert "您已于" not in (await h.delivery.get(link.removeprefix(h.base))).text
    ack = await h.delivery.post(link.removeprefix(h.base) + "/ack", headers={"User-Agent": "Mozilla/5.0 test", "Origin": h.base})
    assert ack.status_code == 303
    again = await h.delivery.get(link.removeprefix(h.base))
    assert "您已于" in again.text
    assert (await h.delivery.get("/e/not-a-real-token")).status_code == 404
    records = await read_topic(h.kafka, h.names.physical(DELIVERY_EVENTS), expect=1)
    acks = [json.loads(r.value) for r in records if b"DocumentsAcknowledged" in r.value and r.key == registered.notice_id.encode()]
    assert len(acks) == 1 and acks[0]["data"]["user_agent"] == "Mozilla/5.0 test"

    # Guessing links: after ten unknown ones (one was tried above) the address is refused for the window, even the real link.
    guesses = [(await h.delivery.get(f"/e/guess{i:012d}guess")).status_code for i in range(11)]
    assert guesses == [404] * 9 + [429] * 2, guesses
    browser = await h.delivery.get(link.removeprefix(h.base), headers={"Accept": "text/html"})
    assert (browser.status_code, browser.headers["content-type"].split(";")[0]) == (429, "text/html") and "访问过于频繁" in browser.text
    client = await h.delivery.get(link.removeprefix(h.base))
    assert (client.status_code, client.headers["content-type"]) == (429, "application/problem+json") and int(client.headers["retry-after"]) >= 1


async def test_visit_refused_with_a_photo_then_court_mail_returned_at_a_confirmed_address(h: Harness) -> None:
    number = "+8613700137000"
    await h.sim.post("/sim/script", json={"number": number, "call": {"outcome": "busy"}})
    registered = notice(consent=[], phones=(number,), confirmed=True)
    await h.publish(INTAKE_EVENTS, registered, notice_id=registered.notice_id)
    await h.recipient_when(registered.notice_id, lambda r: r["tier"] == "direct", "the unanswered call to lead to a visit")
    agent = token(Role.agent, "agent-huancui-1")
    cards = (await h.delivery.get("/v1/tasks", headers=agent)).json()
    [card] = [c for c in cards if c["notice_id"] == registered.notice_id]
    assert card["id_number_masked"] == "37**************10" and card["address"] == HOME
    others = (await h.delivery.get("/v1/tasks", headers=token(Role.agent, "agent-weihai"))).json()
    assert all(c["notice_id"] != registered.notice_id for c in others)
    incomplete = await h.delivery.post(f"/v1/tasks/{card['task_id']}/outcome", json={"outcome": "refused"}, headers=agent)
    assert incomplete.status_code == 422 and incomplete.json()["errors"][0]["field"] == "witness"
    assert (await h.view(registered.notice_id))["recipients"][0]["tasks"][0]["status"] == "open"  # type: ignore[index]
    # Not found on every visit, then court mail.
    reported = await h.delivery.post(f"/v1/tasks/{card['task_id']}/outcome", json={"outcome": "not_found"}, headers=agent)
    assert reported.status_code == 200, reported.text
    for _ in range(2):
        nxt = await eventually(lambda: _open_task(h, registered.notice_id), what="the next visit")
        assert (await h.delivery.post(f"/v1/tasks/{nxt}/outcome", json={"outcome": "not_found"}, headers=SUPERVISOR)).status_code == 200
    mailing = await h.recipient_when(registered.notice_id, lambda r: r["tier"] == "postal", "court mail after three visits")
    attempt_id = mailing["attempts"][-1]["attempt_id"]
    commands = await read_topic(h.kafka, h.names.physical("carrier_gateway.commands"), expect=1)
    assert any(attempt_id.encode() in r.value for r in commands)
    await h.publish(
        CARRIER_GATEWAY_EVENTS,
        WaybillCreated(notice_id=registered.notice_id, attempt_id=attempt_id, waybill_no="1190000000001", created_at=datetime.now(UTC)),
        notice_id=registered.notice_id,
    )
    returned_at = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
    trace = TrackingUpdated(
        notice_id=registered.notice_id,
        attempt_id=attempt_id,
        waybill_no="1190000000001",
        status=PostalStatus.returned,
        op_time=returned_at,
        op_code="RET",
        return_reason=ReturnReason.unclaimed,
    )
    await h.publish(CARRIER_GATEWAY_EVENTS, trace, notice_id=registered.notice_id)
    served = await h.recipient_when(registered.notice_id, lambda r: r["status"] == "served", "the return at a confirmed address to count as service")
    assert (served["served"]["method"], served["service_date"], served["served"]["deemed"]) == ("postal", "2026-11-30", True)


async def _open_task(h: Harness, notice_id: str) -> str | None:
    view = await h.view(notice_id)
    tasks = [t for t in view["recipients"][0]["tasks"] if t["status"] == "open"] if view else []
    return tasks[0]["task_id"] if tasks else None


async def test_refusal_with_a_photo_counts_once_evidence_recorded_it(h: Harness) -> None:
    registered = notice(consent=[], phones=())
    await h.publish(INTAKE_EVENTS, registered, notice_id=registered.notice_id)
    task_id = await eventually(lambda: _open_task(h, registered.notice_id), what="a visit task")
    body = {"outcome": "refused", "evidence_ids": ["ev-photo-1"], "note": "拒收"}
    reported = await h.delivery.post(f"/v1/tasks/{task_id}/outcome", json=body, headers=SUPERVISOR)
    assert reported.json()["waiting_for_evidence"] == ["ev-photo-1"]
    assert (await h.view(registered.notice_id))["recipients"][0]["status"] == "awaiting_evidence"  # type: ignore[index]
    recorded = EvidenceRecorded(notice_id=registered.notice_id, evidence_id="ev-photo-1", kind="photo", sha256="0" * 64, leaf_index=1, flags=[])
    await h.publish(EVIDENCE_EVENTS, recorded, notice_id=registered.notice_id)
    served = await h.recipient_when(registered.notice_id, lambda r: r["status"] == "served", "the recorded photo to make the refusal count")
    assert (served["served"]["method"], served["legal_basis"], served["served"]["evidence_ids"]) == ("refusal", "民事诉讼法第89条", ["ev-photo-1"])


async def test_a_visit_refused_before_a_witness_is_deemed_served_with_the_reason_and_the_witness_date_and_reason(h: Harness) -> None:
    registered = notice(consent=[], phones=())
    await h.publish(INTAKE_EVENTS, registered, notice_id=registered.notice_id)
    task_id = await eventually(lambda: _open_task(h, registered.notice_id), what="a visit task")
    witness = {"name": "王五", "organisation": "新威路社区居委会"}
    lacking = await h.delivery.post(f"/v1/tasks/{task_id}/outcome", json={"outcome": "refused", "witness": witness}, headers=SUPERVISOR)
    assert (lacking.status_code, lacking.headers["content-type"]) == (422, "application/problem+json")
    assert [e["field"] for e in lacking.json()["errors"]] == ["witness.refusal_reason"]
    witness["refusal_reason"] = "称与原告无借贷关系，拒绝签收"
    reported = await h.delivery.post(f"/v1/tasks/{task_id}/outcome", json={"outcome": "refused", "witness": witness}, headers=SUPERVISOR)
    assert reported.status_code == 200, reported.text
    assert reported.json()["standing"]["state"] == "counted" and "即视为送达（民事诉讼法第89条）" in reported.json()["standing"]["message_zh"]
    served = await h.recipient_when(registered.notice_id, lambda r: r["status"] == "served", "the witnessed refusal to count")
    assert (served["served"]["method"], served["served"]["deemed"], served["legal_basis"]) == ("refusal", True, "民事诉讼法第89条")

    records = await read_topic(h.kafka, h.names.physical(DELIVERY_EVENTS), expect=1)
    [event] = [json.loads(r.value)["data"] for r in records if r.key == registered.notice_id.encode() and json.loads(r.value)["type"] == "delivery.RecipientServed"]
    assert (event["method"], event["deemed"], event["legal_basis"]) == ("refusal", True, "民事诉讼法第89条")
    assert event["deemed_reason"] == served["served"]["deemed_reason"] and event["deemed_reason"].endswith("即视为送达（民事诉讼法第89条）")
    # CPL 89: the witness's date (the day of the report in Beijing, as none was given) and the reason travel with the service.
    left_on = datetime.fromisoformat(event["served_at"]).astimezone(SHANGHAI).date().isoformat()
    assert event["witness"] == {**witness, "witnessed_on": left_on}


async def test_a_notice_registered_at_night_sends_its_sms_when_contact_hours_begin(kafka: str, topic_prefix: str, make_database, tmp_path: Path) -> None:
    # 04:41 Beijing time on a Tuesday, as the legal check found a call placed; the SMS window opens at 08:00.
    night, eight = datetime(2026, 11, 24, 4, 41, tzinfo=SHANGHAI), datetime(2026, 11, 24, 8, 0, tzinfo=SHANGHAI)
    clock = ScaledClock(epoch=night, anchor=datetime.now(UTC), scale=720)
    async with harness(kafka, topic_prefix, await make_database("delivery"), documents=tmp_path / "documents", clock=clock) as h:
        await h.sim.post("/sim/script", json={"number": MOBILE, "sms": {"outcome": "delivered"}})
        registered = notice(consent=[(EDeliveryChannel.sms, MOBILE)])
        await h.publish(INTAKE_EVENTS, registered, notice_id=registered.notice_id)
        waiting = await h.recipient_when(registered.notice_id, lambda r: bool(r["attempts"]), "the SMS attempt to be planned")
        assert clock.now() < eight, "the stack started too slowly for the test to see the night"
        [attempt] = waiting["attempts"]
        assert (attempt["channel"], attempt["status"], datetime.fromisoformat(attempt["not_before"])) == ("sms", "scheduled", eight)
        await until(clock, eight - timedelta(minutes=10), what="07:50 in Beijing")
        assert (await h.sim.get("/sim/messages", params={"to": MOBILE})).json()["messages"] == [], "no SMS before contact hours"

        served = await h.recipient_when(registered.notice_id, lambda r: r["status"] == "served", "the SMS sent at 08:00 to serve the recipient")
        assert len((await h.sim.get("/sim/messages", params={"to": MOBILE})).json()["messages"]) == 1
        [sent] = served["attempts"]
        # Sent once the window opened, and the wait for its arrival counted from then (one working hour from 08:30).
        assert eight <= datetime.fromisoformat(sent["started_at"]) < eight + timedelta(minutes=30)
        assert datetime.fromisoformat(sent["due_at"]) == datetime(2026, 11, 24, 9, 30, tzinfo=SHANGHAI)


async def _held_refusal(h: Harness, photo: str) -> tuple[NoticeRegistered, str]:
    """A visit reported as a refusal with a photo that evidence recorded far from the address: the recipient is held."""
    registered = notice(consent=[], phones=())
    await h.publish(INTAKE_EVENTS, registered, notice_id=registered.notice_id)
    task_id = await eventually(lambda: _open_task(h, registered.notice_id), what="a visit task")
    body = {"outcome": "refused", "evidence_ids": [photo]}
    reported = await h.delivery.post(f"/v1/tasks/{task_id}/outcome", json=body, headers=SUPERVISOR | {"Idempotency-Key": f"report-{photo}"})
    assert reported.status_code == 200, reported.text
    assert reported.json()["standing"]["state"] == "awaiting_evidence" and photo in reported.json()["standing"]["message_zh"]
    recorded = EvidenceRecorded(notice_id=registered.notice_id, evidence_id=photo, kind="photo", sha256="0" * 64, leaf_index=1, flags=["far_from_address"])
    await h.publish(EVIDENCE_EVENTS, recorded, notice_id=registered.notice_id)
    await h.recipient_when(registered.notice_id, lambda r: r["status"] == "held", "the flagged photo to hold the refusal")
    # Asked again under its key, the report's answer says the service is held, why, and who decides.
    again = (await h.delivery.post(f"/v1/tasks/{task_id}/outcome", json=body, headers=SUPERVISOR | {"Idempotency-Key": f"report-{photo}"})).json()
    assert (again["standing"]["state"], again["standing"]["reasons"]) == ("held", [f"照片拍摄地点距送达地址较远（{photo}）"])
    assert "送达主管将审核" in again["standing"]["message_zh"]
    return registered, task_id


async def test_a_flagged_photo_holds_the_refusal_until_a_supervisor_accepts_it_or_orders_a_revisit(h: Harness) -> None:
    accepted, accepted_task = await _held_refusal(h, "ev-far-1")
    revisited, revisited_task = await _held_refusal(h, "ev-far-2")
    holds = (await h.delivery.get("/v1/holds", headers=SUPERVISOR)).json()
    assert [(x["notice_id"], x["task_id"], x["outcome"], x["flags"]) for x in holds] == [
        (accepted.notice_id, accepted_task, "refused", {"ev-far-1": ["far_from_address"]}),
        (revisited.notice_id, revisited_task, "refused", {"ev-far-2": ["far_from_address"]}),
    ]
    recipient = accepted.recipients[0].recipient_id
    blank = await h.delivery.post(f"/v1/holds/{recipient}/accept", json={"reason": "  "}, headers=SUPERVISOR)
    assert blank.status_code == 422 and [e["field"] for e in blank.json()["errors"]] == ["reason"]
    assert (await h.delivery.post("/v1/holds/no-such-recipient/accept", json={"reason": "核实无误"}, headers=SUPERVISOR)).status_code == 404

    answer = await h.delivery.post(f"/v1/holds/{recipient}/accept", json={"reason": "电话回访确认已留置"}, headers=SUPERVISOR)
    assert answer.status_code == 200, answer.text
    served = answer.json()
    assert (served["status"], served["served"]["method"], served["legal_basis"]) == ("served", "refusal", "民事诉讼法第89条")
    assert (served["served"]["review"]["by"], served["served"]["review"]["reason"], served["served"]["review"]["flags"]) == (
        "sup-1",
        "电话回访确认已留置",
        {"ev-far-1": ["far_from_address"]},
    )
    assert (await h.delivery.post(f"/v1/holds/{recipient}/revisit", json={"reason": "重新上门"}, headers=SUPERVISOR)).status_code == 409

    again = await h.delivery.post(f"/v1/holds/{revisited.recipients[0].recipient_id}/revisit", json={"reason": "照片位置不符，重新上门"}, headers=SUPERVISOR)
    assert again.status_code == 200, again.text
    failed, fresh = again.json()["attempts"][-2:]
    assert (failed["status"], failed["detail"]) == ("failed", "evidence flagged: far_from_address; revisit ordered by sup-1: 照片位置不符，重新上门")
    assert (fresh["channel"], fresh["status"], again.json()["status"]) == ("visit", "open", "in_progress")
    assert [t["status"] for t in again.json()["tasks"]] == ["reported", "open"]
    assert (await h.delivery.get("/v1/holds", headers=SUPERVISOR)).json() == []

    records = await read_topic(h.kafka, h.names.physical(DELIVERY_EVENTS), expect=1)
    [event] = [json.loads(r.value) for r in records if r.key == accepted.notice_id.encode() and json.loads(r.value)["type"] == "delivery.RecipientServed"]
    assert event["data"]["review"]["reason"] == "电话回访确认已留置"
    audited = (await h.delivery.get("/v1/audit-log", headers=SUPERVISOR)).json()
    assert {(e["action"], e["purpose"]) for e in audited} >= {("hold.accept", "电话回访确认已留置"), ("hold.revisit", "照片位置不符，重新上门")}


async def test_the_notice_list_filters_and_pages_on_postgresql(h: Harness) -> None:
    def listed(case: str, names: tuple[str, ...], due_on: date, *, court: str = "C371002", visit: bool = False) -> NoticeRegistered:
        """Without `visit` the recipients have no phone and no address: they wait for a public notice, so nothing serves them meanwhile."""
        base = notice(consent=[], phones=())
        person = base.recipients[0] if visit else base.recipients[0].model_copy(update={"candidates": []})
        people = [person.model_copy(update={"recipient_id": str(uuid.uuid4()), "name": name}) for name in names]
        return base.model_copy(update={"court_id": court, "case_number": case, "recipients": people, "due_date": due_on})

    later = date.today() + timedelta(days=200)
    made = {
        "loan": listed("（2026）鲁1002民初1234号", ("张三", "李四"), later),
        "sale": listed("（2026）鲁1002民初77号", ("Zhao Liu 有限公司",), later + timedelta(days=1), visit=True),
        "beijing": listed("（2026）京0105民初5号", ("张三丰",), later + timedelta(days=1), court="C110105"),
        "late": listed("（2026）鲁1002民初1235号", ("王五",), date.today() - timedelta(days=3)),
        "next": listed("（2026）鲁1002民初1236号", ("孙七",), later + timedelta(days=2)),
    }
    for registered in made.values():
        await h.publish(INTAKE_EVENTS, registered, notice_id=registered.notice_id)
    names = {registered.notice_id: name for name, registered in made.items()}

    async def listing(headers: dict[str, str] = SUPERVISOR, **params: Any) -> list[str]:
        response = await h.delivery.get("/v1/notices", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return [names[row["notice_id"]] for row in response.json()["items"]]

    async def count(expected: int, **params: Any) -> bool:
        return len(await listing(**params)) == expected

    await eventually(lambda: count(len(made)), what="delivery to take every notice on")
    await eventually(lambda: count(1, overdue="true"), what="the sweeper to mark the late notice overdue")
    await eventually(lambda: _open_task(h, made["sale"].notice_id), what="the visit of the notice without a phone")
    agent = (await h.view(made["sale"].notice_id))["recipients"][0]["tasks"][0]["agent_id"]  # type: ignore[index]

    everything = await listing()
    assert sorted(everything) == sorted(made) and [made[n].due_date for n in everything] == sorted(r.due_date for r in made.values())
    assert await listing(overdue="true") == ["late"] and "late" not in await listing(overdue="false")
    assert await listing(court="C110105") == ["beijing"]
    assert await listing(case_number="(2026)鲁1002民初123") == ["late", "loan", "next"]
    assert await listing(case_number="民初77号") == ["sale"]
    assert sorted(await listing(party="张三")) == ["beijing", "loan"] and await listing(party="zhao liu") == ["sale"]
    assert await listing(party="_") == [] and await listing(party="三李") == []
    assert await listing(agent=agent) == ["sale"]
    assert sorted(await listing(due_from=(later + timedelta(days=1)).isoformat(), due_to=(later + timedelta(days=1)).isoformat())) == ["beijing", "sale"]
    assert await listing(status="in_progress") == everything and await listing(status="completed") == []

    pages, cursor = [], None
    while True:
        response = (await h.delivery.get("/v1/notices", params={"limit": 2, **({"cursor": cursor} if cursor else {})}, headers=SUPERVISOR)).json()
        pages.append([row["notice_id"] for row in response["items"]])
        cursor = response["next_cursor"]
        if cursor is None:
            break
    assert [len(page) for page in pages] == [2, 2, 1] and sorted(sum(pages, [])) == sorted(names)
    assert [names[n] for n in sum(pages, [])] == everything

    court, beijing = token(Role.court, "C371002"), token(Role.court, "C110105")
    assert "beijing" not in await listing(court) and await listing(court, court="C110105") == []
    assert await listing(beijing) == ["beijing"] and await listing(beijing, party="李四") == []
    forged = await h.delivery.get("/v1/notices", params={"cursor": "bm90LWEtY3Vyc29y"}, headers=SUPERVISOR)
    assert forged.status_code == 422 and [e["field"] for e in forged.json()["errors"]] == ["cursor"]
    reversed_range = await h.delivery.get("/v1/notices", params={"due_from": "2027-01-02", "due_to": "2027-01-01"}, headers=SUPERVISOR)
    assert reversed_range.status_code == 422 and [e["field"] for e in reversed_range.json()["errors"]] == ["due_to"]
    assert (await h.delivery.get("/v1/notices", params={"limit": 101}, headers=SUPERVISOR)).status_code == 422
