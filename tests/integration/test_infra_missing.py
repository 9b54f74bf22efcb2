"""Without Kafka or PostgreSQL the infrastructure tests fail (never skip) and say what is missing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import free_port

REPO = Path(__file__).resolve().parents[2]
TARGET = "tests/integration/test_outbox.py::test_a_committed_change_is_published_exactly_once"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("SONGDA_TEST_KAFKA", "127.0.0.1:{port}", "Kafka is not reachable at 127.0.0.1:{port}"),
        ("SONGDA_TEST_POSTGRES", "postgresql://songda:songda@127.0.0.1:{port}/postgres", "PostgreSQL is not reachable at postgresql://songda:songda@127.0.0.1:{port}/postgres"),
    ],
)
def test_missing_infrastructure_fails_with_a_clear_message(variable: str, value: str, message: str) -> None:
    port = free_port()
    env = {**os.environ, variable: value.format(port=port)}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", TARGET],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 1, result.stdout
    assert message.format(port=port) in result.stdout
    assert "1 error" in result.stdout or "1 failed" in result.stdout
    assert "skipped" not in result.stdout
