"""Year files of the holiday calendar: their checks, the atomic write, and the directory read again when it changes."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from shared.plumbing import holidays, workdays
from shared.plumbing.holidays import Flaw, Imported, YearRefused, read_year, save

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "calendar-2026.example.json"


def year_file(**changes: Any) -> dict[str, Any]:
    """Returns a valid year file for 2098, a year no notice will cover for decades (test data, not a schedule)."""
    body: dict[str, Any] = {
        "year": 2098,
        "source": "测试数据（虚构）",
        "holidays": [{"name": "元旦", "from": "2098-01-01", "to": "2098-01-03"}, {"name": "春节", "from": "2098-01-29", "to": "2098-02-04"}],
        "workdays": [{"date": "2098-01-26", "for": "春节"}],
    }
    return body | changes


def raw(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


def flaws_of(body: Any) -> list[tuple[str, str]]:
    with pytest.raises(YearRefused) as refused:
        read_year(raw(body) if not isinstance(body, bytes) else body)
    return [(flaw.field, flaw.text) for flaw in refused.value.flaws]


def test_a_valid_file_reads_to_its_days() -> None:
    year = read_year(raw(year_file()))
    assert (year.year, year.source, [h.name for h in year.holidays]) == (2098, "测试数据（虚构）", ["元旦", "春节"])
    assert len(year.rest) == 10 and year.work == {date(2098, 1, 26)}
    assert read_year(year.to_json()) == year


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        (b"\xff\xfe not utf-8", "", "UTF-8 JSON"),
        (b"{", "", "UTF-8 JSON"),
        ([], "", "JSON 对象"),
        (year_file(year="2098"), "year", "整数"),
        (year_file(year=True), "year", "整数"),
        (year_file(year=1999), "year", "2000 至 2100"),
        (year_file(source=""), "source", "依据的通知"),
        (year_file(extra=1), "extra", "无法识别的字段"),
        (year_file(holidays=[]), "holidays", "至少一项"),
        (year_file(holidays=["元旦"]), "holidays[0]", "应为一个对象"),
        (year_file(holidays=[{"name": "", "from": "2098-01-01", "to": "2098-01-01"}]), "holidays[0].name", "缺少名称"),
        (year_file(holidays=[{"name": "元旦节假期加长版名称超过二十个字的情形测试", "from": "2098-01-01", "to": "2098-01-01"}], workdays=[]), "holidays[0].name", "名称过长"),
        (year_file(holidays=[{"name": "元旦", "from": "2098-1-1", "to": "2098-01-01"}], workdays=[]), "holidays[0].from", "YYYY-MM-DD"),
        (year_file(holidays=[{"name": "元旦", "from": "2098-02-30", "to": "2098-03-01"}], workdays=[]), "holidays[0].from", "真实存在的日期"),
        (year_file(holidays=[{"name": "元旦", "from": "2097-12-31", "to": "2098-01-01"}], workdays=[]), "holidays[0].from", "不在 2098 年内"),
        (year_file(holidays=[{"name": "元旦", "from": "2098-01-03", "to": "2098-01-01"}], workdays=[]), "holidays[0].to", "早于开始日期"),
        (year_file(holidays=[{"name": "元旦", "from": "2098-01-01", "to": "2098-01-01", "days": 1}], workdays=[]), "holidays[0].days", "无法识别的字段"),
        (
            year_file(holidays=[{"name": "元旦", "from": "2098-01-01", "to": "2098-01-03"}, {"name": "春节", "from": "2098-01-03", "to": "2098-01-05"}], workdays=[]),
            "holidays[1]",
            "已属于“元旦”",
        ),
        (year_file(workdays=None), "workdays", "没有调休时写 []"),
        (year_file(workdays=[{"date": "2098-01-30", "for": "春节"}]), "workdays[0].date", "既是“春节”的假日又是调休上班日"),
        (year_file(workdays=[{"date": "2098-01-27", "for": "春节"}]), "workdays[0].date", "调休上班日应为周六或周日"),
        (year_file(workdays=[{"date": "2098-01-26", "for": "端午节"}]), "workdays[0].for", "不是本文件所列的节假日"),
        (year_file(workdays=[{"date": "2099-01-03", "for": "春节"}]), "workdays[0].date", "不在 2098 年内"),
        (year_file(workdays=[{"date": "2098-01-26", "for": "春节"}, {"date": "2098-01-26", "for": "春节"}]), "workdays[1].date", "重复列出"),
        (year_file(workdays=[{"date": "2098-01-26"}]), "workdays[0].for", "缺少名称"),
    ],
)
def test_a_flawed_file_is_refused_naming_the_field_and_the_problem(body: Any, field: str, says: str) -> None:
    found = flaws_of(body)
    assert any(f == field and says in text for f, text in found), found


def test_every_flaw_is_named_at_once() -> None:
    body = year_file(year=2098, source="", workdays=[{"date": "2098-01-27", "for": "端午节"}])
    assert [field for field, _ in flaws_of(body)] == ["source", "workdays[0].for", "workdays[0].date"]


def test_a_huge_file_is_refused_before_it_is_parsed() -> None:
    assert flaws_of(b" " * (holidays.MAX_BYTES + 1)) == [("", "文件过大（超过 64 KB），不是节假日安排文件。")]


def test_the_example_file_is_the_2026_notice_as_the_package_has_it() -> None:
    year = read_year(EXAMPLE.read_bytes())
    assert "示例" in year.source
    day, wrong = date(2026, 1, 1), []
    while day.year == 2026:
        if year.is_working_day(day) != workdays.is_working_day(day):
            wrong.append(str(day))
        day += timedelta(days=1)
    assert wrong == []


def test_save_writes_the_file_whole_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    year = read_year(raw(year_file()))
    target = save(tmp_path / "calendar", year)
    assert target == tmp_path / "calendar" / "2098.json"
    assert read_year(target.read_bytes()) == year
    assert sorted(p.name for p in target.parent.iterdir()) == ["2098.json"]


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_directory_is_read_again_when_it_changes_at_most_every_few_seconds(tmp_path: Path) -> None:
    ticks = Ticks()
    imported = Imported(tmp_path, every_s=5.0, monotonic=ticks)
    assert imported.years() == {}
    save(tmp_path, read_year(raw(year_file())))
    ticks.now = 4.9
    assert imported.years() == {}, "looked again before the interval passed"
    ticks.now = 5.0
    with capture_logs() as logs:
        assert list(imported.years()) == [2098]
        ticks.now = 10.0
        assert list(imported.years()) == [2098], "nothing changed: nothing read, nothing logged"
        save(tmp_path, read_year(raw(year_file(source="测试数据（虚构，更正）"))))
        ticks.now = 15.0
        assert imported.years()[2098].source == "测试数据（虚构，更正）"
        (tmp_path / "2098.json").unlink()
        ticks.now = 20.0
        assert imported.years() == {}
    assert [(e["event"], e.get("replaced")) for e in logs] == [("calendar.year_loaded", False), ("calendar.year_loaded", True), ("calendar.year_removed", None)]


def test_a_bad_or_misnamed_file_in_the_directory_is_left_out_and_logged(tmp_path: Path) -> None:
    save(tmp_path, read_year(raw(year_file())))
    (tmp_path / "2099.json").write_text("{", encoding="utf-8")
    (tmp_path / "2097.json").write_bytes(raw(year_file()))
    with capture_logs() as logs:
        years = holidays.load(tmp_path)
    assert list(years) == [2098]
    assert sorted((entry["event"], entry["file"]) for entry in logs) == [("calendar.file_misnamed", "2097.json"), ("calendar.file_refused", "2099.json")]


def test_a_refusal_reads_as_its_flaws() -> None:
    assert str(YearRefused([Flaw("year", "年份有误。"), Flaw("", "文件有误。")])) == "year: 年份有误。; file: 文件有误。"
