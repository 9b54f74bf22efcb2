"""Working-day check benchmark: nanoseconds per `is_working_day` call on a published, an uncovered and an imported year, beside a bare set lookup.

It runs on hot paths (every visit slot, due date and KPI fold), so the figure is printed next to its floor in the
same run instead of being asserted in a test.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path
from time import perf_counter

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from shared.plumbing import workdays  # noqa: E402
from shared.plumbing.workdays import is_working_day  # noqa: E402

ROUNDS = 20


def _ns_per_call(days: list[date], check: object) -> float:
    started = perf_counter()
    for _ in range(ROUNDS):
        for day in days:
            check(day)  # type: ignore[operator]
    return (perf_counter() - started) / (len(days) * ROUNDS) * 1e9


def main() -> None:
    """Prints ns per call with and without a watched calendar directory, and the floor."""
    days = [date(2026, 1, 1) + timedelta(n) for n in range(3 * 365)]
    known = set(days[::2])
    floor = _ns_per_call(days, known.__contains__)
    bare = _ns_per_call(days, is_working_day)
    with tempfile.TemporaryDirectory() as calendar:
        workdays.watch(Path(calendar), every_s=5.0)
        try:
            watched = _ns_per_call(days, is_working_day)
        finally:
            workdays.watch(None)
    print(f"is_working_day: {bare:.0f} ns/call, watched directory {watched:.0f} ns/call; floor (set lookup) {floor:.0f} ns/call; ratio {watched / floor:.1f}")


if __name__ == "__main__":
    main()
