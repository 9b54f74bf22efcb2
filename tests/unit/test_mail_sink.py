"""Mail sink: delivery's SMTP mailer sends through it, and the page shows each message with its link."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiosmtplib
import httpx
import pytest
from structlog.testing import capture_logs

from services.delivery.adapters.mail import SmtpMailer
from shared.plumbing.problems import MEDIA_TYPE
from simulators.mail_sink.config import MailSinkSettings
from simulators.mail_sink.main import create_app
from simulators.mail_sink.pages import linkify
from tests.support import eventually, free_port, serving

SENDER = "威海市环翠区人民法院送达中心 <songda@court.example>"
TO = "zhangsan@example.com"
SUBJECT = "（2026）鲁1002民初1234号 诉讼文书送达通知"
LINK = "http://127.0.0.1:8002/e/tok-a1b2c3"
TEXT = f"张三：\n\n请打开以下链接查看、下载文书并确认收到（7日内有效，仅限您本人使用）：\n{LINK}\n\n威海市环翠区人民法院"
HTML = f'<p>请打开 <a href="{LINK}">送达页面</a></p>'
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith(("SONGDA_", "MAIL_SINK_"))]:
        monkeypatch.delenv(name)


@dataclass
class Sink:
    """A running sink, a client for its pages, and delivery's mailer pointed at its SMTP port."""

    http: httpx.AsyncClient
    mailer: SmtpMailer
    smtp_port: int

    async def send(self, *, subject: str = SUBJECT, message_id: str = "attempt-1", html: str | None = HTML) -> None:
        """Sends one message the way delivery does and checks the sink accepted it."""
        result = await self.mailer.send(to=TO, subject=subject, text=TEXT, html=html, message_id=message_id, now=NOW)
        assert result.accepted, result

    async def messages(self) -> list[dict[str, Any]]:
        """Returns what `GET /api/messages` lists."""
        response = await self.http.get("/api/messages")
        assert response.status_code == 200, response.text
        return response.json()["messages"]

    async def wait_for(self, count: int) -> list[dict[str, Any]]:
        """Polls until the sink lists `count` messages."""
        return await eventually(lambda: self._exactly(count), timeout=10, what=f"{count} messages in the sink")

    async def _exactly(self, count: int) -> list[dict[str, Any]] | None:
        messages = await self.messages()
        return messages if len(messages) == count else None


@pytest.fixture
async def sink() -> AsyncIterator[Sink]:
    settings = MailSinkSettings(port=free_port(), smtp_port=free_port(), keep=2)
    async with serving(create_app(settings), settings.port) as base, httpx.AsyncClient(base_url=base, timeout=5) as http:
        mailer = SmtpMailer(host="127.0.0.1", port=settings.smtp_port, sender=SENDER, timeout=5.0)
        yield Sink(http=http, mailer=mailer, smtp_port=settings.smtp_port)


async def test_a_message_sent_over_smtp_is_listed_with_its_headers_and_bodies(sink: Sink) -> None:
    await sink.send()
    [mail] = await sink.wait_for(1)
    assert mail["from"] == SENDER
    assert mail["to"] == TO
    assert mail["subject"] == SUBJECT
    assert mail["message_id"] == "<attempt-1>"
    assert mail["text"].strip() == TEXT
    assert mail["html"].strip() == HTML
    assert mail["size"] > len(TEXT.encode())
    assert datetime.fromisoformat(mail["received_at"]).tzinfo is not None


async def test_the_page_lists_the_subject_and_the_message_page_makes_the_link_clickable(sink: Sink) -> None:
    await sink.send()
    [mail] = await sink.wait_for(1)
    inbox = await sink.http.get("/")
    assert inbox.status_code == 200
    assert inbox.headers["content-type"].startswith("text/html")
    assert SUBJECT in inbox.text
    assert f'href="/messages/{mail["id"]}"' in inbox.text
    page = await sink.http.get(f"/messages/{mail['id']}")
    assert page.status_code == 200
    assert f'<a href="{LINK}">{LINK}</a>' in page.text
    assert "<pre>" in page.text


async def test_an_unknown_message_is_a_404_problem(sink: Sink) -> None:
    response = await sink.http.get("/messages/999")
    assert response.status_code == 404
    assert response.headers["content-type"] == MEDIA_TYPE
    assert response.json()["status"] == 404


async def test_delete_forgets_every_message_and_ids_go_on_counting(sink: Sink) -> None:
    await sink.send()
    [first] = await sink.wait_for(1)
    response = await sink.http.delete("/api/messages")
    assert response.status_code == 204
    assert await sink.messages() == []
    assert (await sink.http.get(f"/messages/{first['id']}")).status_code == 404
    await sink.send(message_id="attempt-2")
    [second] = await sink.wait_for(1)
    assert second["id"] != first["id"]


async def test_it_keeps_only_the_newest_messages_newest_first(sink: Sink) -> None:
    for number in (1, 2, 3):
        await sink.send(subject=f"第{number}封", message_id=f"attempt-{number}")
        await sink.wait_for(min(number, 2))
    assert [mail["subject"] for mail in await sink.messages()] == ["第3封", "第2封"]


async def test_a_text_only_message_has_no_html(sink: Sink) -> None:
    await sink.send(html=None)
    [mail] = await sink.wait_for(1)
    assert mail["html"] is None
    assert LINK in mail["text"]


async def test_a_plain_message_reads_as_written_even_without_a_to_header_or_a_known_charset(sink: Sink) -> None:
    raw = b"From: clerk@court.example\r\nSubject: plain\r\nContent-Type: text/plain; charset=x-unknown\r\n\r\nline one\r\nline two\r\n"
    await aiosmtplib.send(raw, sender="clerk@court.example", recipients=[TO], hostname="127.0.0.1", port=sink.smtp_port, timeout=5)
    [mail] = await sink.wait_for(1)
    assert mail["to"] == TO
    assert mail["text"] == "line one\nline two\n"
    assert mail["date"] is None and mail["message_id"] is None


async def test_its_logs_name_no_address_and_no_body(sink: Sink, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    with capture_logs() as logs:
        await sink.send()
        await sink.wait_for(1)
    own = [entry for entry in logs if entry["event"].startswith("mail_sink.")]
    assert [entry["event"] for entry in own] == ["mail_sink.received"]
    written = repr(own) + caplog.text
    assert "@" not in written and LINK not in written and SUBJECT not in written


async def test_healthz_says_there_is_no_consumer(sink: Sink) -> None:
    response = await sink.http.get("/healthz")
    assert response.json() == {"service": "mail_sink", "status": "ok", "kafka": {"consumer": "none"}}


@pytest.mark.parametrize(
    ("text", "html"),
    [
        (f"打开 {LINK} 查看", f'打开 <a href="{LINK}">{LINK}</a> 查看'),
        (f"({LINK}).", f'(<a href="{LINK}">{LINK}</a>).'),
        ("<b>a & b</b>", "&lt;b&gt;a &amp; b&lt;/b&gt;"),
        ("http://x.example/?a=1&b=<2>", '<a href="http://x.example/?a=1&amp;b=">http://x.example/?a=1&amp;b=</a>&lt;2&gt;'),
    ],
)
def test_linkify_escapes_the_text_and_links_each_url(text: str, html: str) -> None:
    assert str(linkify(text)) == html
