"""The holiday calendar as the console's processes read it: the years near today and where each comes from, and a supervisor's import of a year file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from services.console.deps import ConsoleDeps
from services.console.sessions import Visitor
from services.console.texts import FieldError
from shared.plumbing import audit, holidays, workdays
from shared.plumbing.clock import local_date

NO_FILE = FieldError("file", "请选择要导入的节假日安排文件（JSON）。")
NO_DIRECTORY = FieldError("file", "本服务未配置节假日目录（SONGDA_CALENDAR_DIR），无法导入。请联系运维人员。")


@dataclass(frozen=True)
class Overview:
    """Last, this and next year and every imported year, each with its source and counts; the watched years no calendar covers."""

    today: date
    years: list[workdays.Coverage]
    missing: list[int]


def today(deps: ConsoleDeps) -> date:
    """Returns today's date in Beijing on the console's clock."""
    return local_date(deps.clock.now())


def missing(deps: ConsoleDeps) -> list[int]:
    """Returns the years whose holidays must be known by now and are not (for the supervisor's banner)."""
    return workdays.missing_years(today(deps))


def overview(deps: ConsoleDeps) -> Overview:
    """Returns the years to show, oldest first, and the missing ones."""
    now = today(deps)
    shown = sorted({now.year - 1, now.year, now.year + 1, *workdays.imported()})
    return Overview(today=now, years=[workdays.coverage(year) for year in shown], missing=workdays.missing_years(now))


async def import_year(deps: ConsoleDeps, *, visitor: Visitor, raw: bytes | None) -> holidays.Year | list[FieldError]:
    """Checks a year file and writes it where every service reads the calendar, audited; what is wrong comes back in Chinese, field by field."""
    if raw is None:
        return [NO_FILE]
    target = workdays.directory()
    if target is None:
        return [NO_DIRECTORY]
    try:
        year = holidays.read_year(raw)
    except holidays.YearRefused as refused:
        return [FieldError("file", f"{flaw.field}：{flaw.text}" if flaw.field else flaw.text) for flaw in refused.flaws]
    holidays.save(target, year)
    workdays.refresh()
    async with deps.db.transaction() as session:
        audit.record(session, visitor.principal, action="console.calendar_import", target=f"calendar:{year.year}", now=deps.clock.now(), purpose=year.source[:200])
    return year
