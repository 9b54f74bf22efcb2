"""Bounces (RFC 3464): real-shaped DSNs mapped onto the attempt's failure, their signature, and the mail sink bouncing the bounce domain."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Request

from services.delivery.adapters import dsn
from services.delivery.adapters.mail import SmtpMailer
from services.delivery.config import DeliverySettings
from services.delivery.domain.inputs import Failure
from shared.contracts import mail_wire
from shared.plumbing.settings import DEV_MAIL_DSN_SECRET, CommonSettings, Environment
from simulators.mail_sink.bounce import dsn_for
from simulators.mail_sink.config import MailSinkSettings
from simulators.mail_sink.main import create_app
from tests.support import eventually, free_port, serving

FIXTURES = Path(__file__).parent.parent / "fixtures" / "mail"
ATTEMPT = "5d9c4e1a-2b7f-5c3e-9a61-0f4d2c8b7e15"
AT = datetime(2026, 11, 23, 1, 5, tzinfo=UTC)


# Each fixture as a receiving server wrote it: what it means for the attempt, and the reason the report gives.
@pytest.mark.parametrize(
    ("fixture", "status", "failure", "reason"),
    [
        ("postfix_user_unknown.eml", "5.1.1", Failure.unusable, "退信：550 5.1.1 <lisi@example.net>: Recipient address rejected: User unknown in virtual mailbox table"),
        ("postfix_gave_up.eml", "4.4.7", Failure.move_on, "退信：delivery temporarily suspended: connect to mx.example.net[203.0.113.25]:25: Connection timed out"),
        # The server is still trying: nothing is decided yet.
        ("postfix_delayed.eml", "4.4.1", None, None),
    ],
)
def test_a_dsn_fails_its_attempt_with_the_servers_reason(fixture: str, status: str, failure: Failure | None, reason: str | None) -> None:
    bounce = dsn.parse((FIXTURES / fixture).read_bytes())
    assert (bounce.attempt_id, bounce.status, bounce.final_recipient) == (ATTEMPT, status, "lisi@example.net")
    failed = dsn.bounce_input(bounce, at=AT)
    assert (failed.failure if failed else None, failed.status if failed else None) == (failure, reason)
    assert failed is None or (failed.attempt_id, failed.at) == (ATTEMPT, AT)


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (b"From: a@b.example\r\nSubject: hello\r\n\r\nnot a report\r\n", "not a multipart/report"),
        ((FIXTURES / "postfix_user_unknown.eml").read_bytes().replace(b"@songda>", b"@elsewhere>"), "name no message of delivery's"),
        ((FIXTURES / "postfix_user_unknown.eml").read_bytes().replace(b"Action: failed\r\n", b""), "no per-recipient fields"),
    ],
)
def test_what_is_not_a_bounce_of_ours_is_refused_saying_why(raw: bytes, why: str) -> None:
    with pytest.raises(dsn.NotADsn, match=why):
        dsn.parse(raw)


def test_only_the_bodys_own_signature_verifies() -> None:
    body = (FIXTURES / "postfix_user_unknown.eml").read_bytes()
    signature = mail_wire.sign("secret-one-secret-one", body)
    assert mail_wire.verify("secret-one-secret-one", body, signature)
    assert not mail_wire.verify("secret-two-secret-two", body, signature)
    assert not mail_wire.verify("secret-one-secret-one", body + b" ", signature)
    assert not mail_wire.verify("secret-one-secret-one", body, None)


def test_the_sinks_dsn_reads_back_as_the_bounce_of_the_original() -> None:
    original = f"From: court@court.example\r\nTo: wang@bounce.invalid\r\nMessage-ID: <{ATTEMPT}@songda>\r\n\r\n正文\r\n".encode()
    bounce = dsn.parse(dsn_for(original, recipient="wang@bounce.invalid", at=AT))
    assert (bounce.attempt_id, bounce.action, bounce.status, bounce.final_recipient) == (ATTEMPT, "failed", "5.1.1", "wang@bounce.invalid")


@pytest.fixture
async def received() -> AsyncIterator[tuple[str, list[tuple[bytes, str | None]]]]:
    """A stand-in for delivery's webhook that keeps what is posted to it."""
    posts: list[tuple[bytes, str | None]] = []
    app = FastAPI()

    @app.post("/webhooks/mail/dsn")
    async def keep(request: Request) -> dict[str, Any]:
        posts.append((await request.body(), request.headers.get(mail_wire.SIGNATURE_HEADER)))
        return {"applied": True}

    port = free_port()
    async with serving(app, port) as base:
        yield f"{base}/webhooks/mail/dsn", posts


async def test_the_sink_accepts_mail_to_the_bounce_domain_then_posts_a_signed_dsn(received: tuple[str, list[tuple[bytes, str | None]]]) -> None:
    url, posts = received
    settings = MailSinkSettings(port=free_port(), smtp_port=free_port(), dsn_url=url)
    async with serving(create_app(settings), settings.port):
        mailer = SmtpMailer(host="127.0.0.1", port=settings.smtp_port, sender="court@court.example", timeout=5.0)
        kept = await mailer.send(to="zhang@example.com", subject="送达", text="正文", html=None, message_id="<kept@songda>", now=AT)
        bounced = await mailer.send(to="wang@bounce.invalid", subject="送达", text="正文", html=None, message_id=f"<{ATTEMPT}@songda>", now=AT)
        assert kept.accepted and bounced.accepted, "the sink accepts first and bounces after, as a relay does"
        [(body, signature)] = await eventually(lambda: _posted(posts), what="the DSN posted to the webhook", timeout=10)
    assert mail_wire.verify(DEV_MAIL_DSN_SECRET, body, signature)
    bounce = dsn.parse(body)
    assert (bounce.attempt_id, bounce.status, bounce.final_recipient) == (ATTEMPT, "5.1.1", "wang@bounce.invalid")


async def _posted(posts: list[tuple[bytes, str | None]]) -> list[tuple[bytes, str | None]]:
    return list(posts)


def test_production_refuses_the_development_dsn_secret() -> None:
    production = CommonSettings(env=Environment.production, jwt_secret="s" * 40)
    with pytest.raises(ValueError, match="DELIVERY_MAIL_DSN_SECRET"):
        DeliverySettings(common=production)
    assert DeliverySettings(common=production, mail_dsn_secret="court-own-dsn-secret").mail_dsn_secret == "court-own-dsn-secret"
