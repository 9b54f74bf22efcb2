"""The cyclic garbage collector set for a long-running server process."""

from __future__ import annotations

import gc

# CPython's default (700, 10, 10) collects the youngest generation every 700 allocations, while a request's objects
# are still in use: they survive, get promoted, and each full collection then walks them with every module object
# (~180k in intake, ~100 ms: every request in flight stalled that long, every second or two under load). With room
# for a few hundred requests' allocations, most objects are freed by their reference count before a collection sees them.
THRESHOLDS = (20_000, 50, 100)


def settle() -> None:
    """Collects once, then sets what is alive (modules, the app, its settings) aside from every later collection and widens the generations."""
    gc.collect()
    # Frozen objects are never traversed again: a full collection walks only what the process made since.
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
