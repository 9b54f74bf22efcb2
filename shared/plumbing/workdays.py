"""Working days on the Chinese calendar: public holidays and make-up workdays (调休) included."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import chinese_calendar
import structlog

from shared.plumbing.clock import SHANGHAI
from shared.plumbing.holidays import Imported, Year, works

log = structlog.get_logger(__name__)

# chinese_calendar carries each year once the State Council publishes its holiday notice (usually
# in November or December of the year before). Past that, only weekends and the fixed-date holidays
# of 全国年节及纪念日放假办法 Art. 2 are known; lunar-calendar holidays are not guessed.
# Since the 2024 amendment (in force 2025) 劳动节 is two days, May 1 and 2.
_FIXED_HOLIDAYS = {(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)}


# The State Council publishes next year's notice in November or December; before November there is nothing an
# operator could import, so next year counts as missing only from November 1 (Beijing time) on.
NEXT_YEAR_WATCHED_FROM = (11, 1)
# How many computations across an uncovered year are remembered so that each is logged once, not on every replay.
_LOGGED_LIMIT = 4096

_imported: Imported | None = None
_package_years: dict[int, tuple[frozenset[date], frozenset[date]] | None] = {}
_warned_years: set[int] = set()
_logged: set[tuple[object, ...]] = set()


def watch(directory: Path | None, *, every_s: float = 5.0) -> None:
    """Makes the imported year files of `directory` (songda calendar import) count before the package; None forgets them."""
    global _imported
    _imported = Imported(directory, every_s=every_s) if directory is not None else None
    # Another calendar: what was warned or logged about the last one no longer holds.
    _warned_years.clear()
    _logged.clear()


def imported() -> Mapping[int, Year]:
    """Returns the imported years now in force."""
    return _imported.years() if _imported is not None else {}


def directory() -> Path | None:
    """Returns the directory of the imported year files this process reads, if any."""
    return _imported.directory if _imported is not None else None


def refresh() -> None:
    """Reads the imported year files again now (after an import in this process), not at the next look."""
    if _imported is not None:
        _imported.refresh()


def _package_days(year: int) -> tuple[frozenset[date], frozenset[date]] | None:
    """Returns the package's rest days and make-up workdays of `year`, or None past its data.

    Read once per year into sets: the package's own is_workday scans all its years on every call (some 16 µs).
    """
    if year not in _package_years:
        known = chinese_calendar.holidays.keys() | chinese_calendar.workdays.keys()
        covered = min(known).year <= year <= max(known).year
        _package_years[year] = (
            (frozenset(d for d in chinese_calendar.holidays if d.year == year), frozenset(d for d in chinese_calendar.workdays if d.year == year)) if covered else None
        )
    return _package_years[year]


def _in_package(year: int) -> bool:
    return _package_days(year) is not None


def source_of(year: int) -> str | None:
    """Returns where `year`'s holidays come from: "imported", "package", or None when only weekends and fixed dates are known."""
    if year in imported():
        return "imported"
    return "package" if _in_package(year) else None


@dataclass(frozen=True)
class Coverage:
    """Where a year's holidays come from and how many days off and make-up workdays (调休) it has."""

    year: int
    source: str | None
    rest_days: int
    make_up_days: int
    notice: str


def coverage(year: int) -> Coverage:
    """Returns where `year`'s holidays come from ("imported", "package" or None) and its counts of days off and make-up days."""
    loaded = imported().get(year)
    if loaded is not None:
        return Coverage(year=year, source="imported", rest_days=len(loaded.rest), make_up_days=len(loaded.work), notice=loaded.source)
    package = _package_days(year)
    if package is not None:
        rest, work = package
        return Coverage(year=year, source="package", rest_days=len(rest), make_up_days=sum(1 for day in work if day.weekday() >= 5), notice="chinese_calendar")
    return Coverage(year=year, source=None, rest_days=0, make_up_days=0, notice="")


def is_covered(day: date) -> bool:
    """Tells whether a published holiday calendar (imported or the package's) covers `day`'s year."""
    return source_of(day.year) is not None


