"""The notice list over fakes of delivery and intake: a filter kept in the address and passed through, rows with where each notice stands, and pages by cursor."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from services.console.adapters.calls import ServiceRefused
from services.console.adapters.intake import Court
from services.console.notice_filter import read
from tests import consoles
from tests.consoles import WINDOW_START, Console, messages, signed_in, texts_of

FILTER = {
    "case_number": "民初1234",
    "party": "张",
    "status": "in_progress",
    "court": "C371002",
    "agent": "agent-1",
    "due_from": "2026-11-01",
    "due_to": "2026-12-31",
    "overdue": "no",
    "warning": "yes",
}


@pytest.fixture
async def console(tmp_path: Path) -> AsyncIterator[Console]:
    async with consoles.staffed(tmp_path, clerk_of="C371002") as built:
        built.oversight.hire("agent-1", "环翠组一")
        built.oversight.hire("agent-2", "环翠组二")
        built.intake.registry = [Court(id="C371002", name="威海市环翠区人民法院", active=True), Court(id="C371082", name="荣成市人民法院", active=True)]
        built.notices.rows = [
            consoles.notice("n-1"),
            consoles.notice(
                "n-2",
                court_id="C371082",
                case_number="（2026）鲁1082民初77号",
                status="completed",
                due_date=date(2026, 11, 20),
                warned_at=WINDOW_START,
                overdue_at=WINDOW_START + timedelta(days=1),
                completed_at=WINDOW_START + timedelta(days=2),
                recipients=[{"recipient_id": "r-3", "name": "某某有限公司", "status": "served"}],
                agents=[],
            ),
        ]
        yield built


async def test_the_list_shows_each_notice_where_it_stands_with_its_recipients_and_agents(console: Console) -> None:
    async with console.browser() as browser:
        await signed_in(browser, "boss")
        page = await browser.get("/notices")
    rows = [texts_of(row) for row in re.findall(r"<tr class=\"[^\"]*\">(.*?)</tr>", page.text, flags=re.S)]
    assert page.status_code == 200 and len(rows) == 2
    assert rows[0].split() == ["（2026）鲁1082民初77号", "荣成市人民法院", "2026年11月20日", "已完成", "超期", "送达报告（PDF）", "某某有限公司（已送达）", "—"], (
        "the earliest due first"
    )
    assert rows[1].split() == [
        "（2026）鲁1002民初1234号",
        "威海市环翠区人民法院",
        "2026年12月1日",
        "送达中",
        "预警",
        "张三（送达进行中）",
        "李四（照片存疑，待送达主管审核）",
        "环翠组一",
    ]
    assert 'class="row--overdue"' in page.text and 'class="row--warning"' in page.text and console.notices.asked == [{}]
    assert "下一页" not in page.text and "清除筛选" not in page.text


async def test_the_filter_is_sent_as_asked_and_kept_in_the_form(console: Console) -> None:
    async with console.browser() as browser:
        await signed_in(browser, "boss")
        page = await browser.get("/notices", params=FILTER)
    assert page.status_code == 200 and console.notices.asked == [FILTER | {"overdue": "false", "warning": "true"}]
    assert 'name="case_number" type="text" value="民初1234"' in page.text and 'name="due_to" type="date" value="2026-12-31"' in page.text
    selected = dict(re.findall(r'<select class="input" id="(\w+)"[^>]*>.*?<option value="([^"]*)" selected>', page.text, flags=re.S))
    assert selected == {"status": "in_progress", "court": "C371002", "agent": "agent-1", "overdue": "no", "warning": "yes"}
    assert 'href="/notices">清除筛选' in page.text and '<form method="get" action="/notices"' in page.text


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        ({"status": "lost"}, ["请从列表中选择状态"]),
        ({"court": "c37"}, ["法院编号为2至16位大写字母或数字，例如 C371002"]),
        ({"agent": "王"}, ["请从列表中选择送达员"]),
        ({"due_from": "11月1日"}, ["请按“年-月-日”填写日期，例如 2026-11-23"]),
        ({"due_from": "2026-12-01", "due_to": "2026-11-01"}, ["截止日期不能早于起始日期"]),
        ({"overdue": "maybe", "warning": "1"}, ["请从列表中选择", "请从列表中选择"]),
    ],
)
async def test_a_wrong_filter_is_named_beside_its_field_and_not_sent(console: Console, query: dict[str, str], shown: list[str]) -> None:
    async with console.browser() as browser:
        await signed_in(browser, "boss")
        page = await browser.get("/notices", params=query)
    assert page.status_code == 422 and messages(page.text) == shown and "请修改以下问题" in page.text
    assert console.notices.asked == [] and "<table" not in page.text


async def test_delivery_refusing_the_filter_or_the_cursor_is_said_in_chinese(console: Console) -> None:
    async with console.browser() as browser:
        await signed_in(browser, "boss")
        console.notices.refusal = ServiceRefused(422, {"errors": [{"field": "party", "message": "String should have at most 100 characters"}]})
        long = await browser.get("/notices", params={"party": "张"})
        console.notices.refusal = ServiceRefused(422, {"errors": [{"field": "cursor", "message": "is not a cursor this list handed out"}]})
        stale = await browser.get("/notices", params={"cursor": "forged"})
    assert long.status_code == 422 and messages(long.text) == ["当事人过长"]
    assert stale.status_code == 422 and "分页链接已失效，请从第一页查看" in texts_of(stale.text)


async def test_the_next_page_keeps_the_filter_and_its_cursor(console: Console) -> None:
    console.notices.page_size = 1
    console.notices.rows.append(consoles.notice("n-3", case_number="（2026）鲁1002民初9号", due_date=date(2026, 12, 9)))
    async with console.browser() as browser:
        await signed_in(browser, "boss")
        first = await browser.get("/notices", params={"court": "C371002"})
        following = re.search(r'<a class="button button--secondary" href="([^"]+)" rel="next">下一页 ›</a>', first.text)
        assert following, "a next page"
        link = following.group(1).replace("&amp;", "&")
        second = await browser.get(link)
    assert parse_qs(urlsplit(link).query) == {"court": ["C371002"], "cursor": ["1"]}
    assert "（2026）鲁1002民初1234号" in first.text and "（2026）鲁1002民初9号" in second.text and "1234号" not in second.text
    assert 'href="/notices?court=C371002">‹ 第一页' in second.text and "下一页" not in second.text
    assert console.notices.asked == [{"court": "C371002"}, {"court": "C371002", "cursor": "1"}]


async def test_without_intake_the_courts_are_shown_and_asked_for_by_their_ids(console: Console) -> None:
    console.intake.down = True
    async with console.browser() as browser:
        await signed_in(browser, "boss")
        page = await browser.get("/notices", params={"court": "C371082"})
    assert page.status_code == 200 and "C371082" in texts_of(page.text) and 'name="court" type="text" value="C371082"' in page.text


async def test_an_auditor_reads_the_list_and_an_agent_is_refused(console: Console) -> None:
    async with console.browser() as browser:
        await signed_in(browser, "reader")
        read_by_auditor = await browser.get("/notices")
    async with console.browser() as browser:
        await signed_in(browser, "agent-1")
        refused = await browser.get("/notices")
    assert read_by_auditor.status_code == 200 and "环翠组一" in read_by_auditor.text and refused.status_code == 403
    assert console.notices.asked == [{}]


async def test_a_served_notice_links_its_report_which_opens_as_pdf_for_those_evidence_shows_it_to(console: Console) -> None:
    console.evidence.reports["n-2"] = ("C371082", [b"%PDF-1.7 report of n-2"])
    async with console.browser() as browser:
        await signed_in(browser, "boss")
        listed = await browser.get("/notices")
        opened = await browser.get("/notices/n-2/report")
        missing = await browser.get("/notices/n-1/report")
    assert listed.text.count('/report"') == 1 and 'href="/notices/n-2/report"' in listed.text, "only the completed notice links its report"
    assert (opened.status_code, opened.headers["content-type"], opened.content) == (200, "application/pdf", b"%PDF-1.7 report of n-2")
    assert opened.headers["content-disposition"].startswith("inline") and missing.status_code == 404
    answers = []
    for username in ("clerk", "agent-1"):
        async with console.browser() as browser:
            await signed_in(browser, username)
            answers.append((await browser.get("/notices/n-2/report")).status_code)
    assert answers == [404, 403], "another court's report answers as missing; an agent reaches no reports"


def test_the_filter_reads_the_query_tidily_and_links_back_to_itself() -> None:
    wanted, errors = read({"party": "  张  三 ", "status": "", "overdue": "yes", "unknown": "x", "cursor": "abc"})
    assert errors == [] and wanted.values == {"party": "张 三", "overdue": "yes"} and wanted.narrowed
    assert wanted.params() == {"party": "张 三", "overdue": "true", "cursor": "abc"}
    assert wanted.link("/notices") == "/notices?party=%E5%BC%A0+%E4%B8%89&overdue=yes" and wanted.link("/x", cursor="n") == "/x?party=%E5%BC%A0+%E4%B8%89&overdue=yes&cursor=n"
    assert read({})[0].link("/notices") == "/notices" and read({"cursor": "a/b"})[1][0].message == "分页链接已失效，请从第一页查看"
