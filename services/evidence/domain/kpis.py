"""The numbers courts are judged by, the one place each is defined: a fact per notice recipient folded from events, and the figures over a set of facts (docs/kpis.md).

Every rate is a fraction with its denominator stated, never a bare percentage, so a figure can be checked by
counting. The service date, method and basis a fact keeps are those of the last `delivery.RecipientServed`,
as the delivery report states them (domain/report.py).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from fractions import Fraction
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict

from shared.contracts.events import (
    AttemptFailed,
    AttemptStarted,
    AttemptSucceeded,
    Channel,
    NoticeCompleted,
    NoticeOverdue,
    NoticeRegistered,
    RecipientServed,
    RecipientUnserved,
    ServiceMethod,
    TaskAssigned,
    Tier,
)
from shared.contracts.registry import Event
from shared.plumbing.clock import SHANGHAI
from shared.plumbing.workdays import add_working_days

# The event types a fact is folded from; the consumer refreshes a notice's facts when one of these arrives.
READS = frozenset(
    cls.type for cls in (NoticeRegistered, AttemptStarted, AttemptSucceeded, AttemptFailed, TaskAssigned, RecipientServed, RecipientUnserved, NoticeCompleted, NoticeOverdue)
)

# The outsourcing manual's time KPI: documents delivered within three working days of receipt.
WORKING_DAYS = 3


class Item(StrEnum):
    """What an attempt is paid as: the price list of delivery's policy.toml `[prices]`."""

    sms = "sms"
    call = "call"
    email = "email"
    court_mail = "court_mail"
    visit = "visit"
    posting = "posting"
    public_notice = "public_notice"


ITEM: dict[Channel, Item] = {
    Channel.sms: Item.sms,
    Channel.voice: Item.call,
    Channel.email: Item.email,
    # A lawyer's firm is written to by e-mail.
    Channel.lawyer_firm: Item.email,
    Channel.court_mail: Item.court_mail,
    Channel.visit: Item.visit,
    Channel.posting: Item.posting,
    Channel.publication: Item.public_notice,
}


class Grouping(StrEnum):
    """How figures are split: per court, per agent, per ISO week of receipt."""

    court = "court"
    agent = "agent"
    week = "week"


class AttemptFact(BaseModel):
    """One attempt as the KPIs count it: its rung and channel, when it began, what it cost, how it ended and whose task it was."""

    model_config = ConfigDict(frozen=True)

    attempt_id: str
    tier: Tier
    channel: Channel
    started_at: AwareDatetime
    cost_fen: int | None = None
    result: Literal["open", "succeeded", "failed"] = "open"
    agent_id: str | None = None


class RecipientFact(BaseModel):
    """What the KPIs know of one recipient of one notice, folded from the notice's events."""

    model_config = ConfigDict(frozen=True)

    notice_id: str
    recipient_id: str
    court_id: str
    court_name: str = ""
    received_at: AwareDatetime
    due_date: date
    attempts: list[AttemptFact] = []
    method: ServiceMethod | None = None
    service_date: date | None = None
    served_at: AwareDatetime | None = None
    deemed: bool | None = None
    deciding_attempt_id: str | None = None
    unserved_at: AwareDatetime | None = None
    notice_completed_at: AwareDatetime | None = None
    notice_overdue: bool = False

    @property
    def received_on(self) -> date:
        """The day the court handed the notice over, in Beijing."""
        return self.received_at.astimezone(SHANGHAI).date()

    @property
    def served(self) -> bool:
        """Tells whether a RecipientServed stands for the recipient (actually or deemed)."""
        return self.method is not None

    @property
    def settled(self) -> bool:
        """Served, or every method short of a public notice failed: the recipient's outcome is known."""
        return self.served or self.unserved_at is not None

    @property
    def agent_id(self) -> str | None:
        """The agent the recipient counts for: the one whose task decided it, else the last one given a task for it, else none."""
        deciding = next((a for a in self.attempts if a.attempt_id == self.deciding_attempt_id and a.agent_id), None)
        if deciding is not None:
            return deciding.agent_id
        return next((a.agent_id for a in reversed(self.attempts) if a.agent_id), None)


# The fold.


def fold(events: Iterable[Event]) -> list[RecipientFact]:
    """Returns a fact per recipient of the notice the events are about (in log order); none before its NoticeRegistered is among them."""
    facts: dict[str, RecipientFact] = {}
    later: list[Event] = []
    for event in events:
        if isinstance(event, NoticeRegistered):
            facts = {r.recipient_id: _registered(event, r.recipient_id) for r in event.recipients}
        else:
            later.append(event)
    for event in later:
        facts = {key: advance(fact, event) for key, fact in facts.items()}
    return list(facts.values())


