"""The collector settings a server process runs with."""

import subprocess
import sys

from shared.plumbing import heap

# Run in a fresh interpreter: freezing this test process would keep its objects from every later collection.
SETTLED = """
import gc
from shared.plumbing import heap
before = gc.get_freeze_count()
heap.settle()
print(before, gc.get_freeze_count(), *gc.get_threshold())
"""


def test_settle_freezes_what_is_alive_and_widens_the_generations() -> None:
    out = subprocess.run([sys.executable, "-c", SETTLED], capture_output=True, text=True, check=True).stdout.split()
    before, frozen, *thresholds = map(int, out)
    assert before == 0
    assert frozen > 1000  # at least the modules' objects
    assert tuple(thresholds) == heap.THRESHOLDS
    assert heap.THRESHOLDS[0] > 700  # wider than CPython's default youngest generation
