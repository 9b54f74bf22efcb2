"""The delivery deadline: early warning (预警) before it and overdue (超期送达) after it."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from services.delivery.policy import Policy
from shared.plumbing.clock import SHANGHAI, local_date
from shared.plumbing.workdays import end_of_working_day, working_hours_before


def warn_at(due: date, policy: Policy) -> datetime:
    """When to warn: `warn_hours_before` working hours before the due date's working day ends."""
    hours = policy.working_hours
    return working_hours_before(end_of_working_day(due, day_end=hours.end), policy.deadline.warn_hours_before, day_start=hours.start, day_end=hours.end)


def overdue_at(due: date) -> datetime:
    """A notice is overdue from midnight (Beijing time) after its due date."""
    return datetime.combine(due + timedelta(days=1), datetime.min.time(), SHANGHAI)


def alerts(due: date, *, now: datetime, policy: Policy, warned: bool, overdue: bool) -> tuple[bool, bool]:
    """Tells whether to raise the warning and the overdue alert now (each once)."""
    late = not overdue and now >= overdue_at(due)
    near = not warned and not late and now >= warn_at(due, policy)
    return near, late


# A warning comes `warn_hours_before` working hours early: within two weeks of its due date, even across a long holiday.
_WARN_SPAN_DAYS = 14


def last_due_dates(now: datetime, policy: Policy) -> tuple[date, date]:
    """Returns the latest due date whose overdue alert is due by `now`, and the latest whose warning is; every earlier due date's is due too, as both moments grow with the due date."""
    late_until = local_date(now) - timedelta(days=1)
    warn_until = late_until
    for offset in range(1, _WARN_SPAN_DAYS + 1):
        due = late_until + timedelta(days=offset)
        if now < warn_at(due, policy):
            break
        warn_until = due
    return late_until, warn_until
