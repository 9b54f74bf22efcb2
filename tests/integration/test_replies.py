"""Replies serve an e-service at an unconfirmed address (OLR Art. 31(2)) on PostgreSQL and Kafka: an SMS sent back through the Twilio simulator, an e-mail answered through the mail sink."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from services.delivery.adapters.twilio import sign
from shared.contracts import mail_wire
from shared.contracts.events import EDeliveryChannel, NoticeRegistered
from shared.contracts.topics import DELIVERY_EVENTS, INTAKE_EVENTS
from shared.plumbing.settings import DEV_MAIL_DSN_SECRET, DEV_TWILIO_AUTH_TOKEN
from tests.integration.test_delivery import Harness, harness
from tests.integration.test_eservice import MAILBOX, through_mail_sink, unconfirmed_mail_notice
from tests.support import MOBILE, eventually, read_topic, registered_notice

OLR_BASIS = "民事诉讼法第90条；《人民法院在线诉讼规则》第31条"
REPLY = "收到，谢谢"


@pytest.fixture
async def h(kafka: str, topic_prefix: str, make_database, tmp_path: Path) -> AsyncIterator[Harness]:
    async with harness(kafka, topic_prefix, await make_database("delivery"), documents=tmp_path / "documents") as running:
        yield running


@pytest.fixture
async def sink(kafka: str, topic_prefix: str, make_database, tmp_path: Path) -> AsyncIterator[Harness]:
    """Delivery through the real mail sink, whose addressees' replies go to delivery's inbound webhook."""
    async with through_mail_sink(kafka, topic_prefix, await make_database("delivery"), tmp_path / "documents", reply_url="/webhooks/mail/inbound") as running:
        yield running


def unconfirmed_sms_notice() -> NoticeRegistered:
    """A notice for one person whose mobile number was found, not provided or confirmed by them, and who consented to SMS there."""
    registered = registered_notice(consent=[(EDeliveryChannel.sms, MOBILE)])
    [person] = registered.recipients
    consent = [c.model_copy(update={"address_confirmed": False, "source": "原告起诉状所载手机号码"}) for c in person.consent]
    return registered.model_copy(update={"recipients": [person.model_copy(update={"consent": consent})]})


async def events_of(h: Harness, notice_id: str, kind: str) -> list[dict[str, Any]]:
    records = await read_topic(h.kafka, h.names.physical(DELIVERY_EVENTS), expect=1)
    return [json.loads(r.value)["data"] for r in records if r.key == notice_id.encode() and json.loads(r.value)["type"] == kind]


async def replies_kept(h: Harness) -> list[tuple[Any, ...]]:
    async with h.db.sessions() as session:
        return [tuple(row) for row in (await session.exec(text("SELECT attempt_id, channel, length, sha256 FROM delivery_reply"))).all()]


async def test_an_sms_reply_serves_an_unconfirmed_number_as_of_the_reply_and_a_forged_one_is_refused(h: Harness) -> None:
    await h.sim.post("/sim/script", json={"number": MOBILE, "sms": {"outcome": "delivered"}})
    registered = unconfirmed_sms_notice()
    await h.publish(INTAKE_EVENTS, registered, notice_id=registered.notice_id)
    waiting = await h.recipient_when(registered.notice_id, lambda r: r["attempts"] and r["attempts"][0]["arrived_at"], "the SMS to be delivered")
    [sms] = waiting["attempts"]
    # OLR Art. 31(2): delivered to a number the recipient did not confirm, the SMS serves nothing yet.
    assert (waiting["status"], waiting["served"], sms["channel"], sms["status"]) == ("in_progress", None, "sms", "open")

    # A reply not signed with the account's auth token is refused, and applies nothing.
    url = f"{h.base}/webhooks/twilio/inbound"
    forged = {"MessageSid": "SM" + "0" * 32, "From": MOBILE, "To": "+8610012368", "Body": REPLY}
    refused = await h.delivery.post("/webhooks/twilio/inbound", data=forged, headers={"X-Twilio-Signature": sign(auth_token="f" * 32, url=url, params=forged)})
    assert refused.status_code == 403 and refused.headers["content-type"].startswith("application/problem+json")
    assert (await h.recipient_when(registered.notice_id, lambda r: True, "the recipient"))["status"] == "in_progress"
    assert await replies_kept(h) == []

    answered = await h.sim.post("/sim/inbound", json={"from": MOBILE, "body": REPLY})
    assert answered.status_code == 200 and answered.json()["webhook_status"] == 200
    served = await h.recipient_when(registered.notice_id, lambda r: r["status"] == "served", "the reply to serve")
    assert (served["served"]["channel"], served["served"]["presumed"], served["served"]["deemed"], served["legal_basis"]) == ("sms", False, False, OLR_BASIS)
    assert served["attempts"][0]["detail"] == "the recipient replied to the message"
    assert served["served"]["served_at"] > sms["arrived_at"]
    # Of the reply only its length and hash are kept, never its words.
    assert await replies_kept(h) == [(sms["attempt_id"], "sms", len(REPLY), hashlib.sha256(REPLY.encode()).hexdigest())]
    [acknowledged] = await events_of(h, registered.notice_id, "delivery.DocumentsAcknowledged")
    assert (acknowledged["attempt_id"], acknowledged["by"]) == (sms["attempt_id"], "reply:sms")
    [event] = await events_of(h, registered.notice_id, "delivery.RecipientServed")
    assert "presumed" not in event and event["consent"]["address_confirmed"] is False and event["served_at"] == acknowledged["at"]

    # Another reply once served finds no open attempt to the number: answered, nothing applied, nothing kept.
    again = await h.sim.post("/sim/inbound", json={"from": MOBILE, "body": "再次确认"})
    assert again.json()["webhook_status"] == 200
    assert len(await replies_kept(h)) == 1


async def test_a_reply_goes_to_the_latest_open_sms_to_its_number_once(h: Harness) -> None:
    await h.sim.post("/sim/script", json={"number": MOBILE, "sms": {"outcome": "delivered"}})
    earlier, later = unconfirmed_sms_notice(), unconfirmed_sms_notice()
    for registered in (earlier, later):
        await h.publish(INTAKE_EVENTS, registered, notice_id=registered.notice_id)
        await h.recipient_when(registered.notice_id, lambda r: r["attempts"] and r["attempts"][0]["arrived_at"], "the SMS to be delivered")
    params = {"MessageSid": "SM" + "2" * 32, "From": MOBILE, "To": "+8610012368", "Body": REPLY}
    headers = {"X-Twilio-Signature": sign(auth_token=DEV_TWILIO_AUTH_TOKEN, url=f"{h.base}/webhooks/twilio/inbound", params=params)}
    # Twilio posting the same message twice: the second is a repeat, recognised by its MessageSid.
    for _ in range(2):
        answered = await h.delivery.post("/webhooks/twilio/inbound", data=params, headers=headers)
        assert answered.status_code == 200
    served = await h.recipient_when(later.notice_id, lambda r: r["status"] == "served", "the reply to serve the later notice")
    assert served["served"]["channel"] == "sms"
    assert (await h.recipient_when(earlier.notice_id, lambda r: True, "the earlier notice"))["status"] == "in_progress"
    assert await replies_kept(h) == [(served["attempts"][0]["attempt_id"], "sms", len(REPLY), hashlib.sha256(REPLY.encode()).hexdigest())]


async def test_an_sms_from_a_number_nothing_was_sent_to_applies_nothing_and_the_log_keeps_no_number(h: Harness, capsys: pytest.CaptureFixture[str]) -> None:
    stranger = "+8613900139000"
    params = {"MessageSid": "SM" + "1" * 32, "From": stranger, "To": "+8610012368", "Body": REPLY}
    url = f"{h.base}/webhooks/twilio/inbound"
    answered = await h.delivery.post("/webhooks/twilio/inbound", data=params, headers={"X-Twilio-Signature": sign(auth_token=DEV_TWILIO_AUTH_TOKEN, url=url, params=params)})
    assert answered.status_code == 200 and answered.headers["content-type"].startswith("application/xml")
    assert await replies_kept(h) == []
    logged = capsys.readouterr().out
    assert "twilio.inbound" in logged and "matched=False" in logged and "13900139000" not in logged


async def test_an_email_reply_serves_an_unconfirmed_address_an_automatic_one_does_not(sink: Harness) -> None:
    h = sink
    registered = unconfirmed_mail_notice()
    await h.publish(INTAKE_EVENTS, registered, notice_id=registered.notice_id)
    waiting = await h.recipient_when(registered.notice_id, lambda r: r["attempts"] and r["attempts"][0]["arrived_at"], "the e-mail to arrive")
    [mail] = waiting["attempts"]
    assert (waiting["status"], mail["channel"], mail["status"]) == ("in_progress", "email", "open")
    [kept] = await eventually(lambda: _sent_to(h, MAILBOX), what="the e-mail in the sink")

    # An out-of-office answer is no one's word that the documents were received (RFC 3834 Auto-Submitted).
    automatic = await h.sim.post(f"/api/messages/{kept['id']}/reply", json={"text": "I am away until Monday.", "automatic": True})
    assert automatic.json() == {"webhook_status": 200}
    # A reply not signed with the pipe's secret is refused, and applies nothing.
    body = f"From: {MAILBOX}\r\nIn-Reply-To: <{mail['attempt_id']}@songda>\r\nMessage-ID: <forged@example.com>\r\n\r\n{REPLY}\r\n".encode()
    forged = await h.delivery.post("/webhooks/mail/inbound", content=body, headers={mail_wire.SIGNATURE_HEADER: mail_wire.sign("not-the-shared-secret", body)})
    assert forged.status_code == 403 and forged.headers["content-type"].startswith("application/problem+json")
    # A reply from another mailbox than the one written to is not the recipient's.
    other = body.replace(MAILBOX.encode(), b"someone@example.com").replace(b"forged@", b"other@")
    stranger = await h.delivery.post("/webhooks/mail/inbound", content=other, headers={mail_wire.SIGNATURE_HEADER: mail_wire.sign(DEV_MAIL_DSN_SECRET, other)})
    assert stranger.json() == {"applied": False}
    assert (await h.recipient_when(registered.notice_id, lambda r: True, "the recipient"))["status"] == "in_progress"
    assert await replies_kept(h) == []

    answered = await h.sim.post(f"/api/messages/{kept['id']}/reply", json={"text": REPLY})
    assert answered.json() == {"webhook_status": 200}
    served = await h.recipient_when(registered.notice_id, lambda r: r["status"] == "served", "the reply to serve")
    assert (served["served"]["channel"], served["served"]["presumed"], served["legal_basis"]) == ("email", False, OLR_BASIS)
    assert served["served"]["served_at"] > mail["arrived_at"]
    assert await replies_kept(h) == [(mail["attempt_id"], "email", len(REPLY), hashlib.sha256(REPLY.encode()).hexdigest())]
    [acknowledged] = await events_of(h, registered.notice_id, "delivery.DocumentsAcknowledged")
    assert acknowledged["by"] == "reply:email"

    # A bounce sent here by mistake is named for what it is.
    report = b"Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n"
    wrong = await h.delivery.post("/webhooks/mail/inbound", content=report, headers={mail_wire.SIGNATURE_HEADER: mail_wire.sign(DEV_MAIL_DSN_SECRET, report)})
    assert wrong.status_code == 422 and "/webhooks/mail/dsn" in wrong.json()["detail"]


async def _sent_to(h: Harness, address: str) -> list[dict[str, Any]]:
    return [m for m in (await h.sim.get("/api/messages")).json()["messages"] if m["to"] == address]
