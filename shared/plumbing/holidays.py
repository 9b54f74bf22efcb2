"""The holiday calendar as data: a year file (one State Council notice as JSON), its checks, and the directory every service reads."""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import structlog

log = structlog.get_logger(__name__)

# A notice lists seven holidays and a handful of make-up days: a few kilobytes. Anything far bigger is not a year file.
MAX_BYTES = 64 * 1024
FIRST_YEAR, LAST_YEAR = 2000, 2100
MAX_NAME = 20
MAX_SOURCE = 200
KEYS = {"year", "source", "holidays", "workdays"}
HOLIDAY_KEYS = {"name", "from", "to"}
WORKDAY_KEYS = {"date", "for"}


@dataclass(frozen=True)
class Holiday:
    """A named holiday (春节) and its first and last days off."""

    name: str
    first: date
    last: date

    def days(self) -> list[date]:
        """Returns every day of the holiday."""
        return [self.first + timedelta(n) for n in range((self.last - self.first).days + 1)]


@dataclass(frozen=True)
class MakeUpDay:
    """A weekend day worked instead (调休上班), and the holiday it makes up for."""

    day: date
    holiday: str


def works(day: date, *, rest: frozenset[date], work: frozenset[date]) -> bool:
    """Tells whether courts work on `day` of a year whose days off are `rest` and make-up workdays (调休) `work`."""
    return day in work or (day.weekday() < 5 and day not in rest)


