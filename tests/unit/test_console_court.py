"""The courts' notice pages over fakes of intake, delivery and evidence: the list of a court's own, a notice's page with progress, documents, evidence, reports and timeline, and the files it links, each refused to whoever may not see it."""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from services.console.adapters.evidence import Item, TimelineEntry
from services.console.adapters.intake import Court
from shared.contracts import events, labels, registry
from shared.plumbing.auth import Role
from shared.plumbing.documents import SANDBOX_CSP
from tests import consoles
from tests.consoles import NOW, Console, signed_in, texts_of

PDF, PDF_SHA = consoles.SAMPLE_PDF, consoles.SAMPLE_SHA
PHOTO = b"\xff\xd8\xff\xe0 a photo at the door"


def entry(position: int, event_type: str, hours: int) -> TimelineEntry:
    at = NOW - timedelta(days=2) + timedelta(hours=hours)
    return TimelineEntry(position=position, event_type=event_type, source="songda/delivery", event_time=at, recorded_at=at, sha256=f"{position:064x}")


@pytest.fixture
async def console(tmp_path: Path) -> AsyncIterator[Console]:
    async with consoles.staffed(tmp_path, clerk_of="C371002") as built:
        await built.add("rongcheng", Role.court, scope="C371082")
        await built.add("counsel", Role.lawyer, scope="91370000MA3C5X2L4X")
        built.intake.registry = [Court(id="C371002", name="威海市环翠区人民法院", active=True), Court(id="C371082", name="荣成市人民法院", active=True)]
        built.intake.notices = {"n-1": consoles.registered(), "n-9": consoles.registered("n-9", "C371082", case_number="（2026）鲁1082民初9号", documents=[])}
        built.intake.documents[PDF_SHA] = ("C371002", PDF, "application/pdf")
        built.notices.rows = [consoles.notice("n-1"), consoles.notice("n-9", court_id="C371082", case_number="（2026）鲁1082民初9号")]
        built.notices.states = {"n-1": consoles.delivery_state(), "n-9": consoles.delivery_state("n-9", "C371082")}
        built.evidence.notices = {"n-1": "C371002", "n-9": "C371082"}
        built.evidence.timelines["n-1"] = [
            entry(1, "intake.NoticeRegistered", 0),
            entry(2, "delivery.AttemptStarted", 1),
            entry(3, "delivery.AttemptFailed", 20),
            entry(4, "delivery.TaskAssigned", 21),
            entry(5, "delivery.SomethingNew", 22),
        ]
        photo = Item(id="ev-1", notice_id="n-1", recipient_id="r-1", kind="photo", scene="visit", content_type="image/jpeg", flags=["far_from_address"], recorded_at=NOW)
        call = Item(id="ev-2", notice_id="n-1", recipient_id="r-1", kind="call_record", scene=None, content_type="application/json", flags=[], recorded_at=NOW)
        other = Item(id="ev-9", notice_id="n-9", recipient_id="r-9", kind="photo", scene="visit", content_type="image/jpeg", flags=[], recorded_at=NOW)
        built.evidence.listed = {"n-1": [(photo, PHOTO), (call, b'{"minutes": 2}')], "n-9": [(other, PHOTO)]}
        built.evidence.reports = {"n-1": ("C371002", [b"%PDF-1.7 version 1", b"%PDF-1.7 version 2"]), "n-9": ("C371082", [b"%PDF-1.7 theirs"])}
        yield built


async def test_a_court_lands_on_its_own_notices_without_a_court_to_choose(console: Console) -> None:
    console.notices.rows = [consoles.notice("n-1")]
    async with console.browser() as browser:
        landed = await consoles.sign_in(browser, "clerk")
        page = await browser.get("/notices", params={"court": "C371082", "status": "in_progress"})
    assert landed.headers["location"] == "/notices"
    assert page.status_code == 200 and console.notices.asked == [{"status": "in_progress"}], "a court's own notices: no other court asked for"
    assert 'name="court"' not in page.text and ">法院</th>" not in page.text and "<h1>本院通知</h1>" in page.text
    assert '<a href="/notices/n-1">（2026）鲁1002民初1234号</a>' in page.text and 'href="/notices/new"' in page.text
    assert re.findall(r'class="nav__link" href="([^"]+)"', page.text) == ["/notices", "/notices/new", "/notices/batch", "/dashboard"]


