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
from shared.plumbing.auth import Role
from shared.plumbing.outbox import OutboxMessage
from shared.plumbing.runtime import Runtime
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


SUPERVISOR = token(Role.supervisor, "S-1")
SERVICE = token(Role.service, "importer")


async def test_the_court_name_comes_from_the_registry(intake) -> None:
    client, runtime = intake
    unnamed = {k: v for k, v in EXAMPLE_NOTICE.items() if k != "court_name"}
    created = await client.post("/v1/notices", json=unnamed, headers=COURT)
    assert created.status_code == 201, created.text
    async with runtime.db.sessions() as session:
        stored = await session.get(IntakeNotice, created.json()["id"])
    assert stored.court_name == "威海市环翠区人民法院"
    # Naming the court as registered is the same notice; naming it otherwise is refused.
    assert (await client.post("/v1/notices", json=EXAMPLE_NOTICE, headers=COURT)).status_code == 200
    renamed = await client.post("/v1/notices", json={**EXAMPLE_NOTICE, "court_reference": "R-2", "court_name": "最高人民法院"}, headers=COURT)
    assert (renamed.status_code, [e["field"] for e in renamed.json()["errors"]]) == (422, ["court_name"])
    assert await rows(runtime) == (1, 1)


@pytest.mark.parametrize(
    ("headers", "changes", "status", "field"),
    [
        (COURT, {"case_number": "（2026）京0105民初1号"}, 403, "case_number"),  # another court's case
        (COURT, {"case_number": "（2026）鲁10民终1号", "stage": "appeal"}, 403, "case_number"),  # the intermediate court's
        (SERVICE, {"case_number": "（2026）京0105民初1号"}, 422, "case_number"),
        (SERVICE, {"court_id": "C999999"}, 422, "court_id"),  # no such court
        (token(Role.court, "C999999"), {"court_id": "C999999"}, 403, None),  # a token for a court nobody registered
    ],
)
async def test_a_notice_belongs_to_a_registered_court_and_one_of_its_cases(intake, headers, changes, status, field) -> None:
    client, runtime = intake
    response = await client.post("/v1/notices", json={**EXAMPLE_NOTICE, **changes}, headers=headers)
    assert (response.status_code, response.headers["content-type"]) == (status, "application/problem+json"), response.text
    assert [e["field"] for e in response.json().get("errors", [])] == ([field] if field else [])
    assert await rows(runtime) == (0, 0)


async def test_supervisors_keep_the_registry(intake) -> None:
    client, runtime = intake
    listed = (await client.get("/v1/courts", headers=COURT)).json()
    assert {(c["id"], c["case_code"]) for c in listed} >= {("C371002", "鲁1002"), ("C110105", "京0105")}
    rongcheng_ii = {"name": "荣成市第二人民法院", "case_code": "鲁1083", "active": True}
    assert (await client.put("/v1/courts/C371083", json=rongcheng_ii, headers=COURT)).status_code == 403
    created = await client.put("/v1/courts/C371083", json=rongcheng_ii, headers=SUPERVISOR)
    assert (created.status_code, created.json()["case_code"]) == (201, "鲁1083")
    taken = await client.put("/v1/courts/C371084", json={**rongcheng_ii, "case_code": "鲁1002"}, headers=SUPERVISOR)
    assert (taken.status_code, taken.json()["errors"][0]["field"]) == (409, "case_code")
    bad = await client.put("/v1/courts/C371084", json={**rongcheng_ii, "case_code": "Lu1002"}, headers=SUPERVISOR)
    assert (bad.status_code, bad.json()["errors"][0]["field"]) == (422, "case_code")
    assert (await client.get("/v1/courts/C371084", headers=COURT)).status_code == 404

    # A court made inactive submits nothing more.
    inactive = await client.put("/v1/courts/C371002", json={"name": "威海市环翠区人民法院", "case_code": "鲁1002", "active": False}, headers=SUPERVISOR)
    assert (inactive.status_code, inactive.json()["active"]) == (200, False)
    refused = await client.post("/v1/notices", json=EXAMPLE_NOTICE, headers=COURT)
    assert refused.status_code == 403 and "no longer active" in refused.json()["detail"]
    assert await rows(runtime) == (0, 0)


async def test_a_firms_lawyer_reads_only_the_parties_it_represents(intake) -> None:
    client, _ = intake
    firm = "31370000MD0123456A"
    body = copy.deepcopy(EXAMPLE_NOTICE)
    body["recipients"][0]["lawyer"] = {"name": "王律师", "firm": "山东某某律师事务所", "firm_uscc": firm}
    body["recipients"].append({**copy.deepcopy(EXAMPLE_NOTICE["recipients"][0]), "name": "赵六", "role": "plaintiff", "id_number": "371002199001014219"})
    notice = (await client.post("/v1/notices", json=body, headers=COURT)).json()
    shown = await client.get(f"/v1/notices/{notice['id']}", headers=token(Role.lawyer, firm))
    assert shown.status_code == 200
    assert [r["name"] for r in shown.json()["recipients"]] == ["张三"]
    assert "371002199001014219" not in shown.text  # nothing of the other side
    assert (await client.get(f"/v1/notices/{notice['id']}", headers=token(Role.lawyer, "31370000MD0543216L"))).status_code == 404
    wrong = copy.deepcopy(body)
    wrong.update(court_reference="R-3")
    wrong["recipients"][0]["lawyer"]["firm_uscc"] = "31370000MD0123456B"
    refused = await client.post("/v1/notices", json=wrong, headers=COURT)
    assert (refused.status_code, [e["field"] for e in refused.json()["errors"]]) == (422, ["recipients[0].lawyer.firm_uscc"])
