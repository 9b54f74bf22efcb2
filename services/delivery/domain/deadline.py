"""The delivery deadline: early warning (预警) before it and overdue (超期送达) after it."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from services.delivery.policy import Policy
from shared.plumbing.clock import SHANGHAI
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
