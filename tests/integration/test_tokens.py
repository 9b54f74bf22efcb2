"""Tokens on real Kafka: a revoked token is refused by every service, a token living too long is refused, and `songda token` will not mint one."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI

from services.carrier_gateway.config import CarrierGatewaySettings
from services.carrier_gateway.main import create_app as create_gateway
from services.delivery.config import DeliverySettings
from services.delivery.main import create_app as create_delivery
from services.evidence.config import EvidenceSettings
from services.evidence.main import create_app as create_evidence
from services.intake.config import IntakeSettings
from services.intake.main import create_app as create_intake
from shared.plumbing.auth import Role, mint
from tests.support import SECRET, eventually, running, settings

# One read each service answers a supervisor with 200.
PROBES = {"intake": "/v1/courts", "delivery": "/v1/tasks", "carrier_gateway": "/v1/audit-log", "evidence": "/v1/audit-log"}


@pytest.fixture
async def services(kafka: str, topic_prefix: str, make_database, tmp_path) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    makers: dict[str, tuple[Callable[..., FastAPI], type]] = {
        "intake": (create_intake, IntakeSettings),
        "delivery": (create_delivery, DeliverySettings),
        "carrier_gateway": (create_gateway, CarrierGatewaySettings),
        "evidence": (create_evidence, EvidenceSettings),
    }
    async with AsyncExitStack() as exits:
        clients = {}
        for name, (create, config) in makers.items():
            extra = {"blob_dir": tmp_path / "blobs"} if name == "evidence" else {}
            clients[name] = await exits.enter_async_context(running(create(settings(config, database_url=await make_database(name), kafka=kafka, prefix=topic_prefix, **extra))))
        yield clients


def bearer(**overrides: object) -> dict[str, str]:
    arguments = {"secret": SECRET, "role": Role.supervisor, "sub": "S-1", "issuer": "songda", "now": datetime.now(UTC), **overrides}
    return {"Authorization": f"Bearer {mint(**arguments)}"}  # type: ignore[arg-type]


def cli(*args: str, prefix: str, kafka: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SONGDA_ENV": "test", "SONGDA_JWT_SECRET": SECRET, "SONGDA_KAFKA_BOOTSTRAP": kafka, "SONGDA_TOPIC_PREFIX": prefix}
    return subprocess.run([sys.executable, "-m", "songda.cli", *args], env=env, capture_output=True, text=True, timeout=60)


async def test_a_revoked_token_is_refused_by_every_service(services: dict[str, httpx.AsyncClient], kafka: str, topic_prefix: str) -> None:
    revoked, kept = bearer(), bearer()
    for name, path in PROBES.items():
        assert (await services[name].get(path, headers=revoked)).status_code == 200, name

    done = cli("revoke", revoked["Authorization"].removeprefix("Bearer "), "--reason", "laptop lost", prefix=topic_prefix, kafka=kafka)
    assert done.returncode == 0, done.stderr
    assert "revoked" in done.stdout

    async def refused_everywhere() -> bool:
        answers = [await services[name].get(path, headers=revoked) for name, path in PROBES.items()]
        return all(a.status_code == 401 and a.json()["detail"] == "The token was revoked." for a in answers)

    await eventually(refused_everywhere, what="every service to refuse the revoked token")
    for name, path in PROBES.items():
        assert (await services[name].get(path, headers=kept)).status_code == 200, name


async def test_a_token_living_longer_than_the_maximum_is_refused_and_not_minted(services: dict[str, httpx.AsyncClient], kafka: str, topic_prefix: str) -> None:
    ten_years = bearer(ttl=timedelta(days=3650))
    for name, path in PROBES.items():
        answer = await services[name].get(path, headers=ten_years)
        assert answer.status_code == 401 and "at most 24 h" in answer.json()["detail"], name
    assert (await services["intake"].get("/v1/courts", headers=bearer(ttl=timedelta(hours=24)))).status_code == 200
    minted = cli("token", "--role", "court", "--sub", "C371002", "--ttl", "30d", prefix=topic_prefix, kafka=kafka)
    assert minted.returncode == 2 and "at most 24 h" in minted.stderr and minted.stdout == ""
    assert cli("token", "--role", "court", "--sub", "C371002", "--ttl", "2h", prefix=topic_prefix, kafka=kafka).stdout.count(".") == 2