async def test_the_notice_page_shows_progress_documents_evidence_reports_and_the_timeline_in_chinese(console: Console) -> None:
    async with console.browser() as browser:
        await signed_in(browser, "clerk")
        page = await browser.get("/notices/n-1")
    text = texts_of(page.text)
    assert page.status_code == 200 and "<h1>（2026）鲁1002民初1234号</h1>" in page.text
    for shown in ("威海市环翠区人民法院", "案由民间借贷纠纷", "审级一审", "应完成日期2026年12月1日", "状态 送达中 预警", "法院内部编号HC-2026-1"):
        assert shown in text, shown
    zhang = text[text.index("张三（被告）") : text.index("李四（原告）")]
    assert "当前送达方式直接送达" in zhang and "第1次 电子送达 · 短信 未成功 2026年11月21日 09:00 2026年11月22日 09:00" in zhang
    assert "第2次 直接送达 · 上门 进行中 2026年11月23日 09:00 —" in zhang
    assert "送达日期2026年11月23日（电子送达）" in text[text.index("李四（原告）") :]
    assert f'href="/notices/n-1/documents/{PDF_SHA}">查看' in page.text and f'href="/notices/n-1/documents/{PDF_SHA}?download=true">下载' in page.text
    assert "传票（传票，1页） （未附文件）" in text and PDF_SHA in text
    assert '<img class="exhibit__photo" src="/evidence/ev-1/thumbnail"' in page.text and 'href="/evidence/ev-2">下载通话记录' in page.text
    assert "拍摄地点距地址较远" in text and "请在门口重新拍摄" not in text, "the court reads what was found, not the agent's instruction"
    versions = re.findall(r'href="/notices/n-1/report(\.html)?\?version=(\d)"', page.text)
    assert versions == [("", "2"), (".html", "2"), ("", "1"), (".html", "1")] and "第2版" in text and "最新" in text
    timeline = re.findall(r'<li class="timeline__entry">.*?</time> ([^<]+)</li>', page.text)
    assert timeline == ["法院提交送达通知，受理登记", "开始一次送达", "一次送达未成功", "派出上门送达或张贴任务", "delivery.SomethingNew"]


async def test_a_notice_the_other_services_have_not_heard_of_yet_is_shown_as_registered(console: Console) -> None:
    console.notices.states.clear()
    console.evidence.notices.pop("n-1")
    console.evidence.reports.pop("n-1")
    async with console.browser() as browser:
        await signed_in(browser, "clerk")
        page = await browser.get("/notices/n-1")
    text = texts_of(page.text)
    assert page.status_code == 200 and "已受理，等待安排送达" in text and "送达服务正在受理此通知" in text and "张三（被告）" in text
    assert "尚无证据" in text and "全部受送达人送达完毕后出具送达报告" in text and "尚无记录" in text


async def test_without_report_versions_a_completed_notice_offers_its_newest_report(console: Console) -> None:
    console.evidence.versioned = False
    console.notices.states["n-1"] = consoles.delivery_state(status="completed", completed_at=NOW)
    async with console.browser() as browser:
        await signed_in(browser, "clerk")
        page = await browser.get("/notices/n-1")
        newest = await browser.get("/notices/n-1/report")
    assert 'href="/notices/n-1/report">PDF' in page.text and 'href="/notices/n-1/report.html">网页版' in page.text and "?version=" not in page.text
    assert newest.content == b"%PDF-1.7 version 2"


async def test_each_report_version_opens_as_pdf_and_as_a_sandboxed_page(console: Console) -> None:
    async with console.browser() as browser:
        await signed_in(browser, "clerk")
        first = await browser.get("/notices/n-1/report", params={"version": 1})
        page = await browser.get("/notices/n-1/report.html", params={"version": 2})
        missing = await browser.get("/notices/n-1/report", params={"version": 3})
        nonsense = await browser.get("/notices/n-1/report", params={"version": 0})
    assert (first.status_code, first.headers["content-type"], first.content) == (200, "application/pdf", b"%PDF-1.7 version 1")
    assert first.headers["content-disposition"] == 'inline; filename="report-n-1-v1.pdf"'
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html") and b"version 2" in page.content
    assert "sandbox" in page.headers["content-security-policy"] and "script-src" not in page.headers["content-security-policy"]
    assert (missing.status_code, nonsense.status_code) == (404, 404)


