"""POST /v1/notices/batch on real PostgreSQL: each notice answered at its index as POST /v1/notices would answer it, and registered exactly as one by one."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from sqlmodel import col, func, select

from services.intake.config import IntakeSettings
from services.intake.main import create_app
from services.intake.models import IntakeContact, IntakeNotice, IntakeParty, IntakeRecipient
from shared.plumbing.auth import Role
from shared.plumbing.outbox import OutboxMessage
from shared.plumbing.runtime import Runtime
from tests.support import EXAMPLE_NOTICE, address_confirmation, running, settings, token, upload_examples

COURT = token(Role.court, "C371002")
SERVICE = token(Role.service, "songda-console")


@asynccontextmanager
async def _intake(kafka: str, topic_prefix: str, url: str, tmp_path: Any) -> AsyncIterator[tuple[httpx.AsyncClient, Runtime]]:
    configured = settings(IntakeSettings, database_url=url, kafka=kafka, prefix=topic_prefix)
    configured.common.documents_dir = tmp_path / "documents"
    app = create_app(configured)
    async with running(app) as client:
        await upload_examples(client, "", headers=COURT)
        yield client, app.state.runtime


@pytest.fixture
async def intake(kafka, topic_prefix, make_database, tmp_path) -> AsyncIterator[tuple[httpx.AsyncClient, Runtime]]:
    async with _intake(kafka, topic_prefix, await make_database("intake"), tmp_path) as both:
        yield both


async def counts(runtime: Runtime) -> dict[str, int]:
    async with runtime.db.sessions() as session:
        return {
            table.__name__: int(await session.scalar(select(func.count()).select_from(table)) or 0)
            for table in (IntakeNotice, IntakeRecipient, IntakeParty, IntakeContact, OutboxMessage)
        }


def notice(reference: str, *, case: int = 1, **recipient_changes: object) -> dict[str, Any]:
    body = copy.deepcopy(EXAMPLE_NOTICE)
    body.update(court_reference=reference, case_number=f"（2026）鲁1002民初{case:04d}号")
    body["recipients"][0].update(recipient_changes)
    return body


async def test_each_notice_is_answered_at_its_index_as_post_notices_would(intake) -> None:
    client, runtime = intake
    batch = [
        notice("B-1"),
        notice("B-2", id_number="371002198503124211"),
        notice("B-3") | {"case_number": "（2026）京0105民初1号"},
        notice("B-1"),
        notice("B-1", case=2),
        notice("B-4", case=3),
    ]
    response = await client.post("/v1/notices/batch", json={"notices": batch}, headers=COURT)
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [(r["index"], r["status"]) for r in results] == [(0, 201), (1, 422), (2, 403), (3, 200), (4, 409), (5, 201)]
    assert results[3]["id"] == results[0]["id"]
    assert [e["field"] for e in results[1]["problem"]["errors"]] == ["notices[1].recipients[0].id_number"]
    assert [e["field"] for e in results[2]["problem"]["errors"]] == ["notices[2].case_number"]
    assert results[4]["problem"]["type"].endswith("court-reference-conflict")
    assert all(r["problem"]["instance"] == "/v1/notices/batch" for r in results if "problem" in r)
    # A refused item writes nothing; each registered one is stored once with its event.
    assert (await counts(runtime))["IntakeNotice"] == 2
    assert (await counts(runtime))["OutboxMessage"] == 2
    single = await client.post("/v1/notices", json=notice("B-4", case=3), headers=COURT)
    assert (single.status_code, single.json()["id"]) == (200, results[5]["id"])
    again = (await client.post("/v1/notices/batch", json={"notices": [notice("B-1"), notice("B-4", case=3)]}, headers=COURT)).json()["results"]
    assert [(r["status"], r["id"]) for r in again] == [(200, results[0]["id"]), (200, results[5]["id"])]


async def test_a_court_naming_another_court_is_refused_whole_and_nothing_is_written(intake) -> None:
    client, runtime = intake
    response = await client.post("/v1/notices/batch", json={"notices": [notice("B-1"), notice("B-2") | {"court_id": "C110105"}]}, headers=COURT)
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert (await counts(runtime))["IntakeNotice"] == 0


@pytest.mark.parametrize("notices", [[], [{}] * 501])
async def test_a_batch_holds_one_to_five_hundred_notices(intake, notices) -> None:
    client, _ = intake
    response = await client.post("/v1/notices/batch", json={"notices": notices}, headers=COURT)
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["notices"]


def _day() -> list[dict[str, Any]]:
    """Notices naming some parties more than once: by ID number, and by name and phone alone, the later ones matching what the earlier recorded."""
    lisi = {"name": "李四", "id_type": None, "id_number": None, "phones": ["13900139000"], "emails": ["lisi@example.com"]}
    moved = [{"text": "山东省威海市环翠区文化中路88号", "postcode": "264200", "source": "filing"}]
    return [
        notice("D-1", case=11),
        notice("D-2", case=12, addresses=moved),
        notice("D-3", case=13, **lisi),
        notice("D-4", case=14, **lisi, addresses=moved),
        notice("D-5", case=11),
        notice("D-6", case=15, name="王五", id_number="371002199001014219", phones=["13700137000"]),
    ]


def _as_registered(body: dict[str, Any]) -> dict[str, Any]:
    """The notice without what differs by registration (ids, time), to compare two registrations of it."""
    kept = {k: v for k, v in body.items() if k not in ("id", "received_at")}
    kept["recipients"] = [{k: v for k, v in r.items() if k != "recipient_id"} for r in body["recipients"]]
    return kept


async def test_a_batch_registers_exactly_as_one_by_one(kafka, topic_prefix, make_database, tmp_path) -> None:
    registered: list[list[dict[str, Any]]] = []
    tallies = []
    for batched in (False, True):
        async with _intake(kafka, topic_prefix, await make_database("intake"), tmp_path / str(batched)) as (client, runtime):
            # The address book knows one party already: a confirmation in its earlier case.
            person = EXAMPLE_NOTICE["recipients"][0]
            confirmed = await client.post(
                "/v1/address-confirmations", json=address_confirmation(person, case_number="（2026）鲁1002民初0011号", phone="13800138000", consent=True), headers=COURT
            )
            assert confirmed.status_code == 201, confirmed.text
            if batched:
                results = (await client.post("/v1/notices/batch", json={"notices": _day()}, headers=SERVICE)).json()["results"]
                ids = [r["id"] for r in results]
            else:
                ids = [(await client.post("/v1/notices", json=body, headers=SERVICE)).json()["id"] for body in _day()]
            registered.append([_as_registered((await client.get(f"/v1/notices/{i}", headers=COURT)).json()) for i in ids])
            tallies.append(await counts(runtime))
    one_by_one, together = registered
    assert together == one_by_one
    assert tallies[0] == tallies[1]
    # The second notice naming 李四 found the party the first recorded, by name and phone.
    assert one_by_one[3]["recipients"][0]["party"]["method"] == "name_phone"


async def test_concurrent_batches_register_one_after_the_other(intake) -> None:
    client, runtime = intake
    # 150 notices each: two transactions per batch, so interleaved batches would commit their halves in turns.
    batches = {name: [notice(f"{name}-{i}") for i in range(150)] for name in ("A", "B")}

    async def submit(name: str) -> tuple[str, list[str]]:
        response = await client.post("/v1/notices/batch", json={"notices": batches[name]}, headers=COURT)
        assert response.status_code == 200, response.text
        return name, [r["id"] for r in response.json()["results"]]

    batch_of = {notice_id: name for name, ids in await asyncio.gather(submit("A"), submit("B")) for notice_id in ids}
    async with runtime.db.sessions() as session:
        keys = (await session.exec(select(OutboxMessage.key).where(OutboxMessage.event_type == "intake.NoticeRegistered").order_by(col(OutboxMessage.id)))).all()
    order = [batch_of[key] for key in keys]
    assert len(order) == 300
    # Each batch's events are one run: the second batch registered only once the first had.
    assert order in (["A"] * 150 + ["B"] * 150, ["B"] * 150 + ["A"] * 150)
