"""Exponential backoff with jitter for retry loops that must not hammer a recovering peer."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Backoff:
    """Yields growing delays from `initial` to `maximum` seconds; reset after a success."""

    initial: float = 0.1
    maximum: float = 5.0
    factor: float = 2.0
    _next: float = field(init=False, default=0.0)

    def __post_init__(self) -> None:
        self.initial = min(self.initial, self.maximum)
        self._next = self.initial

    def next(self) -> float:
        """Returns the next delay, with up to 20% jitter so restarted peers are not hit in step."""
        delay = self._next
        self._next = min(self._next * self.factor, self.maximum)
        return _jitter(delay)

    def after(self, tries: int) -> float:
        """Returns the delay after `tries` failures without keeping count, for retries whose count is stored elsewhere."""
        return _jitter(min(self.initial * self.factor ** max(tries - 1, 0), self.maximum))

    def reset(self) -> None:
        """Starts again from the initial delay."""
        self._next = self.initial


def _jitter(delay: float) -> float:
    return delay * random.uniform(0.8, 1.0)
