"""Working days on the Chinese calendar: public holidays and make-up workdays (调休) included."""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar

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
