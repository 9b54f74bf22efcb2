"""Supervised background tasks: a task that dies takes the process down loudly; shutdown awaits them all."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable, Coroutine
from typing import Any

import structlog

log = structlog.get_logger(__name__)


def terminate_process(name: str, exc: BaseException) -> None:
    """Asks the server to shut down; `songda serve` then exits non-zero because a task failed."""
    os.kill(os.getpid(), signal.SIGTERM)


class Supervisor:
    """Starts long-running tasks and reacts when one of them ends unexpectedly."""

    def __init__(self, *, on_failure: Callable[[str, BaseException], None] | None = None) -> None:
        self._tasks: dict[str, asyncio.Task[None]] = {}
        # Looked up when built, not when defined: the tests, running services inside pytest, make a death fail the test.
        self._on_failure = on_failure or terminate_process
        self._stopping = False
        self.failed: dict[str, str] = {}

    def start(self, name: str, coroutine: Coroutine[Any, Any, None]) -> None:
        """Runs a coroutine that is meant to run until shutdown."""
        task = asyncio.create_task(coroutine, name=name)
        task.add_done_callback(lambda t: self._ended(name, t))
        self._tasks[name] = task

    def _ended(self, name: str, task: asyncio.Task[None]) -> None:
        if self._stopping or task.cancelled():
            return
        exc = task.exception() or RuntimeError(f"{name} returned; it must run until shutdown")
        self.failed[name] = f"{type(exc).__name__}: {exc}"
        log.critical("task.died", task=name, error=type(exc).__name__, exc_info=exc)
        self._on_failure(name, exc)

    def status(self) -> dict[str, str]:
        """Tells for each task whether it is running or how it failed."""
        return {name: self.failed.get(name, "running" if not task.done() else "stopped") for name, task in self._tasks.items()}

    @property
    def healthy(self) -> bool:
        """Tells whether every task is still running."""
        return not self.failed and all(not t.done() for t in self._tasks.values())

    async def stop(self) -> None:
        """Cancels every task and waits for each to finish its cleanup."""
        self._stopping = True
        for task in self._tasks.values():
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)
