"""A lawyer's pages over a fake of delivery's firm inbox: the inbox unread first, an item and its documents, the 签收 with CSRF, the certificate; and the client's requests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import jwt
import pytest
import respx

from services.console.adapters.inbox import Browser, InboxClient
from shared.plumbing.auth import Principal, Role
from tests import consoles
from tests.consoles import CLIENT, FIRM, SECRET, SENT, Console, hidden, service_api, sign_in, signed_in, texts_of
from tests.consoles import firm_item as item

OTHER_FIRM = "91370000MA3C5X2L4X"
SHA = "ab" * 32
SAFARI = "Mozilla/5.0 (iPhone) Safari/604.1"
DELIVERY = "http://delivery.test"


@pytest.fixture
async def console(tmp_path: Path) -> AsyncIterator[Console]:
    async with consoles.console(tmp_path) as built:
        await built.add("li", Role.lawyer, scope=FIRM)
        await built.add("clerk", Role.court, scope="C371002")
        yield built


async def test_the_inbox_lists_the_firms_items_unread_first_with_due_dates_and_badges(console: Console) -> None:
    console.inbox.add(item("read", opened=True, sent_at=SENT + timedelta(hours=2), case_number="（2026）鲁1002民初2号"))
    console.inbox.add(item("unread", case_number="（2026）鲁1002民初1号"))
    acknowledged = {"at": SENT + timedelta(hours=3), "by": "li", "ip": "203.0.113.7", "user_agent": SAFARI}
    console.inbox.add(item("done", opened=True, acknowledged=acknowledged, case_number="（2026）鲁1002民初3号"))
    console.inbox.add(item("theirs", firm=OTHER_FIRM, case_number="（2026）鲁1002民初9号"))
    async with console.browser() as browser:
        landing = await sign_in(browser, "li")
        page = texts_of((await browser.get("/inbox")).text)
    assert landing.headers["location"] == "/inbox"
    assert page.index("未读") < page.index("民初1号") < page.index("民初2号") < page.index("民初3号")
    assert "1 件未读" in page and "已读" in page and "已签收" in page and "期限 2026年11月26日" in page
    assert "民初9号" not in page, "another firm's item"


async def test_an_item_shows_its_documents_and_the_sign_button_another_firms_is_missing(console: Console) -> None:
    console.inbox.add(item("a-1"))
    console.inbox.add(item("b-1", firm=OTHER_FIRM))
    async with console.browser() as browser:
        await signed_in(browser, "li")
        page = await browser.get("/inbox/a-1")
        theirs = await browser.get("/inbox/b-1")
    text = texts_of(page.text)
    for shown in ("威海市环翠区人民法院", "（2026）鲁1002民初1234号", "张三", "王律师", "起诉状副本", "传票", "无电子文件", "签收"):
        assert shown in text, shown
    assert 'href="/inbox/a-1/documents/1"' in page.text and 'href="/inbox/a-1/documents/2"' not in page.text
    assert theirs.status_code == 404 and "找不到页面" in theirs.text


async def test_opening_a_document_passes_on_the_browsers_address_and_browser(console: Console) -> None:
    console.inbox.add(item("a-1"), files={1: b"%PDF-1.7 complaint"})
    async with console.browser() as browser:
        await signed_in(browser, "li")
        shown = await browser.get("/inbox/a-1/documents/1", headers={"User-Agent": SAFARI})
        saved = await browser.get("/inbox/a-1/documents/1/download", headers={"User-Agent": SAFARI})
    assert (shown.status_code, shown.content, shown.headers["content-type"]) == (200, b"%PDF-1.7 complaint", "application/pdf")
    assert saved.headers["content-disposition"].startswith("attachment")
    assert [(a, n, by, b) for a, n, by, b in console.inbox.opened] == [("a-1", 1, "li", Browser(ip=CLIENT[0], user_agent=SAFARI))] * 2


async def test_signing_needs_the_forms_token_then_shows_the_certificate(console: Console) -> None:
    console.inbox.add(item("a-1"))
    async with console.browser() as browser:
        await signed_in(browser, "li")
        page = await browser.get("/inbox/a-1")
        assert (await browser.get("/inbox/a-1/certificate")).headers["location"] == "/inbox/a-1"
        forged = await browser.post("/inbox/a-1/acknowledge", data={"csrf_token": "not-the-token"})
        assert forged.status_code == 403 and console.inbox.items_by_id["a-1"].acknowledged is None
        signed = await browser.post("/inbox/a-1/acknowledge", data={"csrf_token": hidden(page.text, "csrf_token")}, headers={"User-Agent": SAFARI})
        assert (signed.status_code, signed.headers["location"]) == (303, "/inbox/a-1/certificate")
        certificate = texts_of((await browser.get("/inbox/a-1/certificate")).text)
    for shown in ("电子送达凭证", "威海市环翠区人民法院", "（2026）鲁1002民初1234号", "张三", "山东示例律师事务所", SHA, CLIENT[0], SAFARI, "li"):
        assert shown in certificate, shown


async def test_only_lawyers_reach_the_inbox(console: Console) -> None:
    async with console.browser() as browser:
        await signed_in(browser, "clerk")
        for path in ("/inbox", "/inbox/a-1", "/inbox/a-1/documents/1"):
            answer = await browser.get(path)
            assert answer.status_code == 403 and "无权访问" in answer.text, path


@respx.mock
async def test_the_client_calls_delivery_as_the_lawyer_with_the_browser_forwarded() -> None:
    served = item("a-1").model_dump(mode="json")
    acknowledge = respx.post(f"{DELIVERY}/v1/firm/inbox/a-1/acknowledge").mock(return_value=httpx.Response(200, json=served))
    document = respx.get(f"{DELIVERY}/v1/firm/inbox/a-1/documents/1/download").mock(
        return_value=httpx.Response(200, content=b"%PDF", headers={"Content-Type": "application/pdf", "Content-Disposition": "attachment", "Set-Cookie": "x=1"})
    )
    lawyer = Principal(sub=FIRM, role=Role.lawyer, user="li")
    browser = Browser(ip="198.51.100.4", user_agent=SAFARI)
    async with httpx.AsyncClient() as http:
        client = InboxClient(service_api(http, "delivery", DELIVERY))
        assert (await client.acknowledge(lawyer, "a-1", browser=browser)).attempt_id == "a-1"
        file = await client.document(lawyer, "a-1", 1, download=True, browser=browser)
    sent = acknowledge.calls.last.request
    claims = jwt.decode(sent.headers["authorization"].removeprefix("Bearer "), SECRET, algorithms=["HS256"], issuer="songda")
    assert (claims["role"], claims["sub"], claims["usr"]) == ("lawyer", FIRM, "li")
    assert (sent.headers["x-forwarded-for"], sent.headers["user-agent"]) == ("198.51.100.4", SAFARI)
    assert document.calls.last.request.headers["x-forwarded-for"] == "198.51.100.4"
    assert file.content == b"%PDF" and file.headers == {"content-type": "application/pdf", "content-disposition": "attachment"}
