"""Contact hours, one row per case: when an SMS or a call may go out, and an attempt that comes up outside them waiting for the next window."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from services.delivery.domain.contact import next_contact
from services.delivery.domain.decision import Send
from services.delivery.domain.inputs import Tick
from services.delivery.domain.machine import apply
from services.delivery.domain.moves import start
from services.delivery.domain.state import AttemptStatus, wake_at
from services.delivery.policy import ContactHours, ContactWindow, load_policy
from shared.contracts.events import AttemptStarted, Channel
from shared.plumbing.clock import SHANGHAI
from shared.plumbing.workdays import add_working_hours
from tests.unit.test_delivery_domain import CASE, recipient

POLICY = load_policy()


def beijing(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("channel", "after", "expected"),
    [
        # SMS: 08:00–21:00 every day.
        (Channel.sms, beijing(11, 24, 4, 41), beijing(11, 24, 8)),
        (Channel.sms, beijing(11, 24, 8), beijing(11, 24, 8)),
        (Channel.sms, beijing(11, 24, 14, 5), beijing(11, 24, 14, 5)),
        (Channel.sms, beijing(11, 24, 21), beijing(11, 25, 8)),
        (Channel.sms, beijing(11, 28, 3), beijing(11, 28, 8)),  # a Saturday: SMS go out any day
        (Channel.sms, beijing(10, 1, 23, 30), beijing(10, 2, 8)),  # National Day too
        # Calls: 08:30–20:00 on working days of the calendar.
        (Channel.voice, beijing(11, 24, 4, 41), beijing(11, 24, 8, 30)),
        (Channel.voice, beijing(11, 24, 19, 59), beijing(11, 24, 19, 59)),
        (Channel.voice, beijing(11, 27, 20), beijing(11, 30, 8, 30)),  # Friday evening → Monday
        (Channel.voice, beijing(11, 28, 11), beijing(11, 30, 8, 30)),  # Saturday → Monday
        (Channel.voice, beijing(9, 30, 20, 30), beijing(10, 8, 8, 30)),  # over the National Day holiday
        (Channel.voice, beijing(10, 10, 8), beijing(10, 10, 8, 30)),  # a make-up Saturday (调休) is a working day
        # E-mail and a firm's mailbox wait for nobody.
        (Channel.email, beijing(11, 28, 3), beijing(11, 28, 3)),
        (Channel.lawyer_firm, beijing(11, 24, 23, 59), beijing(11, 24, 23, 59)),
    ],
)
def test_next_contact(channel: Channel, after: datetime, expected: datetime) -> None:
    assert next_contact(channel, after.astimezone(UTC), POLICY) == expected


def test_a_window_whose_start_is_its_end_is_the_whole_day() -> None:
    whole = ContactWindow(days="any", start=time(0), end=time(0))
    policy = POLICY.model_copy(update={"contact_hours": ContactHours(sms=whole, voice=whole)})
    for hour in (0, 4, 23):
        at = beijing(11, 28, hour, 59)
        assert next_contact(Channel.sms, at, policy) == at and next_contact(Channel.voice, at, policy) == at


def test_a_window_ending_before_it_starts_is_refused() -> None:
    with pytest.raises(ValueError, match="end must not be before its start"):
        ContactWindow(days="any", start=time(21), end=time(8))


def test_an_sms_due_at_night_waits_for_the_morning_and_its_arrival_wait_counts_from_then() -> None:
    night = beijing(11, 24, 4, 41).astimezone(UTC)
    decision = start(case=CASE, recipient=recipient(), now=night, policy=POLICY)
    attempt = decision.state.current
    assert attempt is not None and attempt.channel is Channel.sms
    assert (attempt.status, attempt.not_before) == (AttemptStatus.scheduled, beijing(11, 24, 8))
    assert not decision.actions and not any(isinstance(e, AttemptStarted) for e in decision.events)
    assert wake_at(decision.state) == beijing(11, 24, 8)
    # The sweeper looks before the window: nothing changes.
    early = apply(decision.state, Tick(), now=beijing(11, 24, 7, 59).astimezone(UTC), policy=POLICY)
    assert early.state == decision.state and not early.actions
    morning = beijing(11, 24, 8).astimezone(UTC)
    opened = apply(decision.state, Tick(), now=morning, policy=POLICY)
    [send] = [a for a in opened.actions if isinstance(a, Send)]
    [started] = [e for e in opened.events if isinstance(e, AttemptStarted)]
    assert send.channel is Channel.sms and started.started_at == morning
    hours = POLICY.working_hours
    assert started.due_at == add_working_hours(morning, POLICY.electronic.arrival_wait_hours, day_start=hours.start, day_end=hours.end)