@dataclass(frozen=True)
class Year:
    """One year's holidays and make-up workdays, as the State Council's notice (its title in `source`) gives them."""

    year: int
    source: str
    holidays: tuple[Holiday, ...]
    workdays: tuple[MakeUpDay, ...]
    # Sets of the days, for is_working_day on the hot paths.
    rest: frozenset[date] = field(init=False, repr=False, compare=False)
    work: frozenset[date] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "rest", frozenset(day for h in self.holidays for day in h.days()))
        object.__setattr__(self, "work", frozenset(w.day for w in self.workdays))

    def is_working_day(self, day: date) -> bool:
        """Tells whether courts work on `day` of this year: a make-up day, or a weekday that is no holiday."""
        return works(day, rest=self.rest, work=self.work)

    def to_json(self) -> bytes:
        """Returns the year file: what read_year reads back to an equal Year."""
        body = {
            "year": self.year,
            "source": self.source,
            "holidays": [{"name": h.name, "from": h.first.isoformat(), "to": h.last.isoformat()} for h in self.holidays],
            "workdays": [{"date": w.day.isoformat(), "for": w.holiday} for w in self.workdays],
        }
        return (json.dumps(body, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


@dataclass(frozen=True)
class Flaw:
    """What is wrong with a year file: the field (`holidays[2].from`; empty for the file itself) and the problem in Chinese."""

    field: str
    text: str


class YearRefused(ValueError):
    """A year file that cannot be imported, with every flaw found."""

    def __init__(self, flaws: list[Flaw]) -> None:
        super().__init__("; ".join(f"{f.field or 'file'}: {f.text}" for f in flaws))
        self.flaws = flaws


def _name(value: Any, field: str, flaws: list[Flaw]) -> str:
    if not isinstance(value, str) or not value.strip():
        flaws.append(Flaw(field, "缺少名称（如“春节”）。"))
        return ""
    if len(value.strip()) > MAX_NAME:
        flaws.append(Flaw(field, f"名称过长（最多 {MAX_NAME} 个字）。"))
    return value.strip()


def _day(value: Any, field: str, year: int | None, flaws: list[Flaw]) -> date | None:
    try:
        day = date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else None
    except ValueError:
        day = None
    if day is None:
        flaws.append(Flaw(field, "日期格式应为 YYYY-MM-DD（如 2027-01-01），且须为真实存在的日期。"))
        return None
    if year is not None and day.year != year:
        flaws.append(Flaw(field, f"日期 {value} 不在 {year} 年内；跨年的假期请在各自年份的文件中分别列出。"))
        return None
    return day


def _keys(item: Any, allowed: set[str], field: str, flaws: list[Flaw]) -> bool:
    if not isinstance(item, dict):
        flaws.append(Flaw(field, f"应为一个对象，含 {'、'.join(sorted(allowed))}。"))
        return False
    for key in sorted(set(item) - allowed):
        flaws.append(Flaw(f"{field}.{key}", f"无法识别的字段“{key}”（可用：{'、'.join(sorted(allowed))}）。"))
    return True


def _holidays(items: Any, year: int | None, flaws: list[Flaw]) -> list[Holiday]:
    if not isinstance(items, list) or not items:
        flaws.append(Flaw("holidays", "应列出当年的节假日（至少一项）。"))
        return []
    found: list[Holiday] = []
    taken: dict[date, str] = {}
    for n, item in enumerate(items):
        field = f"holidays[{n}]"
        if not _keys(item, HOLIDAY_KEYS, field, flaws):
            continue
        name = _name(item.get("name"), f"{field}.name", flaws)
        first, last = _day(item.get("from"), f"{field}.from", year, flaws), _day(item.get("to"), f"{field}.to", year, flaws)
        if first is None or last is None or not name:
            continue
        if last < first:
            flaws.append(Flaw(f"{field}.to", f"结束日期 {last} 早于开始日期 {first}。"))
            continue
        holiday = Holiday(name=name, first=first, last=last)
        for day in holiday.days():
            if day in taken:
                flaws.append(Flaw(field, f"{day} 已属于“{taken[day]}”，同一天不能放两个假。"))
                break
            taken[day] = name
        found.append(holiday)
    return found


def _workdays(items: Any, year: int | None, holidays: list[Holiday], flaws: list[Flaw]) -> list[MakeUpDay]:
    if not isinstance(items, list):
        flaws.append(Flaw("workdays", "应为调休上班日的列表（没有调休时写 []）。"))
        return []
    names = {h.name for h in holidays}
    rest = {day: h.name for h in holidays for day in h.days()}
    found: list[MakeUpDay] = []
    seen: set[date] = set()
    for n, item in enumerate(items):
        field = f"workdays[{n}]"
        if not _keys(item, WORKDAY_KEYS, field, flaws):
            continue
        holiday = _name(item.get("for"), f"{field}.for", flaws)
        day = _day(item.get("date"), f"{field}.date", year, flaws)
        if day is None or not holiday:
            continue
        if holiday not in names:
            flaws.append(Flaw(f"{field}.for", f"“{holiday}”不是本文件所列的节假日（{'、'.join(sorted(names)) or '无'}）。"))
        if day in rest:
            flaws.append(Flaw(f"{field}.date", f"{day} 既是“{rest[day]}”的假日又是调休上班日，只能是其中之一。"))
        elif day.weekday() < 5:
            flaws.append(Flaw(f"{field}.date", f"{day} 是工作日（周{'一二三四五'[day.weekday()]}），调休上班日应为周六或周日。"))
        if day in seen:
            flaws.append(Flaw(f"{field}.date", f"{day} 重复列出。"))
        seen.add(day)
        found.append(MakeUpDay(day=day, holiday=holiday))
    return found


def _year(value: Any, flaws: list[Flaw]) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not FIRST_YEAR <= value <= LAST_YEAR:
        flaws.append(Flaw("year", f"年份应为 {FIRST_YEAR} 至 {LAST_YEAR} 之间的整数（如 2027）。"))
        return None
    return value


def read_year(raw: bytes) -> Year:
    """Reads and checks a year file; raises YearRefused naming every flaw (in Chinese) with its field."""
    if len(raw) > MAX_BYTES:
        raise YearRefused([Flaw("", f"文件过大（超过 {MAX_BYTES // 1024} KB），不是节假日安排文件。")])
    try:
        body = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise YearRefused([Flaw("", f"不是有效的 UTF-8 JSON 文件：{exc}")]) from None
    if not isinstance(body, dict):
        raise YearRefused([Flaw("", "文件应为一个 JSON 对象，含 year、source、holidays、workdays。")])
    flaws: list[Flaw] = [Flaw(key, f"无法识别的字段“{key}”（可用：{'、'.join(sorted(KEYS))}）。") for key in sorted(set(body) - KEYS)]
    year = _year(body.get("year"), flaws)
    source = body.get("source")
    if not isinstance(source, str) or not source.strip():
        flaws.append(Flaw("source", "应写明依据的通知（如“国务院办公厅关于2027年部分节假日安排的通知”及文号）。"))
    elif len(source) > MAX_SOURCE:
        flaws.append(Flaw("source", f"依据过长（最多 {MAX_SOURCE} 个字）。"))
    holidays = _holidays(body.get("holidays"), year, flaws)
    workdays = _workdays(body.get("workdays", []), year, holidays, flaws)
    if flaws or year is None or not isinstance(source, str):
        raise YearRefused(flaws)
    return Year(year=year, source=source.strip(), holidays=tuple(holidays), workdays=tuple(sorted(workdays, key=lambda w: w.day)))


def file_name(year: int) -> str:
    """Returns the name a year's file has in the calendar directory."""
    return f"{year}.json"


def save(directory: Path, year: Year) -> Path:
    """Writes the year's file into the directory atomically (a temporary file renamed over it), so that no reader sees half a file."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / file_name(year.year)
    fd, temp = tempfile.mkstemp(dir=directory, prefix=f".{year.year}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(year.to_json())
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, 0o644)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    # The rename is durable only once the directory itself is on disk.
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return target


Stamp = tuple[tuple[str, int, int], ...]


def _stamp(directory: Path) -> Stamp:
    try:
        entries = list(os.scandir(directory))
    except (FileNotFoundError, NotADirectoryError):
        return ()
    found = []
    for entry in entries:
        if entry.name.endswith(".json") and not entry.name.startswith("."):
            try:
                stat = entry.stat()
            except FileNotFoundError:
                continue
            found.append((entry.name, stat.st_mtime_ns, stat.st_size))
    return tuple(sorted(found))


def load(directory: Path) -> dict[int, Year]:
    """Reads every year file of the directory; a file that fails its checks is logged and left out, never half-used."""
    years: dict[int, Year] = {}
    for name, _, _ in _stamp(directory):
        path = directory / name
        try:
            year = read_year(path.read_bytes())
        except (OSError, YearRefused) as exc:
            log.error("calendar.file_refused", file=name, error=str(exc))
            continue
        if name != file_name(year.year):
            log.error("calendar.file_misnamed", file=name, year=year.year)
            continue
        years[year.year] = year
    return years


class Imported:
    """The directory's years, re-read when its files change; the check costs a directory listing at most every `every_s` seconds."""

    def __init__(self, directory: Path, *, every_s: float = 5.0, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.directory = directory
        self._every_s = every_s
        self._monotonic = monotonic
        self._stamp: Stamp | None = None
        self._years: Mapping[int, Year] = {}
        self._next = float("-inf")

    def years(self) -> Mapping[int, Year]:
        """Returns the imported years, read again first if the last look is older than `every_s` and the files changed."""
        now = self._monotonic()
        if now >= self._next:
            self._next = now + self._every_s
            self.refresh()
        return self._years

    def refresh(self) -> None:
        """Reads the directory again now if its files changed."""
        stamp = _stamp(self.directory)
        if stamp == self._stamp:
            return
        before = self._years
        self._years = load(self.directory)
        self._stamp = stamp
        for year in sorted(set(self._years) | set(before)):
            if year not in self._years:
                log.warning("calendar.year_removed", year=year)
            elif before.get(year) != self._years[year]:
                log.info("calendar.year_loaded", year=year, source=self._years[year].source, replaced=year in before)
