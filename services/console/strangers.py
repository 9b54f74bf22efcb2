"""Failed sign-ins for usernames that do not exist, counted in memory like a real user's, so a lock says nothing about who exists."""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime

from services.console.domain import SignInPolicy, after_failure, is_locked

# Enough to track a guessing run; the oldest names are forgotten first so the table cannot grow without bound.
REMEMBERED = 10_000


class Strangers:
    """Failures and locks of unknown usernames, for this process."""

    def __init__(self, remembered: int = REMEMBERED) -> None:
        self._remembered = remembered
        self._failures: OrderedDict[str, tuple[int, datetime | None]] = OrderedDict()

    def locked(self, username: str, *, now: datetime) -> bool:
        """Tells whether the name is locked now."""
        return is_locked(self._failures.get(username, (0, None))[1], now=now)

    def fail(self, username: str, *, now: datetime, policy: SignInPolicy) -> bool:
        """Counts one failure and tells whether it locked the name."""
        failed, until = after_failure(self._failures.pop(username, (0, None))[0], now=now, policy=policy)
        self._failures[username] = (failed, until)
        while len(self._failures) > self._remembered:
            self._failures.popitem(last=False)
        return until is not None
