"""The holiday calendar page (years, sources, the missing ones in red, the upload of a year file) and the supervisor's banner on the board."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from shared.plumbing import workdays
from tests import consoles
from tests.consoles import NOW, Console, messages, signed_in, texts_of
from tests.support import Clock

BANNER = "2027年节假日安排尚未导入，工作日按周末及固定节日推算，可能把调休/春节等假日算作工作日。"


def year_file(**changes: Any) -> bytes:
    """Returns a year file for 2027 made up for the test (not the State Council's schedule, which is not out yet)."""
    body: dict[str, Any] = {
        "year": 2027,
        "source": "测试数据（虚构）",
        "holidays": [{"name": "元旦", "from": "2027-01-01", "to": "2027-01-03"}, {"name": "春节", "from": "2027-02-06", "to": "2027-02-12"}],
        "workdays": [{"date": "2027-02-13", "for": "春节"}],
    }
    return json.dumps(body | changes, ensure_ascii=False).encode("utf-8")


@pytest.fixture
async def console(tmp_path: Path) -> AsyncIterator[Console]:
    """A staffed console on 23 November 2026 (next year is watched from November on), reading the calendar from a fresh directory."""
    workdays.watch(tmp_path / "calendar", every_s=0)
    async with consoles.staffed(tmp_path, clerk_of="C371002") as built:
        object.__setattr__(built.deps, "clock", Clock(NOW))
        yield built
    workdays.watch(None)


def rows(html: str) -> dict[str, str]:
    """Returns each year's row of the table as text, by year."""
    return {year: texts_of(row).strip() for year, row in re.findall(r'<tr class="[^"]*" id="year-(\d+)">(.*?)</tr>', html, re.S)}


async def test_the_board_warns_the_supervisor_of_a_missing_year_and_links_the_calendar_page(console: Console) -> None:
    async with console.browser() as browser:
        token = await signed_in(browser, "boss")
        board = await browser.get("/board")
        assert board.status_code == 200
        assert BANNER in texts_of(board.text)
        assert re.search(r'class="warning calendar-banner" role="alert">.*<a href="/calendar">', board.text, re.S)
        imported = await browser.post("/calendar", data={"csrf_token": token}, files={"file": ("2027.json", year_file(), "application/json")})
        assert imported.status_code == 303
        assert "尚未导入" not in texts_of((await browser.get("/board")).text)


async def test_the_page_shows_each_year_its_source_and_counts_and_the_missing_one_in_red(console: Console) -> None:
    async with console.browser() as browser:
        await signed_in(browser, "boss")
        page = await browser.get("/calendar")
    assert page.status_code == 200
    assert rows(page.text) == {
        "2025": "2025年 程序内置（chinese_calendar） 28 天 5 天 chinese_calendar",
        "2026": "2026年 程序内置（chinese_calendar） 33 天 6 天 chinese_calendar",
        "2027": "2027年 未导入（按周末及固定节日推算） — — —",
    }
    assert '<tr class="row--missing" id="year-2027">' in page.text
    assert "缺少 2027 年的节假日安排" in texts_of(page.text)
    assert 'action="/calendar" enctype="multipart/form-data"' in page.text


async def test_an_auditor_reads_the_page_without_the_form_and_others_are_refused(console: Console) -> None:
    answers = {}
    for username in ("reader", "agent-1", "clerk"):
        async with console.browser() as browser:
            await signed_in(browser, username)
            answers[username] = await browser.get("/calendar")
    assert {name: page.status_code for name, page in answers.items()} == {"reader": 200, "agent-1": 403, "clerk": 403}
    assert "2027年" in answers["reader"].text and 'action="/calendar"' not in answers["reader"].text
    async with console.browser() as browser:
        token = await signed_in(browser, "reader")
        refused = await browser.post("/calendar", data={"csrf_token": token}, files={"file": ("2027.json", year_file(), "application/json")})
    assert refused.status_code == 403 and workdays.imported() == {}


async def test_a_supervisor_imports_a_year_which_every_reader_uses_at_once_and_the_audit_log_keeps(console: Console) -> None:
    async with console.browser() as browser:
        token = await signed_in(browser, "boss")
        imported = await browser.post("/calendar", data={"csrf_token": token}, files={"file": ("2027.json", year_file(), "application/json")})
        assert (imported.status_code, imported.headers["location"]) == (303, "/calendar?imported=2027")
        page = await browser.get(imported.headers["location"])
    assert "已导入 2027 年节假日安排，各服务数秒内生效，无需重启。" in texts_of(page.text)
    assert rows(page.text)["2027"] == "2027年 已导入 10 天 1 天 测试数据（虚构）"
    assert "缺少" not in texts_of(page.text)
    assert workdays.source_of(2027) == "imported" and not workdays.is_working_day(date(2027, 2, 8))
    assert [(e.actor_sub, e.target, e.purpose) for e in await console.audit("console.calendar_import")] == [("boss", "calendar:2027", "测试数据（虚构）")]


@pytest.mark.parametrize(
    ("upload", "said"),
    [
        (None, "请选择要导入的节假日安排文件（JSON）。"),
        (b"{", "不是有效的 UTF-8 JSON 文件"),
        (year_file(year=2027, workdays=[{"date": "2027-01-04", "for": "元旦"}]), "workdays[0].date：2027-01-04 是工作日（周一），调休上班日应为周六或周日。"),
        (year_file(workdays=[{"date": "2027-02-07", "for": "春节"}]), "workdays[0].date：2027-02-07 既是“春节”的假日又是调休上班日，只能是其中之一。"),
        (year_file(holidays=[{"name": "元旦", "from": "2026-12-31", "to": "2027-01-01"}], workdays=[]), "holidays[0].from：日期 2026-12-31 不在 2027 年内"),
        (year_file(holidays=[{"name": "", "from": "2027-01-01", "to": "2027-01-01"}], workdays=[]), "holidays[0].name：缺少名称（如“春节”）。"),
    ],
)
async def test_a_flawed_file_is_refused_in_chinese_beside_the_field_and_nothing_is_written(console: Console, upload: bytes | None, said: str) -> None:
    async with console.browser() as browser:
        token = await signed_in(browser, "boss")
        files = {"file": ("2027.json", upload, "application/json")} if upload is not None else {"file": ("", b"", "application/octet-stream")}
        refused = await browser.post("/calendar", data={"csrf_token": token}, files=files)
    assert refused.status_code == 422
    assert any(said in message for message in messages(refused.text)), messages(refused.text)
    assert 'href="#file"' in refused.text
    assert workdays.imported() == {} and not (workdays.directory() or Path("/nonexistent")).joinpath("2027.json").exists()


async def test_an_upload_without_the_form_token_or_far_too_large_is_refused(console: Console) -> None:
    async with console.browser() as browser:
        token = await signed_in(browser, "boss")
        forged = await browser.post("/calendar", files={"file": ("2027.json", year_file(), "application/json")})
        huge = await browser.post("/calendar", data={"csrf_token": token}, files={"file": ("2027.json", b" " * (200 * 1024), "application/json")})
    assert (forged.status_code, huge.status_code) == (403, 413)
    assert workdays.imported() == {}