def is_working_day(day: date) -> bool:
    """Tells whether courts work on `day`: an imported year first, then the package, then weekends and fixed holidays."""
    year = _imported.years().get(day.year) if _imported is not None else None
    if year is not None:
        return year.is_working_day(day)
    package = _package_days(day.year)
    if package is not None:
        rest, work = package
        return works(day, rest=rest, work=work)
    return day.weekday() < 5 and (day.month, day.day) not in _FIXED_HOLIDAYS


def watched_years(today: date) -> list[int]:
    """Returns the years whose holidays must be known by `today`: this year, and next year from November 1 on."""
    return [today.year, today.year + 1] if (today.month, today.day) >= NEXT_YEAR_WATCHED_FROM else [today.year]


def missing_years(today: date) -> list[int]:
    """Returns the watched years no published calendar covers; warns in the log once per process for each."""
    missing = [year for year in watched_years(today) if source_of(year) is None]
    for year in missing:
        if year not in _warned_years:
            _warned_years.add(year)
            log.warning("calendar.year_missing", year=year, fallback="weekends and fixed-date holidays", hint="songda calendar import FILE")
    return missing


def note_uncovered(first: date, last: date, what: str, **computed: object) -> None:
    """Logs a computation that reached a year no published calendar covers (dates and amounts only: no personal data)."""
    years = [year for year in range(min(first, last).year, max(first, last).year + 1) if source_of(year) is None]
    if not years:
        return
    key = (what, *sorted(computed.items()))
    if key in _logged:
        return
    if len(_logged) >= _LOGGED_LIMIT:
        _logged.clear()
    _logged.add(key)
    # The result may count a lunar holiday or a 调休 rest day as a working day: say so where it was computed.
    log.warning("calendar.uncovered_year_used", computed=what, years=years, **{k: str(v) for k, v in computed.items()})


def add_working_days(start: date, days: int) -> date:
    """Returns the `days`-th working day after `start`; `start` itself is not counted (CPL 85)."""
    if days < 0:
        raise ValueError("days must not be negative")
    day = start
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if is_working_day(day):
            counted += 1
    note_uncovered(start, day, "add_working_days", start=start, days=days, result=day)
    return day


def _at(day: date, moment: time) -> datetime:
    return datetime.combine(day, moment, SHANGHAI).astimezone(UTC)


def add_working_hours(start: datetime, hours: float, *, day_start: time, day_end: time) -> datetime:
    """Returns the instant `hours` of working time after `start`, counting only working days between day_start and day_end (Beijing time)."""
    if hours < 0:
        raise ValueError("hours must not be negative")
    if day_end <= day_start:
        raise ValueError("the working day must end after it starts")
    left = timedelta(hours=hours)
    local = start.astimezone(SHANGHAI)
    day, cursor = local.date(), local.time().replace(tzinfo=None)
    while True:
        if is_working_day(day) and cursor < day_end:
            begin = _at(day, max(cursor, day_start))
            available = _at(day, day_end) - begin
            if left <= available:
                note_uncovered(local.date(), day, "add_working_hours", start=start, hours=hours, result=begin + left)
                return begin + left
            left -= available
        day, cursor = day + timedelta(days=1), time.min


def end_of_working_day(day: date, *, day_end: time) -> datetime:
    """Returns the instant the working day `day` closes (Beijing time), as UTC."""
    return _at(day, day_end)


def working_hours_before(end: datetime, hours: float, *, day_start: time, day_end: time) -> datetime:
    """Returns the instant `hours` of working time before `end` (the mirror of add_working_hours)."""
    if hours < 0:
        raise ValueError("hours must not be negative")
    left = timedelta(hours=hours)
    local = end.astimezone(SHANGHAI)
    day, cursor = local.date(), local.time().replace(tzinfo=None)
    while True:
        if is_working_day(day) and cursor > day_start:
            finish = _at(day, min(cursor, day_end))
            available = finish - _at(day, day_start)
            if left <= available:
                note_uncovered(day, local.date(), "working_hours_before", end=end, hours=hours, result=finish - left)
                return finish - left
            left -= available
        day, cursor = day - timedelta(days=1), time.max
