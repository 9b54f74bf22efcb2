"""The carrier gateway's rules: when a booking or a receipt's scan is tried again, and where an item's journey ends."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from shared.contracts.events import PostalStatus

# A refused request is our configuration, not the network: try again, but not often.
REJECTED_RETRY = timedelta(minutes=5)
MAX_BOOKING_BACKOFF = timedelta(minutes=5)
# However many tries are configured, the gap between two scan tries stays bounded.
MAX_SCAN_BACKOFF = timedelta(hours=6)
# The item's journey ends here: back at the court with its receipt, or back at the court unserved.
CLOSING = frozenset({PostalStatus.receipt_returned, PostalStatus.returned})


def booking_backoff(failures: int) -> timedelta:
    """Returns the wait before booking again after `failures` tries EMS did not answer: doubling seconds, at most five minutes."""
    return min(timedelta(seconds=2**failures), MAX_BOOKING_BACKOFF)


@dataclass(frozen=True)
class ScanPolicy:
    """How a return receipt's scan is tried: `attempts` tries, `backoff` (domain time) doubling between them."""

    attempts: int = 8
    backoff: timedelta = timedelta(minutes=5)

    def exhausted(self, tries: int) -> bool:
        """Tells whether `tries` failed tries were the last."""
        return tries >= self.attempts

    def wait(self, tries: int) -> timedelta:
        """Returns the wait after `tries` failed tries: `backoff` doubling, never more than MAX_SCAN_BACKOFF."""
        return min(self.backoff * 2 ** (tries - 1), MAX_SCAN_BACKOFF)
