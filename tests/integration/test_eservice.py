"""Electronic service by the Online Litigation Rules on PostgreSQL and Kafka: unconfirmed addresses (Art. 31(2)), parallel channels (Art. 32), bounces through the real mail sink."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.delivery import policy as policy_module
from services.delivery.config import DeliverySettings
from services.delivery.main import create_app as create_delivery
from shared.contracts import mail_wire
from shared.contracts.events import EDeliveryChannel, NoticeRegistered
from shared.contracts.topics import DELIVERY_EVENTS, INTAKE_EVENTS, TopicNames
from shared.plumbing.db import Database
from shared.plumbing.documents import DocumentStore
from shared.plumbing.settings import DEV_MAIL_DSN_SECRET
from simulators.mail_sink.bounce import dsn_for
from simulators.mail_sink.config import MailSinkSettings
from simulators.mail_sink.main import create_app as create_sink
from tests.integration.test_delivery import Harness, Inbox, harness
from tests.support import EXAMPLES, MOBILE, common, eventually, free_port, read_topic, registered_notice, serving, settings

MAILBOX = "lisi@example.com"


def policy_with(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **keys: str) -> None:
    """Points delivery at a copy of the shipped policy with `keys` of its [electronic] table set to the given TOML values."""
    policy = (Path(policy_module.__file__).parent / "policy.toml").read_text(encoding="utf-8")
    for key, value in keys.items():
        line = next((ln for ln in policy.splitlines() if ln.startswith(f"{key} = ")), None)
        assert line is not None, f"the shipped policy names {key}"
        policy = policy.replace(f"\n{line}\n", f"\n{key} = {value}\n")
    path = tmp_path / "policy.toml"
    path.write_text(policy, encoding="utf-8")
    monkeypatch.setenv("DELIVERY_POLICY_FILE", str(path))


@pytest.fixture
async def parallel(kafka: str, topic_prefix: str, make_database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Harness]:
    """Delivery with `[electronic] parallel = true`, every consented written channel at once."""
    policy_with(tmp_path, monkeypatch, parallel="true")
    async with harness(kafka, topic_prefix, await make_database("delivery"), documents=tmp_path / "documents") as running:
        yield running


@pytest.fixture
async def h(kafka: str, topic_prefix: str, make_database, tmp_path: Path) -> AsyncIterator[Harness]:
    async with harness(kafka, topic_prefix, await make_database("delivery"), documents=tmp_path / "documents") as running:
        yield running


def unconfirmed_mail_notice() -> NoticeRegistered:
    """A notice for one person whose e-mail address was found, not provided or confirmed by them."""
    registered = registered_notice(consent=[(EDeliveryChannel.email, MAILBOX)], phones=())
    [person] = registered.recipients
    consent = [c.model_copy(update={"address_confirmed": False, "source": "原告起诉状所载电子邮箱"}) for c in person.consent]
    return registered.model_copy(update={"recipients": [person.model_copy(update={"consent": consent})]})


async def arrived_unserved(h: Harness, registered: NoticeRegistered) -> tuple[dict[str, Any], str]:
    """Publishes the notice and waits for its e-mail to arrive; returns the recipient's view and the e-delivery link's path."""
    await h.publish(INTAKE_EVENTS, registered, notice_id=registered.notice_id)
    waiting = await h.recipient_when(registered.notice_id, lambda r: r["attempts"] and r["attempts"][0]["arrived_at"], "the e-mail to arrive")
    [message] = await eventually(lambda: _mail_for(h, registered), what="the e-mail in the inbox")
    link = next(line for line in message.get_content().splitlines() if "/e/" in line).strip()
    return waiting, link.removeprefix(h.base)


async def _mail_for(h: Harness, registered: NoticeRegistered) -> list[Any]:
    return [m for m in h.inbox.messages if registered.case_number in str(m["Subject"]) and MAILBOX in str(m["To"])]


async def served_event(h: Harness, notice_id: str) -> dict[str, Any]:
    records = await read_topic(h.kafka, h.names.physical(DELIVERY_EVENTS), expect=1)
    [served] = [json.loads(r.value)["data"] for r in records if r.key == notice_id.encode() and json.loads(r.value)["type"] == "delivery.RecipientServed"]
    return served


async def test_an_unconfirmed_address_is_served_on_acknowledgement_not_on_arrival(h: Harness) -> None:
    registered = unconfirmed_mail_notice()
    waiting, path = await arrived_unserved(h, registered)
    # OLR Art. 31(2): arrival at an address the recipient did not confirm is not service; the attempt stays open.
    assert (waiting["status"], waiting["served"], waiting["attempts"][0]["status"]) == ("in_progress", None, "open")
    ack = await h.delivery.post(path + "/ack", headers={"User-Agent": "Mozilla/5.0 test", "Origin": h.base})
    assert ack.status_code == 303
    served = await h.recipient_when(registered.notice_id, lambda r: r["status"] == "served", "the acknowledgement to serve")
    assert (served["served"]["channel"], served["legal_basis"], served["served"]["presumed"]) == ("email", "民事诉讼法第90条；《人民法院在线诉讼规则》第31条", False)
    assert served["served"]["served_at"] > waiting["attempts"][0]["arrived_at"]
    event = await served_event(h, registered.notice_id)
    assert "presumed" not in event and event["consent"]["address_confirmed"] is False and event["consent"]["source"] == "原告起诉状所载电子邮箱"


async def test_an_unconfirmed_address_is_presumed_served_when_its_documents_are_opened(h: Harness) -> None:
    registered = unconfirmed_mail_notice()
    waiting, path = await arrived_unserved(h, registered)
    assert waiting["status"] == "in_progress"
    await h.documents.put((EXAMPLES / "complaint_copy.pdf").read_bytes())
    shown = await h.delivery.get(f"{path}/documents/1", headers={"User-Agent": "Mozilla/5.0 test"})
    assert shown.status_code == 200
    served = await h.recipient_when(registered.notice_id, lambda r: r["status"] == "served", "the read report to presume service")
    assert (served["served"]["presumed"], served["served"]["deemed"]) == (True, False)
    event = await served_event(h, registered.notice_id)
    assert event["presumed"] is True and event["deemed_reason"] == "系统显示受送达人已阅读，推定送达（《人民法院在线诉讼规则》第31条第2款）"
    assert event["legal_basis"] == "民事诉讼法第90条；《人民法院在线诉讼规则》第31条"


async def test_parallel_channels_both_go_out_the_earliest_arrival_serves_and_the_other_is_superseded(parallel: Harness) -> None:
    h = parallel
    await h.sim.post("/sim/script", json={"number": MOBILE, "sms": {"outcome": "delivered"}})
    registered = registered_notice(consent=[(EDeliveryChannel.sms, MOBILE), (EDeliveryChannel.email, MAILBOX)])
    await h.publish(INTAKE_EVENTS, registered, notice_id=registered.notice_id)
    # Both go out at once; whichever reaches its system first serves (on a loaded machine either may), the other is stopped.
    served = await h.recipient_when(registered.notice_id, lambda r: r["status"] == "served", "the first channel to serve")
    attempts = {a["channel"]: a for a in served["attempts"]}
    assert set(attempts) == {"email", "sms"}, served["attempts"]
    assert attempts["email"]["started_at"] == attempts["sms"]["started_at"], "both started at once"
    winner = served["served"]["channel"]
    loser = {"email": "sms", "sms": "email"}[winner]
    assert (attempts[winner]["status"], attempts[loser]["status"]) == ("succeeded", "superseded")
    assert served["served"]["served_at"] == attempts[winner]["arrived_at"], "served as of the first arrival"
    await eventually(lambda: _mail_for(h, registered), what="the e-mail in the inbox")
    if loser == "sms":
        sms = await eventually(lambda: _sms_to(h, "delivered"), what="the SMS, sent too, to be delivered", timeout=45)
        assert len(sms) == 1
        # The SMS's late delivered callback changes nothing: the e-mail's service stands.
        await eventually(
            lambda: h.scalar("SELECT count(*) FROM delivery_callback WHERE attempt_id = :a AND key LIKE :k", a=attempts["sms"]["attempt_id"], k="%:delivered"),
            what="the SMS's delivered callback",
        )
    after = await h.recipient_when(registered.notice_id, lambda r: r["status"] == "served", "the recipient still served")
    assert after["served"] == served["served"] and after["attempts"] == served["attempts"]
    records = await read_topic(h.kafka, h.names.physical(DELIVERY_EVENTS), expect=1)
    [superseded] = [json.loads(r.value)["data"] for r in records if r.key == registered.notice_id.encode() and json.loads(r.value)["type"] == "delivery.AttemptSuperseded"]
    assert (superseded["attempt_id"], superseded["by_attempt_id"], superseded["channel"]) == (attempts[loser]["attempt_id"], attempts[winner]["attempt_id"], loser)


async def _sms_to(h: Harness, status: str) -> list[dict[str, Any]]:
    messages = (await h.sim.get("/sim/messages", params={"to": MOBILE})).json()["messages"]
    return messages if messages and all(m["status"] == status for m in messages) else []


@asynccontextmanager
async def through_mail_sink(kafka: str, prefix: str, database_url: str, documents: Path, **paths: str) -> AsyncIterator[Harness]:
    """Delivery sending its e-mail through the real mail sink; `paths` name the sink's settings (dsn_url, reply_url) that post back to delivery's webhooks."""
    sink_port, sink_smtp, delivery_port = free_port(), free_port(), free_port()
    base = f"http://127.0.0.1:{delivery_port}"
    async with AsyncExitStack() as stack:
        sink = MailSinkSettings(port=sink_port, smtp_port=sink_smtp, common=common(kafka=kafka, prefix=prefix), **{key: f"{base}{path}" for key, path in paths.items()})
        sink_url = await stack.enter_async_context(serving(create_sink(sink), sink_port))
        delivery_settings = settings(
            DeliverySettings, database_url=database_url, kafka=kafka, prefix=prefix, public_url=base, smtp_port=sink_smtp, dispatch_poll_ms=50, sweep_poll_ms=100
        )
        delivery_settings.common.documents_dir = documents
        await stack.enter_async_context(serving(create_delivery(delivery_settings), delivery_port))
        delivery = await stack.enter_async_context(httpx.AsyncClient(base_url=base, timeout=10))
        sim = await stack.enter_async_context(httpx.AsyncClient(base_url=sink_url, timeout=10))
        db = Database(database_url)
        stack.push_async_callback(db.dispose)
        yield Harness(delivery=delivery, sim=sim, db=db, kafka=kafka, names=TopicNames(prefix), inbox=Inbox(), base=base, documents=DocumentStore(documents))


@pytest.fixture
async def bouncing(kafka: str, topic_prefix: str, make_database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Harness]:
    """Delivery through the real mail sink, which bounces @bounce.invalid back to delivery's DSN webhook; accepted e-mail waits 3 s for a bounce."""
    policy_with(tmp_path, monkeypatch, bounce_wait_minutes="0.05")
    async with through_mail_sink(kafka, topic_prefix, await make_database("delivery"), tmp_path / "documents", dsn_url="/webhooks/mail/dsn") as running:
        yield running


