"""Replies by e-mail: which messages answer one of delivery's e-mails, which a machine wrote, and what is kept of them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.delivery.adapters import mail_reply
from simulators.mail_sink.received import parse as received
from simulators.mail_sink.reply import reply_for

ATTEMPT = "2ef45243-e626-5f57-b77e-6390a21fa399"


def message(*headers: str, body: str = "收到") -> bytes:
    return (
        "\r\n".join(["From: 李四 <lisi@example.com>", "Message-ID: <r1@example.com>", "Content-Type: text/plain; charset=utf-8", *headers]) + "\r\n\r\n" + body + "\r\n"
    ).encode()


@pytest.mark.parametrize(
    ("headers", "automatic"),
    [
        ((f"In-Reply-To: <{ATTEMPT}@songda>",), False),
        # A mailer that drops In-Reply-To still lists the thread in References.
        ((f"References: <x@example.com> <{ATTEMPT}@songda>",), False),
        # RFC 3834: a vacation notice or other machine answer.
        ((f"In-Reply-To: <{ATTEMPT}@songda>", "Auto-Submitted: auto-replied"), True),
        ((f"In-Reply-To: <{ATTEMPT}@songda>", "Auto-Submitted: no"), False),
        ((f"In-Reply-To: <{ATTEMPT}@songda>", "Precedence: bulk"), True),
    ],
)
def test_a_reply_names_its_attempt_and_whether_a_machine_wrote_it(headers: tuple[str, ...], automatic: bool) -> None:
    reply = mail_reply.parse(message(*headers))
    assert (reply.attempt_id, reply.sender, reply.key, reply.automatic, reply.text) == (ATTEMPT, "lisi@example.com", "<r1@example.com>", automatic, "收到")


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (message("In-Reply-To: <someone-else@example.com>"), "In-Reply-To and References"),
        (b"Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n", "/webhooks/mail/dsn"),
        (f"In-Reply-To: <{ATTEMPT}@songda>\r\n\r\nno sender\r\n".encode(), "From"),
    ],
)
def test_what_is_not_a_reply_is_refused_saying_why(raw: bytes, why: str) -> None:
    with pytest.raises(mail_reply.NotAReply, match=why):
        mail_reply.parse(raw)


def test_the_sinks_reply_answers_the_kept_message_from_its_addressee() -> None:
    original = f"From: court@songda.dev\r\nTo: lisi@example.com\r\nSubject: notice\r\nMessage-ID: <{ATTEMPT}@songda>\r\n\r\nhello\r\n".encode()
    kept = received(original, mail_id="1", recipients=["lisi@example.com"], received_at=datetime(2026, 12, 2, tzinfo=UTC))
    reply = mail_reply.parse(reply_for(kept, text="收到，谢谢", at=datetime(2026, 12, 2, 1, tzinfo=UTC)))
    assert (reply.attempt_id, reply.sender, reply.automatic, reply.text) == (ATTEMPT, "lisi@example.com", False, "收到，谢谢")
    assert mail_reply.parse(reply_for(kept, text="away", at=datetime(2026, 12, 2, 1, tzinfo=UTC), automatic=True)).automatic