def _registered(event: NoticeRegistered, recipient_id: str) -> RecipientFact:
    return RecipientFact(
        notice_id=event.notice_id, recipient_id=recipient_id, court_id=event.court_id, court_name=event.court_name, received_at=event.registered_at, due_date=event.due_date
    )


def advance(fact: RecipientFact, event: Event) -> RecipientFact:
    """Returns the fact after one event of its notice; an event about another recipient leaves it as it is."""
    if isinstance(event, (NoticeCompleted, NoticeOverdue)):
        return _notice(fact, event)
    if getattr(event, "recipient_id", None) != fact.recipient_id:
        return fact
    match event:
        case AttemptStarted():
            if any(a.attempt_id == event.attempt_id for a in fact.attempts):
                return fact
            started = AttemptFact(attempt_id=event.attempt_id, tier=event.tier, channel=event.channel, started_at=event.started_at, cost_fen=event.cost_fen)
            return fact.model_copy(update={"attempts": [*fact.attempts, started]})
        case AttemptSucceeded() | AttemptFailed():
            result = "succeeded" if isinstance(event, AttemptSucceeded) else "failed"
            return _attempt(fact, event.attempt_id, result=result)
        case TaskAssigned():
            return _attempt(fact, event.attempt_id, agent_id=event.agent_id)
        case RecipientServed():
            # The last one counts, as in the report.
            update = {"served_at": event.served_at, "deciding_attempt_id": event.attempt_id}
            return fact.model_copy(update={"method": event.method, "service_date": event.service_date, "deemed": event.deemed, **update})
        case RecipientUnserved():
            return fact.model_copy(update={"unserved_at": event.at})
    return fact


def _attempt(fact: RecipientFact, attempt_id: str, **update: object) -> RecipientFact:
    attempts = [a.model_copy(update=update) if a.attempt_id == attempt_id else a for a in fact.attempts]
    return fact.model_copy(update={"attempts": attempts})


def _notice(fact: RecipientFact, event: NoticeCompleted | NoticeOverdue) -> RecipientFact:
    if isinstance(event, NoticeOverdue):
        return fact.model_copy(update={"notice_overdue": True})
    # Delivery's word on the deadline, the same the report's `overdue` states.
    return fact.model_copy(update={"notice_completed_at": event.completed_at, "notice_overdue": fact.notice_overdue or event.overdue})


# The figures.


@dataclass(frozen=True)
class Rate:
    """A share: how many of how many."""

    numerator: int
    denominator: int

    @property
    def value(self) -> Fraction | None:
        """The share as an exact fraction; None over nothing."""
        return Fraction(self.numerator, self.denominator) if self.denominator else None


@dataclass(frozen=True)
class Durations:
    """How long something took over a set of cases: how many, the median and the 90th percentile."""

    count: int
    median: timedelta | None
    p90: timedelta | None


@dataclass(frozen=True)
class Figures:
    """Every KPI over one set of facts (docs/kpis.md gives each formula and denominator)."""

    notices: int
    recipients: int
    settled: int
    served: int
    open: int
    success: Rate
    success_by_tier: dict[Tier, Rate]
    success_by_method: dict[ServiceMethod, Rate]
    time_to_serve: Durations
    time_to_serve_by_method: dict[ServiceMethod, Durations]
    within_working_days: Rate
    overdue: Rate
    first_attempt: Rate
    electronic: Rate
    cost_fen: int
    cost_by_item_fen: dict[Item, int]
    uncosted_attempts: int
    cost_per_notice_fen: Fraction | None = field(default=None)
    cost_per_notice_by_item_fen: dict[Item, Fraction] = field(default_factory=dict)


def figures(facts: Sequence[RecipientFact], *, as_of: datetime) -> Figures:
    """Computes every KPI over the facts as known at `as_of` (which decides only whose three working days are over)."""
    settled = [f for f in facts if f.settled]
    served = [f for f in facts if f.served]
    notices = {f.notice_id for f in facts}
    items = {item: sum(a.cost_fen or 0 for f in facts for a in f.attempts if ITEM[a.channel] is item) for item in Item}
    cost = sum(items.values())
    return Figures(
        notices=len(notices),
        recipients=len(facts),
        settled=len(settled),
        served=len(served),
        open=len(facts) - len(settled),
        success=Rate(len(served), len(settled)),
        success_by_tier=_by_tier(settled),
        success_by_method={m: Rate(sum(f.method is m for f in served), len(settled)) for m in ServiceMethod},
        time_to_serve=_durations([_time_to_serve(f) for f in served]),
        time_to_serve_by_method={m: _durations([_time_to_serve(f) for f in served if f.method is m]) for m in ServiceMethod},
        within_working_days=_within(facts, as_of=as_of),
        overdue=_overdue(facts),
        first_attempt=Rate(sum(bool(f.attempts) and f.deciding_attempt_id == f.attempts[0].attempt_id for f in served), len(settled)),
        electronic=Rate(sum(f.method is ServiceMethod.electronic for f in served), len(served)),
        cost_fen=cost,
        cost_by_item_fen=items,
        uncosted_attempts=sum(a.cost_fen is None for f in facts for a in f.attempts),
        cost_per_notice_fen=Fraction(cost, len(notices)) if notices else None,
        cost_per_notice_by_item_fen={item: Fraction(total, len(notices)) for item, total in items.items()} if notices else {},
    )


