"""Working days on the Chinese calendar: public holidays and make-up workdays (调休) included."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import chinese_calendar

from shared.plumbing.clock import SHANGHAI

# chinese_calendar carries each year once the State Council publishes its holiday notice (usually
# in November or December of the year before). Past that, only weekends and the fixed-date holidays
# of 全国年节及纪念日放假办法 Art. 2 are known; lunar-calendar holidays are not guessed.
# Since the 2024 amendment (in force 2025) 劳动节 is two days, May 1 and 2.
_FIXED_HOLIDAYS = {(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)}


def is_covered(day: date) -> bool:
    """Tells whether the published holiday calendar covers `day`'s year."""
    try:
        chinese_calendar.is_workday(day)
    except NotImplementedError:
        return False
    return True


def is_working_day(day: date) -> bool:
    """Tells whether courts work on `day`."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return day.weekday() < 5 and (day.month, day.day) not in _FIXED_HOLIDAYS


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
                return finish - left
            left -= available
        day, cursor = day - timedelta(days=1), time.max
