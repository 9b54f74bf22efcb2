"""The SMTP mailer against a real SMTP server in the test process (aiosmtpd)."""

from __future__ import annotations

import email
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import default
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from services.delivery.adapters.mail import FakeMailer, MailResult, MailUnavailable, SmtpMailer
from tests.support import free_port

SENDER = "威海市环翠区人民法院送达中心 <songda@court.example>"
TO = "zhangsan@example.com"
SUBJECT = "（2024）鲁1002民初1234号 诉讼文书送达通知"
LINK = "https://songda.court.example/e/tok-a1"
NOW = datetime(2026, 6, 1, 8, 30, tzinfo=UTC)


class Recording:
    """Accepts every message and keeps its envelope."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 2.0.0 Ok: queued as 4F2A1"


class Refusing(Recording):
    """Refuses one mailbox for good, as a server does for an unknown user."""

    def __init__(self, refused: str) -> None:
        super().__init__()
        self.refused = refused

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]) -> str:
        if address == self.refused:
            return "550 5.1.1 <zhangsan@example.com>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"


class RejectingContent(Recording):
    """Takes the recipient but refuses the message itself, as a content filter does."""

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        return "554 5.7.1 Message rejected by content policy"


class Greylisting(Recording):
    """Asks every sender to come back later, as a greylisting server does."""

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]) -> str:
        return "451 4.7.1 Greylisted, please try again later"


@contextmanager
def serve(handler: Any) -> Iterator[int]:
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), server_hostname="mx.example.com")
    controller.start()
    try:
        yield controller.port
    finally:
        controller.stop()


def mailer(port: int) -> SmtpMailer:
    return SmtpMailer(host="127.0.0.1", port=port, sender=SENDER, timeout=5.0)


async def send(port: int) -> MailResult:
    return await mailer(port).send(
        to=TO,
        subject=SUBJECT,
        text=f"张三：\n本院向您送达诉讼文书，请点击链接查看：{LINK}\n",
        html=f'<p>张三：</p><p>本院向您送达诉讼文书，请<a href="{LINK}">点击查看</a>。</p>',
        message_id="attempt-a1.1@songda.court.example",
        now=NOW,
    )


@pytest.fixture
def recording() -> Recording:
    return Recording()


@pytest.fixture
def recording_port(recording: Recording) -> Iterator[int]:
    with serve(recording) as port:
        yield port


async def test_an_accepted_message_arrives_with_our_id_subject_and_link(recording: Recording, recording_port: int) -> None:
    result = await send(recording_port)

    assert result == MailResult(accepted=True, message_id="<attempt-a1.1@songda.court.example>", accepted_at=NOW.isoformat())
    assert MailResult.from_dict(result.to_dict()) == result
    [envelope] = recording.envelopes
    assert envelope.mail_from == "songda@court.example"
    assert envelope.rcpt_tos == [TO]
    assert isinstance(envelope.content, bytes)
    # Headers travel as ASCII: the Chinese subject goes as an RFC 2047 encoded word.
    assert b"\r\nSubject: =?utf-8?" in envelope.content
    received = email.message_from_bytes(envelope.content, policy=default)
    assert isinstance(received, EmailMessage)
    assert received["Message-ID"] == "<attempt-a1.1@songda.court.example>"
    assert received["Subject"] == SUBJECT
    assert received["From"].addresses[0].display_name == "威海市环翠区人民法院送达中心"
    assert received["To"] == TO
    assert received["Date"].datetime == NOW
    text = received.get_body(preferencelist=("plain",))
    html = received.get_body(preferencelist=("html",))
    assert text is not None and LINK in text.get_content()
    assert html is not None and f'href="{LINK}"' in html.get_content()


@pytest.mark.parametrize(
    ("handler", "error"),
    [
        (Refusing(TO), "550 5.1.1 <zhangsan@example.com>: Recipient address rejected: User unknown"),
        (RejectingContent(), "554 5.7.1 Message rejected by content policy"),
    ],
)
async def test_a_permanent_refusal_of_recipient_or_message_is_a_permanent_failure(handler: Recording, error: str) -> None:
    with serve(handler) as port:
        result = await send(port)

    assert result == MailResult(accepted=False, message_id="<attempt-a1.1@songda.court.example>", error=error, permanent=True)
    assert handler.envelopes == []


async def test_a_temporary_refusal_leaves_the_outcome_unknown() -> None:
    with serve(Greylisting()) as port, pytest.raises(MailUnavailable) as raised:
        await send(port)

    assert raised.value.__cause__ is not None


async def test_no_server_listening_leaves_the_outcome_unknown() -> None:
    with pytest.raises(MailUnavailable) as raised:
        await send(free_port())

    assert raised.value.__cause__ is not None


async def test_the_fake_records_answers_as_scripted_and_fails_once() -> None:
    fake = FakeMailer()
    refused = MailResult(accepted=False, message_id="", error="550 User unknown", permanent=True)
    fake.script("gone@example.com", refused)
    fake.fail_next()

    with pytest.raises(MailUnavailable):
        await fake.send(to=TO, subject="s", text="t", html=None, message_id="<m1@x>", now=NOW)
    accepted = await fake.send(to=TO, subject="s", text="t", html=None, message_id="<m1@x>", now=NOW)
    bounced = await fake.send(to="gone@example.com", subject="s", text="t", html=None, message_id="<m2@x>", now=NOW)

    assert accepted == MailResult(accepted=True, message_id="<m1@x>", accepted_at=NOW.isoformat())
    assert bounced == MailResult(accepted=False, message_id="<m2@x>", error="550 User unknown", permanent=True)
    assert [sent.message_id for sent in fake.sent] == ["<m1@x>", "<m1@x>", "<m2@x>"]