def _by_tier(settled: Sequence[RecipientFact]) -> dict[Tier, Rate]:
    """Of the settled recipients who reached a rung (had an attempt on it), how many were served by an attempt on that rung."""
    rates = {}
    for tier in Tier:
        reached = [f for f in settled if any(a.tier is tier for a in f.attempts)]
        won = [f for f in reached if any(a.tier is tier and a.attempt_id == f.deciding_attempt_id for a in f.attempts)]
        rates[tier] = Rate(len(won), len(reached))
    return rates


def _time_to_serve(fact: RecipientFact) -> timedelta:
    """From the court's handing over (registered_at) to the moment the service stood (served_at), as the report shows both."""
    assert fact.served_at is not None
    return fact.served_at - fact.received_at


def deadline(fact: RecipientFact) -> date:
    """The last day a recipient counts as served in time: the third working day after receipt (receipt day not counted, CPL 85)."""
    return add_working_days(fact.received_on, WORKING_DAYS)


def in_time(fact: RecipientFact) -> bool:
    """Tells whether the service stood (served_at, in Beijing) by the third working day after receipt."""
    return fact.served_at is not None and fact.served_at.astimezone(SHANGHAI).date() <= deadline(fact)


def _within(facts: Sequence[RecipientFact], *, as_of: datetime) -> Rate:
    """Served in time, of the recipients whose outcome is known or whose three working days are over by `as_of`."""
    today = as_of.astimezone(SHANGHAI).date()
    counted = [f for f in facts if f.settled or today > deadline(f)]
    return Rate(sum(in_time(f) for f in counted), len(counted))


def _overdue(facts: Sequence[RecipientFact]) -> Rate:
    """超期送达文书率: notices delivery found overdue, of the notices completed or found overdue (a notice still running in time is not counted yet)."""
    decided: dict[str, bool] = {}
    for f in facts:
        if f.notice_completed_at is not None or f.notice_overdue:
            decided[f.notice_id] = decided.get(f.notice_id, False) or f.notice_overdue
    return Rate(sum(decided.values()), len(decided))


def _durations(values: list[timedelta]) -> Durations:
    """Median (the middle value, or the mean of the two middle ones) and the 90th percentile by nearest rank (the ⌈0.9·n⌉-th smallest)."""
    if not values:
        return Durations(count=0, median=None, p90=None)
    ordered = sorted(values)
    n = len(ordered)
    middle = ordered[n // 2] if n % 2 else (ordered[n // 2 - 1] + ordered[n // 2]) / 2
    return Durations(count=n, median=middle, p90=ordered[math.ceil(0.9 * n) - 1])


# Choosing and grouping.


def week_of(day: date) -> str:
    """The ISO week a day falls in, as 2026-W48."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def key_of(fact: RecipientFact, by: Grouping) -> str:
    """The group a fact falls in: its court, its agent ("" when no agent had a task for it) or the ISO week it was received in."""
    if by is Grouping.court:
        return fact.court_id
    if by is Grouping.agent:
        return fact.agent_id or ""
    return week_of(fact.received_on)


def received_between(facts: Iterable[RecipientFact], *, start: date | None, end: date | None) -> list[RecipientFact]:
    """Returns the facts of notices received (Beijing date) from `start` to `end`, both included."""
    return [f for f in facts if (start is None or f.received_on >= start) and (end is None or f.received_on <= end)]


def grouped(facts: Sequence[RecipientFact], by: Grouping, *, as_of: datetime) -> list[tuple[str, Figures]]:
    """Returns the figures of each group, in the order of their keys."""
    groups: dict[str, list[RecipientFact]] = {}
    for fact in facts:
        groups.setdefault(key_of(fact, by), []).append(fact)
    return [(key, figures(groups[key], as_of=as_of)) for key in sorted(groups)]
