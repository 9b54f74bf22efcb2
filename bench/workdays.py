"""Working-day check benchmark: nanoseconds per `is_working_day` call on a published, an uncovered and an imported year, beside a bare set lookup.

It runs on hot paths (every visit slot, due date and KPI fold), so the figure is printed next to its floor in the
same run instead of being asserted in a test. The calls run in this one process, so the figures are its CPU time
(process_time) per call; the wall-clock figures are saved beside them.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path
from time import perf_counter, process_time

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.measure import save  # noqa: E402
from shared.plumbing import workdays  # noqa: E402
from shared.plumbing.workdays import is_working_day  # noqa: E402


def _ns_per_call(days: list[date], check: object, rounds: int) -> tuple[float, float]:
    """Returns CPU and wall ns per call of `check` over the days, `rounds` times."""
    cpu, wall = process_time(), perf_counter()
    for _ in range(rounds):
        for day in days:
            check(day)  # type: ignore[operator]
    calls = len(days) * rounds
    return (process_time() - cpu) / calls * 1e9, (perf_counter() - wall) / calls * 1e9


def main(args: argparse.Namespace) -> None:
    """Prints CPU ns per call with and without a watched calendar directory, and the floor; saves the figures."""
    days = [date(2026, 1, 1) + timedelta(n) for n in range(3 * 365)]
    known = set(days[::2])
    floor, floor_wall = _ns_per_call(days, known.__contains__, args.rounds)
    bare, bare_wall = _ns_per_call(days, is_working_day, args.rounds)
    with tempfile.TemporaryDirectory() as calendar:
        workdays.watch(Path(calendar), every_s=5.0)
        try:
            watched, watched_wall = _ns_per_call(days, is_working_day, args.rounds)
        finally:
            workdays.watch(None)
    print(f"is_working_day: {bare:.0f} ns/call, watched directory {watched:.0f} ns/call; floor (set lookup) {floor:.0f} ns/call; ratio {watched / floor:.1f} (CPU time)")
    cpu = {"bare": bare, "watched": watched, "floor": floor}
    save("workdays", args, [], calls=len(days) * args.rounds, cpu_ns_per_call=cpu, wall_ns_per_call={"bare": bare_wall, "watched": watched_wall, "floor": floor_wall})


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="times each of three years' days is checked (default 20)")
    return parser.parse_args(argv)


if __name__ == "__main__":
    main(parse_args())
