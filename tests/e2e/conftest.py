"""End-to-end fixtures: the services as processes, and a broker of the test's own that it may stop."""

from __future__ import annotations

import os
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from shared.contracts.topics import create_topics
from songda.devstack import PROCESSES, SERVICES, Stack
from tests.support import free_port, stack_env

REPO = Path(__file__).resolve().parents[2]


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
