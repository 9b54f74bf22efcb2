"""The dashboard over a fake of evidence answering the known history's figures: the query kept in the address and checked, the figures as cards and charts with their tables, a court held to its own court, and the CSV and monthly reports passed on."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import date
from html import unescape
from pathlib import Path

import pytest

from services.console.adapters.intake import Court
from services.console.dashboard import read
from shared.plumbing.clock import local_date
from tests import consoles, histories
from tests.consoles import Console, messages, signed_in, texts_of

A, B = histories.COURT, histories.OTHER_COURT


@pytest.fixture
async def console(tmp_path: Path) -> AsyncIterator[Console]:
    async with consoles.staffed(tmp_path, clerk_of=A) as built:
        built.intake.registry = [Court(id=A, name=histories.COURT_NAMES[A], active=True), Court(id=B, name=histories.COURT_NAMES[B], active=True)]
        built.evidence.figures = {None: consoles.kpi_answer(None, by="court"), A: consoles.kpi_answer(A), B: consoles.kpi_answer(B), "": consoles.kpi_answer("C000000")}
        yield built


def charts(html: str) -> dict[str, dict]:
    """Returns each chart's data as the page carries it for static/js/dashboard.js."""
    return {m[0]: json.loads(unescape(m[1])) for m in re.findall(r'id="(chart-[a-z]+)" data-chart="([^"]*)"', html)}


async def test_a_supervisor_sees_every_court_per_court_with_cards_charts_and_their_tables(console: Console) -> None:
    async with console.browser() as browser:
        await signed_in(browser, "boss")
        page = await browser.get("/dashboard", params={"from": "2026-11-01", "to": "2026-12-31", "by": "court"})
    assert page.status_code == 200
    assert console.evidence.asked == [("supervisor", {"from": "2026-11-01", "to": "2026-12-31", "by": "court"})]
    shown = texts_of(page.text)
    # The known history's figures, written the Chinese way: 7 of 8 served, 4 of 7 notices overdue, 740.41 元 over 7 notices.
    for expected in (
        "送达成功率 87.5%（7/8）",
        "超期送达文书率 57.1%（4/7）",
        "3个工作日内送达率 55.6%（5/9）",
        "首次尝试成功率 37.5%（3/8）",
        "每件文书费用 105.77元",
        "送达用时中位数 3天",
    ):
        assert expected in shown, expected
    drawn = charts(page.text)
    assert list(drawn) == ["chart-groups", "chart-tiers", "chart-methods", "chart-times", "chart-costs"]
    groups = drawn["chart-groups"]
    assert groups["categories"] == ["威海市环翠区人民法院", "荣成市人民法院"]
    assert [s["values"] for s in groups["series"]] == [[100.0, 66.7], [60.0, 50.0], [50.0, 66.7]]
    # The same numbers in the table beside the chart.
    assert "威海市环翠区人民法院 4 100%（5/5） 60%（3/5） 50%（2/4） 140.09元" in shown
    assert drawn["chart-methods"]["series"][0]["values"] == [1.0, 1.0, 1.0, 2.0, 1.0, 1.0]
    assert drawn["chart-times"]["series"][1]["values"][-2:] == [768.0, 744.0]
    assert 'href="/dashboard/kpis.csv?from=2026-11-01&amp;to=2026-12-31&amp;by=court"' in page.text
    assert "选择一个法院后可下载其月度考核报表" in shown and "/dashboard/monthly/" not in page.text
    assert '<script src="/static/vendor/echarts/5.6.0/echarts.min.js" defer></script>' in page.text


async def test_a_court_reads_its_own_court_whatever_it_asks(console: Console) -> None:
    async with console.browser() as browser:
        await signed_in(browser, "clerk")
        page = await browser.get("/dashboard", params={"court": B, "from": "2026-11-01", "to": "2026-11-30"})
        monthly = await browser.get(f"/dashboard/monthly/{A}/2026-11.pdf")
        theirs = await browser.get(f"/dashboard/monthly/{B}/2026-11.xlsx")
        exported = await browser.get("/dashboard/kpis.csv", params={"from": "2026-11-01", "to": "2026-11-30", "by": "agent"})
    assert page.status_code == 200 and 'name="court"' not in page.text
    assert console.evidence.asked[0] == ("court", {"court_id": A, "from": "2026-11-01", "to": "2026-11-30", "by": "week"})
    assert "送达成功率 100%（5/5）" in texts_of(page.text)
    assert f'href="/dashboard/monthly/{A}/2026-11.pdf"' in page.text and f'href="/dashboard/monthly/{A}/2026-11.xlsx"' in page.text
    assert (monthly.status_code, monthly.headers["content-type"]) == (200, "application/pdf")
    assert theirs.status_code == 404, "another court's report answers as missing"
    assert exported.status_code == 200 and exported.headers["content-disposition"] == 'attachment; filename="kpis.csv"'
    assert console.evidence.asked[-1] == ("court", {"path": "kpis.csv", "court_id": A, "from": "2026-11-01", "to": "2026-11-30", "by": "agent"})


async def test_this_month_per_week_by_default_and_wrong_answers_beside_their_fields(console: Console) -> None:
    async with console.browser() as browser:
        await signed_in(browser, "reader")
        default = await browser.get("/dashboard")
        wrong = await browser.get("/dashboard", params={"from": "2026-12-31", "to": "2026-12-01", "by": "month", "court": "c37"})
    assert default.status_code == 200
    today = local_date(console.deps.clock.now())
    assert console.evidence.asked == [("auditor", {"from": today.replace(day=1).isoformat(), "to": today.isoformat(), "by": "week"})]
    assert wrong.status_code == 422 and len(console.evidence.asked) == 1, "nothing is asked for a wrong query"
    assert messages(wrong.text) == ["法院编号为2至16位大写字母或数字，例如 C371002", "截止日期不能早于起始日期", "请从列表中选择分组方式"]


async def test_agents_have_no_dashboard(console: Console) -> None:
    async with console.browser() as browser:
        await signed_in(browser, "agent-1")
        assert (await browser.get("/dashboard")).status_code == 403
        assert (await browser.get(f"/dashboard/monthly/{A}/2026-11.pdf")).status_code == 403
    assert console.evidence.asked == []


def test_the_query_is_read_and_kept() -> None:
    query, errors = read({"from": "2026-11-30", "to": "2027-01-05", "by": "agent"}, today=date(2027, 1, 10), own_court=None)
    assert errors == [] and query.params() == {"from": "2026-11-30", "to": "2027-01-05", "by": "agent"}
    assert query.months == ["2026-11", "2026-12", "2027-01"]
    _, errors = read({"from": "soon"}, today=date(2027, 1, 10), own_court=None)
    assert [(e.field, e.message) for e in errors] == [("from", "请按“年-月-日”填写日期，例如 2026-11-23")]
