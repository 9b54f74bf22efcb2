"""End-to-end fixtures: the services as processes, the scaled clock they share, and a broker of the test's own that it may stop."""

from __future__ import annotations

import os
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from shared.contracts.topics import create_topics
from shared.plumbing.clock import ScaledClock
from songda.devstack import PROCESSES, SERVICES, Stack
from tests.support import eventually, free_port, stack_env

REPO = Path(__file__).resolve().parents[2]
# Monday 23 November 2026, 09:00 in Beijing, running sixty times faster than the wall clock. Every real second a
# slow machine spends becomes a domain minute, so a test reads the stack's "now" when it needs a time, never
# assumes one. SONGDA_TEST_CLOCK_EPOCH and SONGDA_TEST_TIME_SCALE change them, to show that a test holds when its
# stack starts late in the day or when more domain time passes per real second, as on a slower machine.
EPOCH = datetime.fromisoformat(os.environ.get("SONGDA_TEST_CLOCK_EPOCH", "2026-11-23T01:00:00+00:00")).astimezone(UTC)
TIME_SCALE = float(os.environ.get("SONGDA_TEST_TIME_SCALE", "60"))
# Real seconds a wait for domain time allows beyond the domain time itself, for the work on a loaded machine.
WORK_SLACK_S = 60.0


@pytest.fixture
def domain_clock() -> ScaledClock:
    """The scaled clock of the test's stack, anchored now: the test reads "now" from it exactly as every service does."""
    return ScaledClock(epoch=EPOCH, anchor=datetime.now(UTC), scale=TIME_SCALE)


def clock_env(clock: ScaledClock) -> dict[str, str]:
    """Returns the environment that puts a stack's processes on `clock`."""
    return {
        "SONGDA_CLOCK": "scaled",
        "SONGDA_CLOCK_EPOCH": clock.epoch.isoformat(),
        "SONGDA_CLOCK_ANCHOR": clock.anchor.isoformat(),
        "SONGDA_TIME_SCALE": repr(clock.scale),
    }


def real_seconds(clock: ScaledClock, span: timedelta) -> float:
    """Returns how many real seconds `span` of domain time takes on `clock`."""
    return max(span.total_seconds(), 0.0) / clock.scale


async def until(clock: ScaledClock, moment: datetime, *, what: str) -> datetime:
    """Waits until the domain time on `clock` reaches `moment`, with a deadline that grows with the domain time to wait; returns "now"."""

    async def reached() -> datetime | None:
        now = clock.now()
        return now if now >= moment else None

    timeout = real_seconds(clock, moment - clock.now()) + WORK_SLACK_S
    return await eventually(reached, timeout=timeout, interval=min(1.0, max(0.05, timeout / 100)), what=what)


@dataclass
class Broker:
    """A single-node Kafka broker in a directory of its own, started and stopped by deploy/kafka."""

    directory: Path
    port: int
    controller_port: int

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _script(self, name: str) -> None:
        env = {
            **os.environ,
            "KAFKA_PORT": str(self.port),
            "KAFKA_CONTROLLER_PORT": str(self.controller_port),
            "SONGDA_KAFKA_DIR": str(self.directory),
            "KAFKA_CREATE_TOPICS": "0",
        }
        subprocess.run(["bash", str(REPO / "deploy" / "kafka" / f"{name}.sh")], env=env, check=True, timeout=120)

    def start(self) -> None:
        self._script("start")

    def stop(self) -> None:
        self._script("stop")


@pytest.fixture
async def broker(tmp_path: Path) -> AsyncIterator[Broker]:
    """Starts a private broker with Songda's topics; stops it at the end."""
    broker = Broker(directory=tmp_path / "kafka", port=free_port(), controller_port=free_port())
    broker.start()
    try:
        await create_topics(broker.bootstrap)
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def service_stack(tmp_path: Path) -> Iterator[Callable[..., Awaitable[Stack]]]:
    """Starts all four services as processes on PostgreSQL databases of their own; stops them afterwards."""
    stacks: list[Stack] = []

    async def start(*, kafka: str, prefix: str, make_database: Callable[[str], Awaitable[str]], extra_env: dict[str, str] | None = None) -> Stack:
        env = {**stack_env(kafka=kafka, prefix=prefix), "SONGDA_VAR_DIR": str(tmp_path / "var")}
        for name in SERVICES:
            env[f"{name.upper()}_DATABASE_URL"] = await make_database(name)
        env.update(extra_env or {})
        stack = Stack(env=env, ports={name: free_port() for name in PROCESSES}, log_dir=tmp_path / "log", run_dir=tmp_path / "run")
        stacks.append(stack)
        stack.start()
        stack.wait_healthy()
        return stack

    yield start
    for stack in stacks:
        stack.stop()
