"""End-to-end fixtures: the services as processes, the scaled clock they share, and a broker of the test's own that it may stop."""

from __future__ import annotations

import os
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shared.contracts.topics import create_topics
from shared.plumbing.clock import ScaledClock
from songda.devstack import PROCESSES, SERVICES, Stack
from tests.support import free_port, stack_env

REPO = Path(__file__).resolve().parents[2]
# Monday 23 November 2026, 09:00 in Beijing, running sixty times faster than the wall clock. Every real second a
# slow machine spends becomes a domain minute, so a test reads the stack's "now" when it needs a time, never
# assumes one. SONGDA_TEST_CLOCK_EPOCH and SONGDA_TEST_TIME_SCALE change them, to show that a test holds when its
# stack starts late in the day or when more domain time passes per real second, as on a slower machine.
EPOCH = datetime.fromisoformat(os.environ.get("SONGDA_TEST_CLOCK_EPOCH", "2026-11-23T01:00:00+00:00")).astimezone(UTC)
TIME_SCALE = float(os.environ.get("SONGDA_TEST_TIME_SCALE", "60"))


@pytest.fixture
def domain_clock() -> ScaledClock:
    """The scaled clock of the test's stack, anchored now: the test reads "now" from it exactly as every service does."""
    return ScaledClock(epoch=EPOCH, anchor=datetime.now(UTC), scale=TIME_SCALE)


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

    async def start(
        *, kafka: str, prefix: str, make_database: Callable[[str], Awaitable[str]], extra_env: dict[str, str] | None = None, replicas: dict[str, int] | None = None
    ) -> Stack:
        env = {**stack_env(kafka=kafka, prefix=prefix), "SONGDA_VAR_DIR": str(tmp_path / "var")}
        for name in SERVICES:
            env[f"{name.upper()}_DATABASE_URL"] = await make_database(name)
        env.update(extra_env or {})
        stack = Stack(env=env, ports={name: free_port() for name in PROCESSES}, log_dir=tmp_path / "log", run_dir=tmp_path / "run", replicas=replicas or {})
        stacks.append(stack)
        stack.start()
        stack.wait_healthy()
        return stack

    yield start
    for stack in stacks:
        stack.stop()
