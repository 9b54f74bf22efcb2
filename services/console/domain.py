"""The console's rules, pure: when a username locks, when a session ends, where each role lands, how Today groups an agent's work and the board the team's."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Generic, Protocol, TypeVar

from shared.plumbing.clock import SHANGHAI


@dataclass(frozen=True)
class SignInPolicy:
    """How many failures in a row lock a username and for how long; how long a session lives idle and at most."""

    attempts: int = 5
    lockout: timedelta = timedelta(minutes=15)
    idle: timedelta = timedelta(minutes=30)
    lifetime: timedelta = timedelta(hours=12)


def is_locked(locked_until: datetime | None, *, now: datetime) -> bool:
    """Tells whether a username is locked now."""
    return locked_until is not None and now < locked_until


def after_failure(failed_attempts: int, *, now: datetime, policy: SignInPolicy) -> tuple[int, datetime | None]:
    """Returns the failures counted and the end of a lock after one more failure: the last allowed one locks and starts the count anew."""
    failed = failed_attempts + 1
    if failed >= policy.attempts:
        return 0, now + policy.lockout
    return failed, None


def session_end(*, last_seen: datetime, expires_at: datetime, policy: SignInPolicy) -> datetime:
    """Returns when a session ends: idle for too long, or its lifetime over, whichever comes first."""
    return min(last_seen + policy.idle, expires_at)


# Where each role starts (auditors read the supervisors' lists from /welcome).
LANDING: dict[str, str] = {"agent": "/today", "supervisor": "/board", "court": "/notices", "lawyer": "/inbox"}
ELSEWHERE = "/welcome"


def landing(role: str) -> str:
    """Returns the page a role starts on."""
    return LANDING.get(role, ELSEWHERE)


class Scheduled(Protocol):
    """A visit or posting with its window and whether it is late."""

    @property
    def window_start(self) -> datetime: ...

    @property
    def window_end(self) -> datetime: ...

    @property
    def late(self) -> bool: ...


T = TypeVar("T", bound=Scheduled)


@dataclass(frozen=True)
class Window(Generic[T]):
    """The tasks of one day and time window in Beijing time; the late ones form a group of their own, shown first."""

    late: bool
    day: date | None
    start: datetime | None
    end: datetime | None
    tasks: list[T]


def by_window(tasks: Sequence[T]) -> list[Window[T]]:
    """Groups tasks: the late ones first (earliest window first), then one group per day and window in time order."""
    ordered = sorted(tasks, key=lambda t: (t.window_start, t.window_end))
    groups: list[Window[T]] = []
    late = [t for t in ordered if t.late]
    if late:
        groups.append(Window(late=True, day=None, start=None, end=None, tasks=late))
    windows: dict[tuple[datetime, datetime], list[T]] = {}
    for task in ordered:
        if not task.late:
            windows.setdefault((task.window_start, task.window_end), []).append(task)
    for (start, end), members in windows.items():
        groups.append(Window(late=False, day=start.astimezone(SHANGHAI).date(), start=start, end=end, tasks=members))
    return groups


class Assigned(Scheduled, Protocol):
    """A scheduled task and the agent who holds it."""

    @property
    def agent_id(self) -> str: ...


class Member(Protocol):
    """An agent of the roster."""

    @property
    def id(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def active(self) -> bool: ...


A = TypeVar("A", bound=Assigned)


@dataclass(frozen=True)
class Crew(Generic[A]):
    """One agent's open tasks on the board, the late ones first; `on_roster` is False for an agent the roster no longer names."""

    agent_id: str
    name: str
    active: bool
    on_roster: bool
    tasks: list[A]

    @property
    def late(self) -> int:
        """Returns how many of the tasks are late."""
        return sum(1 for task in self.tasks if task.late)


def by_agent(tasks: Sequence[A], agents: Sequence[Member]) -> list[Crew[A]]:
    """Groups open tasks by agent, each agent's late ones first, then by window.

    The agents with the most late tasks come first, then the roster's order. An active agent without tasks is
    listed too (free to take one); an inactive one only while they still hold tasks, which want reassigning.
    """
    held: dict[str, list[A]] = {}
    for task in sorted(tasks, key=lambda t: (not t.late, t.window_start, t.window_end)):
        held.setdefault(task.agent_id, []).append(task)
    crews = [Crew(agent_id=a.id, name=a.name, active=a.active, on_roster=True, tasks=held.pop(a.id, [])) for a in agents]
    crews += [Crew(agent_id=agent_id, name=agent_id, active=False, on_roster=False, tasks=mine) for agent_id, mine in sorted(held.items())]
    listed = [crew for crew in crews if crew.tasks or crew.active]
    return sorted(listed, key=lambda crew: -crew.late)
