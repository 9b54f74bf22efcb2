"""POST /v1/notices on real PostgreSQL: validation as problem+json writing nothing, auth, idempotency."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlmodel import func, select

from services.intake.config import IntakeSettings
from services.intake.main import create_app
from services.intake.models import IntakeNotice
from shared.auth import Role
from shared.outbox import OutboxMessage
from shared.runtime import Runtime
from tests.support import EXAMPLE_NOTICE, running, settings, token

COURT = token(Role.court, "C371002")


@pytest.fixture
async def intake(kafka, topic_prefix, make_database) -> AsyncIterator[tuple[httpx.AsyncClient, Runtime]]:
    app = create_app(settings(IntakeSettings, database_url=await make_database("intake"), kafka=kafka, prefix=topic_prefix))
    async with running(app) as client:
        yield client, app.state.runtime


async def rows(runtime: Runtime) -> tuple[int, int]:
    async with runtime.db.sessions() as session:
        notices = await session.scalar(select(func.count()).select_from(IntakeNotice))
        messages = await session.scalar(select(func.count()).select_from(OutboxMessage))
    return notices, messages


def example(**recipient_changes: object) -> dict:
    body = copy.deepcopy(EXAMPLE_NOTICE)
    body["recipients"][0].update(recipient_changes)
    return body


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"id_number": "371002198503124211"}, "recipients[0].id_number", "check digit"),
        ({"id_number": "37100219850312421"}, "recipients[0].id_number", "18 characters"),
        ({"phones": ["13800138000", "call me maybe"]}, "recipients[0].phones[1]", "phone"),
        ({"emails": ["zhangsan.example.com"]}, "recipients[0].emails[0]", "email"),
        ({"id_type": "uscc", "id_number": "91371002MA3C5Y8K04"}, "recipients[0].id_number", "check"),
    ],
)
async def test_bad_input_is_a_problem_naming_the_field_and_writes_nothing(intake, changes, field, words) -> None:
    client, runtime = intake
    response = await client.post("/v1/notices", json=example(**changes), headers=COURT)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 422
    assert problem["instance"] == "/v1/notices"
    failing = {e["field"]: e["message"] for e in problem["errors"]}
    assert list(failing) == [field]
    assert words in failing[field].lower()
    assert await rows(runtime) == (0, 0)


async def test_the_design_example_is_accepted_once_and_resubmission_returns_it(intake) -> None:
    client, runtime = intake
    first = await client.post("/v1/notices", json=EXAMPLE_NOTICE, headers=COURT)
    again = await client.post("/v1/notices", json=EXAMPLE_NOTICE, headers=COURT)
    assert first.status_code == 201
    assert first.headers["location"] == f"/v1/notices/{first.json()['id']}"
    assert first.json()["recipients"][0]["phones"] == [{"e164": "+8613800138000", "line_type": "mobile"}]
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert await rows(runtime) == (1, 1)


async def test_a_conflicting_resubmission_is_rejected(intake) -> None:
    client, runtime = intake
    await client.post("/v1/notices", json=EXAMPLE_NOTICE, headers=COURT)
    changed = {**EXAMPLE_NOTICE, "cause": "买卖合同纠纷"}
    response = await client.post("/v1/notices", json=changed, headers=COURT)
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert await rows(runtime) == (1, 1)


async def test_no_token_is_401(intake) -> None:
    client, runtime = intake
    response = await client.post("/v1/notices", json=EXAMPLE_NOTICE)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.headers["content-type"] == "application/problem+json"
    forged = await client.post("/v1/notices", json=EXAMPLE_NOTICE, headers={"Authorization": "Bearer not.a.token"})
    assert forged.status_code == 401
    assert await rows(runtime) == (0, 0)


@pytest.mark.parametrize(
    ("headers", "status"),
    [(token(Role.agent, "agent-7"), 403), (token(Role.lawyer, "firm-1"), 403), (token(Role.court, "C110105"), 403)],
)
async def test_the_wrong_role_or_another_court_may_not_submit(intake, headers, status) -> None:
    client, runtime = intake
    response = await client.post("/v1/notices", json=EXAMPLE_NOTICE, headers=headers)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert await rows(runtime) == (0, 0)


async def test_another_court_cannot_see_a_notice(intake) -> None:
    client, _ = intake
    notice_id = (await client.post("/v1/notices", json=EXAMPLE_NOTICE, headers=COURT)).json()["id"]
    assert (await client.get(f"/v1/notices/{notice_id}", headers=COURT)).status_code == 200
    other = await client.get(f"/v1/notices/{notice_id}", headers=token(Role.court, "C110105"))
    assert other.status_code == 404
    assert (await client.get(f"/v1/notices/{notice_id}", headers=token(Role.agent, "agent-7"))).status_code == 403
