"""The notice flow intake → Kafka → delivery and evidence, on PostgreSQL and once on SQLite."""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path

import httpx

from services.delivery.config import DeliverySettings
from services.delivery.main import create_app as create_delivery
from services.evidence.config import EvidenceSettings
from services.evidence.main import create_app as create_evidence
from services.intake.config import IntakeSettings
from services.intake.main import create_app as create_intake
from shared.plumbing.auth import Role
from tests.support import EXAMPLE_NOTICE, eventually, running, settings, token, upload_examples, without_contact_hours

COURT = token(Role.court, "C371002")


async def found(client: httpx.AsyncClient, path: str) -> httpx.Response | None:
    response = await client.get(path, headers=COURT)
    return response if response.status_code == 200 else None


async def run_flow(urls: dict[str, str], kafka: str, prefix: str, *, policy: Path) -> None:
    async with AsyncExitStack() as stack:
        intake = await stack.enter_async_context(running(create_intake(settings(IntakeSettings, database_url=urls["intake"], kafka=kafka, prefix=prefix))))
        delivery = await stack.enter_async_context(
            running(create_delivery(settings(DeliverySettings, database_url=urls["delivery"], kafka=kafka, prefix=prefix, policy_file=policy)))
        )
        evidence = await stack.enter_async_context(running(create_evidence(settings(EvidenceSettings, database_url=urls["evidence"], kafka=kafka, prefix=prefix))))

        await upload_examples(intake, "", headers=COURT)
        submitted = await intake.post("/v1/notices", json=EXAMPLE_NOTICE, headers=COURT)
        assert submitted.status_code == 201, submitted.text
        notice = submitted.json()

        shown = await eventually(lambda: found(delivery, f"/v1/notices/{notice['id']}/delivery"), what="delivery to record the notice")
        body = shown.json()
        assert body["case_number"] == EXAMPLE_NOTICE["case_number"]
        assert body["due_date"] == notice["due_date"]
        assert [(r["recipient_id"], r["status"], r["tier"]) for r in body["recipients"]] == [(notice["recipients"][0]["recipient_id"], "in_progress", "electronic")]

        async def attempt_recorded() -> list | None:
            response = await found(evidence, f"/v1/notices/{notice['id']}/timeline")
            entries = response.json()["entries"] if response else []
            return entries if any(e["event_type"] == "delivery.AttemptStarted" for e in entries) else None

        entries = await eventually(attempt_recorded, what="evidence to record the registration and delivery's first attempt")
        assert (entries[0]["position"], entries[0]["event_type"], entries[0]["source"]) == (1, "intake.NoticeRegistered", "songda/intake")
        assert ("delivery.AttemptStarted", "songda/delivery") in [(e["event_type"], e["source"]) for e in entries]
        assert len(entries[0]["sha256"]) == 64

        other_court = token(Role.court, "C110105")
        assert (await delivery.get(f"/v1/notices/{notice['id']}/delivery", headers=other_court)).status_code == 404
        assert (await evidence.get(f"/v1/notices/{notice['id']}/timeline", headers=other_court)).status_code == 404
        assert (await evidence.get(f"/v1/notices/{notice['id']}/timeline", headers=token(Role.agent, "agent-1"))).status_code == 403
        assert (await delivery.get(f"/v1/notices/{notice['id']}/delivery")).status_code == 401


async def test_the_flow_on_postgresql(kafka, topic_prefix, make_database, tmp_path: Path) -> None:
    urls = {name: await make_database(name) for name in ("intake", "delivery", "evidence")}
    await run_flow(urls, kafka, topic_prefix, policy=without_contact_hours(tmp_path))


async def test_the_same_flow_on_sqlite(kafka, topic_prefix, tmp_path: Path) -> None:
    urls = {name: f"sqlite:///{tmp_path / f'{name}.db'}" for name in ("intake", "delivery", "evidence")}
    await run_flow(urls, kafka, topic_prefix, policy=without_contact_hours(tmp_path))
    assert sorted(p.name for p in tmp_path.glob("*.db")) == ["delivery.db", "evidence.db", "intake.db"]


async def test_health_needs_no_token_and_the_api_does(kafka, topic_prefix, tmp_path: Path) -> None:
    app = create_delivery(settings(DeliverySettings, database_url=f"sqlite:///{tmp_path / 'd.db'}", kafka=kafka, prefix=topic_prefix))
    async with running(app) as client:
        health = await client.get("/healthz")
        assert (health.status_code, health.json()) == (200, {"status": "ok"})  # no internals without a token
        detailed = await client.get("/healthz", headers=token(Role.service, "monitor"))
        assert (detailed.json()["database"], detailed.json()["revocations"]["loaded"]) == ("ok", True)
        assert (await client.get("/healthz", headers=token(Role.court, "C371002"))).json() == {"status": "ok"}
        assert (await client.get("/v1/notices/x/delivery")).status_code == 401
