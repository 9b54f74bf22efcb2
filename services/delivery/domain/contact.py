"""Contact hours: when a text message or a call may reach a party, and the next moment it may if not now."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from services.delivery.policy import ContactWindow, Policy
from shared.contracts.events import Channel
from shared.plumbing.clock import SHANGHAI
from shared.plumbing.workdays import is_working_day, note_uncovered

# A year of days is more than any run of holidays; a window that never opens is a policy error, not a wait.
_HORIZON_DAYS = 366


def _window(channel: Channel, policy: Policy) -> ContactWindow | None:
    """Returns the contact window of `channel`; None for a channel that waits for nobody (e-mail, a firm's mailbox)."""
    hours = policy.contact_hours
    return {Channel.sms: hours.sms, Channel.voice: hours.voice}.get(channel)


def _open_on(day: date, rule: ContactWindow) -> bool:
    return rule.days == "any" or is_working_day(day)


def next_contact(channel: Channel, after: datetime, policy: Policy) -> datetime:
    """Returns the first moment from `after` on when `channel` may reach a party: `after` itself inside its window."""
    rule = _window(channel, policy)
    if rule is None:
        return after
    local = after.astimezone(SHANGHAI)
    whole_day = rule.start == rule.end
    for offset in range(_HORIZON_DAYS):
        day = local.date() + timedelta(days=offset)
        if not _open_on(day, rule):
            continue
        opens = datetime.combine(day, rule.start, SHANGHAI)
        closes = datetime.combine(day + timedelta(days=1), rule.start, SHANGHAI) if whole_day else datetime.combine(day, rule.end, SHANGHAI)
        if local < closes:
            if rule.days != "any":
                note_uncovered(local.date(), day, "next_contact", channel=channel.value, after=after, result=max(local, opens))
            return max(local, opens).astimezone(UTC)
    raise ValueError(f"the {channel} contact window opens on no day within a year of {after.isoformat()}")