async def test_a_bounced_email_fails_its_attempt_with_the_servers_reason(bouncing: Harness) -> None:
    h = bouncing
    bounced, good = "wangwu@bounce.invalid", "zhaoliu@example.com"
    # Both addresses confirmed by the party: without the bounce window their acceptance would serve at once.
    registered = registered_notice(consent=[(EDeliveryChannel.email, bounced)], phones=())
    fine = registered_notice(consent=[(EDeliveryChannel.email, good)], phones=())
    await h.publish(INTAKE_EVENTS, registered, notice_id=registered.notice_id)
    await h.publish(INTAKE_EVENTS, fine, notice_id=fine.notice_id)
    moved = await h.recipient_when(registered.notice_id, lambda r: r["attempts"] and r["attempts"][0]["status"] == "failed", "the bounce to fail the e-mail")
    [mail] = moved["attempts"][:1]
    assert mail["channel"] == "email" and mail["detail"] == f"退信：550 5.1.1 <{bounced}>: Recipient address rejected: User unknown"
    assert moved["status"] == "in_progress" and moved["tier"] == "direct" and moved["served"] is None, "the plan moved on to a visit"

    async def both_taken() -> set[str] | None:
        # The bounce can come back before the other notice's e-mail is even sent: wait for the sink to hold both.
        sent = {m["to"] for m in (await h.sim.get("/api/messages")).json()["messages"]}
        return sent if sent == {bounced, good} else None

    assert await eventually(both_taken, what="the sink to take both e-mails") == {bounced, good}, "the sink took both e-mails, and bounced one after"
    records = await read_topic(h.kafka, h.names.physical(DELIVERY_EVENTS), expect=1)
    [failed] = [json.loads(r.value)["data"] for r in records if r.key == registered.notice_id.encode() and json.loads(r.value)["type"] == "delivery.AttemptFailed"]
    assert failed["attempt_id"] == mail["attempt_id"] and failed["reason"].startswith("退信：550 5.1.1")
    # The e-mail nothing bounced is served once the window passed, as of its acceptance.
    served = await h.recipient_when(fine.notice_id, lambda r: r["status"] == "served", "the unbounced e-mail to serve")
    assert served["served"]["served_at"] == served["attempts"][0]["arrived_at"]
    assert served["attempts"][0]["detail"] == "reached the recipient's system; no bounce"

    # The same bounce posted again is a repeat; one not signed with the shared secret is refused as a forgery.
    original = f"To: {bounced}\r\nMessage-ID: <{mail['attempt_id']}@songda>\r\n\r\n".encode()
    body = dsn_for(original, recipient=bounced, at=datetime.now(UTC))
    again = await h.delivery.post("/webhooks/mail/dsn", content=body, headers={mail_wire.SIGNATURE_HEADER: mail_wire.sign(DEV_MAIL_DSN_SECRET, body)})
    assert (again.status_code, again.json()) == (200, {"applied": False, "reason": "duplicate"})
    forged = await h.delivery.post("/webhooks/mail/dsn", content=body, headers={mail_wire.SIGNATURE_HEADER: mail_wire.sign("not-the-shared-secret", body)})
    assert forged.status_code == 403 and forged.headers["content-type"].startswith("application/problem+json")
    junk = b"Subject: hello\r\n\r\nnot a report\r\n"
    refused = await h.delivery.post("/webhooks/mail/dsn", content=junk, headers={mail_wire.SIGNATURE_HEADER: mail_wire.sign(DEV_MAIL_DSN_SECRET, junk)})
    assert refused.status_code == 422 and "body" in refused.json()["detail"]
