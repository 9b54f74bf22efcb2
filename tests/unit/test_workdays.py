"""Working days on the 2026 official calendar, on imported years and past both, and the three-working-day due date of a notice."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from services.intake.domain import DUE_WORKING_DAYS, due_date
from shared.plumbing import workdays
from shared.plumbing.clock import SHANGHAI
from shared.plumbing.holidays import read_year, save
from shared.plumbing.workdays import add_working_days, add_working_hours, is_covered, is_working_day, working_hours_before


def days(start: str, end: str) -> list[date]:
    first, last = date.fromisoformat(start), date.fromisoformat(end)
    return [first + timedelta(n) for n in range((last - first).days + 1)]


# 国务院办公厅关于2026年部分节假日安排的通知 (国办发明电〔2025〕7号).
HOLIDAYS_2026 = frozenset(
    days("2026-01-01", "2026-01-03")  # 元旦
    + days("2026-02-15", "2026-02-23")  # 春节
    + days("2026-04-04", "2026-04-06")  # 清明节
    + days("2026-05-01", "2026-05-05")  # 劳动节
    + days("2026-06-19", "2026-06-21")  # 端午节
    + days("2026-09-25", "2026-09-27")  # 中秋节
    + days("2026-10-01", "2026-10-07")  # 国庆节
)
MAKE_UP_WORKDAYS_2026 = frozenset(date.fromisoformat(d) for d in ("2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"))


def test_notice_make_up_days_are_weekends() -> None:
    # A sanity check of the table above: every make-up workday the notice lists is a Saturday or Sunday.
    assert all(day.weekday() >= 5 for day in MAKE_UP_WORKDAYS_2026)
    assert not HOLIDAYS_2026 & MAKE_UP_WORKDAYS_2026


def test_2026_calendar_matches_the_notice() -> None:
    mismatches = []
    for day in days("2026-01-01", "2026-12-31"):
        expected = day in MAKE_UP_WORKDAYS_2026 or (day.weekday() < 5 and day not in HOLIDAYS_2026)
        if is_working_day(day) != expected:
            mismatches.append(f"{day} ({day:%a}): expected {'working' if expected else 'rest'} day")
    assert not mismatches, "\n".join(mismatches)


@pytest.mark.parametrize(
    ("received", "due"),
    [
        ("2026-11-23", "2026-11-26"),  # Mon → Tue 24, Wed 25, Thu 26
        ("2026-11-21", "2026-11-25"),  # received on a Saturday → Mon 23, Tue 24, Wed 25
        ("2026-09-18", "2026-09-22"),  # Fri → make-up Sun 20, Mon 21, Tue 22
        ("2026-09-24", "2026-09-30"),  # Thu → 中秋 25–27, then Mon 28, Tue 29, Wed 30
        ("2026-09-30", "2026-10-10"),  # Wed → 国庆 Oct 1–7, then Thu 8, Fri 9, make-up Sat 10
        ("2026-10-03", "2026-10-10"),  # received on a holiday → Thu 8, Fri 9, make-up Sat 10
        ("2026-10-08", "2026-10-12"),  # Thu → Fri 9, make-up Sat 10, (Sun 11 rest) Mon 12
        ("2026-02-13", "2026-02-25"),  # Fri → make-up Sat 14, 春节 15–23, Tue 24, Wed 25
        ("2026-02-26", "2026-03-02"),  # Thu → Fri 27, make-up Sat 28, (Sun Mar 1 rest) Mon Mar 2
        ("2025-12-31", "2026-01-06"),  # Wed → 元旦 Jan 1–3, make-up Sun 4, Mon 5, Tue 6
        ("2026-04-03", "2026-04-09"),  # Fri → 清明 4–6, then Tue 7, Wed 8, Thu 9
        ("2026-04-30", "2026-05-08"),  # Thu → 劳动节 May 1–5, then Wed 6, Thu 7, Fri 8
        ("2026-05-07", "2026-05-11"),  # Thu → Fri 8, make-up Sat 9, (Sun 10 rest) Mon 11
        ("2026-06-18", "2026-06-24"),  # Thu → 端午 19–21, then Mon 22, Tue 23, Wed 24
        # Past the published calendar only weekends and the fixed-date holidays are known:
        ("2026-12-30", "2027-01-05"),  # Wed → Thu 31, (Fri Jan 1 元旦, weekend) Mon 4, Tue 5
    ],
)
def test_due_date_is_third_working_day(received: str, due: str) -> None:
    assert due_date(date.fromisoformat(received)) == date.fromisoformat(due)


def test_due_working_days_is_three() -> None:
    assert DUE_WORKING_DAYS == 3


@pytest.mark.parametrize("court_due", [date(2026, 11, 24), date(2026, 12, 31), date(2026, 10, 3)])
def test_court_due_date_used_as_given(court_due: date) -> None:
    assert due_date(date(2026, 11, 23), court_due=court_due) == court_due


@pytest.mark.parametrize(("day", "covered"), [(date(2026, 11, 23), True), (date(2026, 12, 31), True), (date(2027, 1, 5), False), (date(2098, 5, 2), False)])
def test_is_covered(day: date, covered: bool) -> None:
    assert is_covered(day) is covered


@pytest.mark.parametrize(
    ("day", "working"),
    [
        # 全国年节及纪念日放假办法 Art. 2 (as amended 2024): 元旦 Jan 1, 劳动节 May 1–2, 国庆节 Oct 1–3.
        # 2098 puts every one of them on a weekday.
        (date(2098, 1, 1), False),  # Wed
        (date(2098, 5, 1), False),  # Thu
        (date(2098, 5, 2), False),  # Fri
        (date(2098, 10, 1), False),  # Wed
        (date(2098, 10, 2), False),  # Thu
        (date(2098, 10, 3), False),  # Fri
        (date(2098, 1, 2), True),  # Thu
        (date(2098, 5, 5), True),  # Mon
        (date(2098, 1, 4), False),  # Sat
        (date(2098, 1, 5), False),  # Sun
        (date(2027, 1, 1), False),  # Fri
        (date(2027, 1, 4), True),  # Mon
    ],
)
def test_uncovered_years_use_weekends_and_fixed_holidays(day: date, working: bool) -> None:
    assert not is_covered(day)
    assert is_working_day(day) is working


def test_due_date_skips_both_labour_day_holidays_past_the_calendar() -> None:
    # Wed Apr 30 → (Thu May 1, Fri May 2 劳动节, weekend) Mon 5, Tue 6, Wed 7.
    assert due_date(date(2098, 4, 30)) == date(2098, 5, 7)


@pytest.mark.parametrize("start", [date(2026, 11, 23), date(2026, 11, 21), date(2026, 10, 1)])
def test_add_zero_working_days_returns_start(start: date) -> None:
    assert add_working_days(start, 0) == start


@pytest.mark.parametrize(
    ("start", "count", "expected"),
    [
        (date(2026, 11, 23), 1, date(2026, 11, 24)),
        (date(2026, 11, 20), 1, date(2026, 11, 23)),  # Fri → Mon
        (date(2026, 9, 30), 1, date(2026, 10, 8)),
        (date(2026, 11, 23), 10, date(2026, 12, 7)),  # two full weeks, no holiday
    ],
)
def test_add_working_days(start: date, count: int, expected: date) -> None:
    assert add_working_days(start, count) == expected


def test_negative_days_refused() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        add_working_days(date(2026, 11, 23), -1)


# An imported year (test data for 2098, not a schedule): 春节 29 Jan–4 Feb on weekdays, a make-up workday on Sunday 26 Jan.
IMPORTED_2098 = {
    "year": 2098,
    "source": "测试数据（虚构）",
    "holidays": [{"name": "元旦", "from": "2098-01-01", "to": "2098-01-01"}, {"name": "春节", "from": "2098-01-29", "to": "2098-02-04"}],
    "workdays": [{"date": "2098-01-26", "for": "春节"}],
}


@pytest.fixture
def calendar_dir(tmp_path: Path) -> Iterator[Path]:
    """Makes workdays read the year files of a fresh directory (looking at every call), and forgets it afterwards."""
    workdays.watch(tmp_path, every_s=0)
    yield tmp_path
    workdays.watch(None)


def imported(directory: Path, body: dict[str, object]) -> None:
    save(directory, read_year(json.dumps(body, ensure_ascii=False).encode("utf-8")))


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2098, 1, 26), True),  # Sunday, a make-up workday: counts
        (date(2098, 1, 25), False),  # Saturday, no make-up day
        (date(2098, 1, 29), False),  # Wednesday, 春节: does not count
        (date(2098, 2, 3), False),  # Monday, 春节
        (date(2098, 2, 5), True),  # Wednesday after the holiday
        (date(2098, 1, 1), False),  # Wednesday, 元旦
        (date(2098, 1, 2), True),  # Thursday
    ],
)
def test_an_imported_year_decides_working_days(calendar_dir: Path, day: date, working: bool) -> None:
    imported(calendar_dir, IMPORTED_2098)
    assert is_covered(day) and workdays.source_of(2098) == "imported"
    assert is_working_day(day) is working


def test_an_imported_year_comes_before_the_package(calendar_dir: Path) -> None:
    assert is_working_day(date(2026, 11, 23)) is True
    imported(calendar_dir, {"year": 2026, "source": "测试数据（虚构）", "holidays": [{"name": "测试假日", "from": "2026-11-23", "to": "2026-11-23"}], "workdays": []})
    assert (is_working_day(date(2026, 11, 23)), workdays.source_of(2026)) == (False, "imported")
    assert is_working_day(date(2026, 2, 16)) is True, "the imported year replaces the package's whole year"


def test_a_year_imported_later_is_used_without_a_restart(calendar_dir: Path) -> None:
    assert add_working_days(date(2098, 1, 28), 1) == date(2098, 1, 29)
    imported(calendar_dir, IMPORTED_2098)
    assert add_working_days(date(2098, 1, 28), 1) == date(2098, 2, 5)


@pytest.mark.parametrize(
    ("today", "watched"),
    [
        (date(2026, 3, 1), [2026]),
        (date(2026, 10, 31), [2026]),
        (date(2026, 11, 1), [2026, 2027]),  # the State Council's notice usually comes out in November
        (date(2026, 12, 31), [2026, 2027]),
        (date(2027, 1, 1), [2027]),
    ],
)
def test_watched_years(today: date, watched: list[int]) -> None:
    assert workdays.watched_years(today) == watched


def test_a_missing_year_is_warned_once_per_process(calendar_dir: Path) -> None:
    with capture_logs() as logs:
        first = workdays.missing_years(date(2026, 11, 23))
        again = workdays.missing_years(date(2026, 12, 1))
    assert first == again == [2027]
    assert [(entry["event"], entry["log_level"], entry["year"]) for entry in logs] == [("calendar.year_missing", "warning", 2027)]
    imported(calendar_dir, IMPORTED_2098 | {"year": 2027, "holidays": [{"name": "元旦", "from": "2027-01-01", "to": "2027-01-01"}], "workdays": []})
    assert workdays.missing_years(date(2026, 11, 23)) == []


def test_a_computation_across_an_uncovered_year_is_logged_with_what_it_computed(calendar_dir: Path) -> None:
    with capture_logs() as logs:
        add_working_days(date(2026, 11, 23), 3)
        due = add_working_days(date(2026, 12, 30), 3)
        add_working_days(date(2026, 12, 30), 3)  # the same computation again (a replay) is not logged twice
    assert due == date(2027, 1, 5)
    assert logs == [
        {
            "event": "calendar.uncovered_year_used",
            "log_level": "warning",
            "computed": "add_working_days",
            "years": [2027],
            "start": "2026-12-30",
            "days": "3",
            "result": "2027-01-05",
        }
    ]


def test_a_working_hours_window_into_an_uncovered_year_is_logged(calendar_dir: Path) -> None:
    start = datetime(2026, 12, 31, 8, 0, tzinfo=UTC)  # 16:00 in Beijing, an hour before the day ends
    with capture_logs() as logs:
        end = add_working_hours(start, 4, day_start=time(9), day_end=time(17))
        working_hours_before(end, 4, day_start=time(9), day_end=time(17))
    assert end.astimezone(SHANGHAI).date() == date(2027, 1, 4)
    assert [(entry["computed"], entry["years"]) for entry in logs] == [("add_working_hours", [2027]), ("working_hours_before", [2027])]