async def test_a_document_opens_in_the_browser_or_downloads_and_only_if_the_notice_names_it(console: Console) -> None:
    stray = hashlib.sha256(b"%PDF-1.7 not of this notice").hexdigest()
    console.intake.documents[stray] = ("C371002", b"%PDF-1.7 not of this notice", "application/pdf")
    async with console.browser() as browser:
        await signed_in(browser, "clerk")
        shown = await browser.get(f"/notices/n-1/documents/{PDF_SHA}")
        saved = await browser.get(f"/notices/n-1/documents/{PDF_SHA}", params={"download": "true"})
        unnamed = await browser.get(f"/notices/n-1/documents/{stray}")
        bad = await browser.get("/notices/n-1/documents/..%2f..%2fetc")
    assert (shown.status_code, shown.content, shown.headers["content-type"]) == (200, PDF, "application/pdf")
    assert shown.headers["content-disposition"] == "inline; filename=\"document.pdf\"; filename*=UTF-8''%E8%B5%B7%E8%AF%89%E7%8A%B6%E5%89%AF%E6%9C%AC.pdf"
    # Chromium's PDF viewer shows a PDF under the sandbox (docs/architecture.md), so an inline one keeps it too.
    assert saved.headers["content-disposition"].startswith("attachment;") and shown.headers["content-security-policy"] == saved.headers["content-security-policy"] == SANDBOX_CSP
    assert shown.headers["cache-control"] == "private, no-store" and (unnamed.status_code, bad.status_code) == (404, 404)


async def test_a_thumbnail_comes_from_evidence_for_a_picture_the_person_reaches(console: Console) -> None:
    async with console.browser() as browser:
        await signed_in(browser, "clerk")
        thumb = await browser.get("/evidence/ev-1/thumbnail")
        original = await browser.get("/evidence/ev-1")
        no_picture = await browser.get("/evidence/ev-2/thumbnail")
        theirs = await browser.get("/evidence/ev-9/thumbnail")
    assert (thumb.status_code, thumb.headers["content-type"], thumb.content) == (200, "image/jpeg", b"thumbnail:" + PHOTO)
    assert thumb.headers["x-content-type-options"] == "nosniff" and original.content == PHOTO
    assert (no_picture.status_code, theirs.status_code) == (404, 404)


async def test_another_courts_notice_and_its_files_answer_as_missing(console: Console) -> None:
    paths = ("/notices/n-9", "/notices/n-9/report", "/notices/n-9/report.html", "/evidence/ev-9/thumbnail", "/evidence/ev-9", "/notices/nobody")
    async with console.browser() as browser:
        await signed_in(browser, "clerk")
        answers = [await browser.get(path) for path in paths]
    assert [a.status_code for a in answers] == [404] * len(paths)
    assert "找不到页面" in answers[0].text and "（2026）鲁1082民初9号" not in answers[0].text


async def test_the_overseers_open_any_courts_notice_and_agents_and_lawyers_are_refused(console: Console) -> None:
    opened = {}
    for username in ("boss", "reader", "agent-1", "counsel"):
        async with console.browser() as browser:
            await signed_in(browser, username)
            opened[username] = [(await browser.get(path)).status_code for path in ("/notices/n-9", "/evidence/ev-9/thumbnail", f"/notices/n-1/documents/{PDF_SHA}")]
    assert opened == {"boss": [200, 200, 200], "reader": [200, 200, 200], "agent-1": [403, 403, 403], "counsel": [403, 403, 403]}


async def test_a_court_is_welcomed_with_what_it_can_do(console: Console) -> None:
    async with console.browser() as browser:
        await signed_in(browser, "clerk")
        page = await browser.get("/welcome")
    assert "本院通知" in texts_of(page.text) and "即将上线" not in page.text


def test_every_event_a_timeline_can_hold_has_a_chinese_name() -> None:
    assert events.NoticeRegistered.type in registry.registered(), "the contracts' events are registered once imported"
    contracts = {name for name, cls in registry.registered().items() if cls.__module__ == events.__name__}
    assert set(labels.EVENT) == contracts, "a new event type needs its line in shared/contracts/labels.py EVENT"
    assert labels.event("delivery.NoticeOverdue") == "已超过送达期限（超期）" and labels.event("x.Unknown") == "x.Unknown"
