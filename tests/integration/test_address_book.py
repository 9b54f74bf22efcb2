"""The address book on real PostgreSQL and Kafka: confirmations, supersession, stages, identity, audited lookups, learning."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import func, select

from services.intake.config import IntakeSettings
from services.intake.main import create_app
from services.intake.models import IntakeConfirmation, IntakeParty
from shared.contracts import topics
from shared.contracts.events import AddressReported, RecipientServed, ServiceMethod
from shared.contracts.topics import TopicNames
from shared.plumbing.auth import Role
from shared.plumbing.runtime import Runtime
from tests.support import EXAMPLE_NOTICE, eventually, publish, read_topic, running, settings, token, upload_examples

COURT = token(Role.court, "C371002")
# The intermediate court (鲁10) hears the appeals of the Huancui court's (鲁1002) cases.
APPEAL_COURT = token(Role.court, "C371000")
AGENT = token(Role.agent, "A-7")
AUDITOR = token(Role.auditor, "AU-1")
SUPERVISOR = token(Role.supervisor, "S-1")
CONFIRMATION = json.loads((Path(__file__).resolve().parents[2] / "docs" / "examples" / "confirmation.json").read_text())
FIRST_INSTANCE = "（2026）鲁1002民初0999号"
APPEAL = "（2026）鲁10民终0123号"
ZHANG = {"name": "张三", "kind": "person", "id_type": "resident_id", "id_number": "371002198503124210"}


@pytest.fixture
async def intake(kafka, topic_prefix, make_database) -> AsyncIterator[tuple[httpx.AsyncClient, Runtime]]:
    app = create_app(settings(IntakeSettings, database_url=await make_database("intake"), kafka=kafka, prefix=topic_prefix))
    async with running(app) as client:
        await upload_examples(client, "", headers=COURT)
        await upload_examples(client, "", headers=APPEAL_COURT, court_id="C371000")
        yield client, app.state.runtime


def notice(reference: str, *, case_number: str = FIRST_INSTANCE, stage: str = "first_instance", earlier: list[str] | None = None, **recipient: Any) -> dict[str, Any]:
    body = copy.deepcopy(EXAMPLE_NOTICE)
    body.update(court_reference=reference, case_number=case_number, stage=stage, earlier_case_numbers=earlier or [])
    if stage == "appeal":
        body.update(court_id="C371000", court_name="山东省威海市中级人民法院")
    body["recipients"][0].update(recipient)
    return body


def confirmation(**changes: Any) -> dict[str, Any]:
    body = copy.deepcopy(CONFIRMATION)
    body.update(changes)
    return body


async def look_up(client: httpx.AsyncClient, headers: dict[str, str] = COURT, **body: Any) -> dict[str, Any]:
    response = await client.post("/v1/address-lookups", json={"party": ZHANG, "case_number": FIRST_INSTANCE, "purpose": "核实送达地址", **body}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def count(runtime: Runtime, model: type) -> int:
    async with runtime.db.sessions() as session:
        return await session.scalar(select(func.count()).select_from(model))


async def test_a_confirmation_ranks_first_and_a_later_one_supersedes_it(intake) -> None:
    client, runtime = intake
    first = await client.post("/v1/address-confirmations", json=confirmation(), headers=COURT)
    assert first.status_code == 201, first.text
    again = await client.post("/v1/address-confirmations", json=confirmation(), headers=COURT)
    assert (again.status_code, again.json()["id"], again.json()["created"]) == (200, first.json()["id"], False)

    found = await look_up(client, case_number=FIRST_INSTANCE, stage="first_instance")
    best = found["candidates"][0]
    assert best["text"] == "山东省威海市环翠区文化中路88号"
    assert (best["provenance"][0]["kind"], best["provenance"][0]["basis"]) == ("confirmation", "民诉法解释第137条")
    assert {(c["channel"], c["address"]) for c in found["consent"]} == {("sms", "+8613800138000"), ("email", "zhangsan@example.com")}

    change = confirmation(address={"text": "山东省威海市环翠区海滨北路6号", "postcode": "264200"}, confirmed_at="2026-07-15", e_delivery=None)
    later = await client.post("/v1/address-confirmations", json=change, headers=COURT)
    assert later.status_code == 201, later.text
    assert later.json()["supersedes"] == first.json()["id"]

    found = await look_up(client, case_number=FIRST_INSTANCE, stage="first_instance")
    assert found["candidates"][0]["text"] == "山东省威海市环翠区海滨北路6号"
    assert "山东省威海市环翠区文化中路88号" not in [c["text"] for c in found["candidates"]]
    assert found["consent"] == []  # the change in writing withdrew nothing it did not repeat
    assert await count(runtime, IntakeConfirmation) == 2  # history is kept

    older = confirmation(address={"text": "山东省威海市环翠区古寨路1号"}, confirmed_at="2026-03-01")
    late = await client.post("/v1/address-confirmations", json=older, headers=COURT)
    assert (late.status_code, late.json()["supersedes"]) == (201, None)
    assert (await look_up(client, case_number=FIRST_INSTANCE))["candidates"][0]["text"] == "山东省威海市环翠区海滨北路6号"


async def test_a_first_instance_confirmation_carries_over_to_the_appeal(intake) -> None:
    client, _ = intake
    assert (await client.post("/v1/address-confirmations", json=confirmation(), headers=COURT)).status_code == 201
    linked = await client.post("/v1/notices", json=notice("APPEAL-1", case_number=APPEAL, stage="appeal", earlier=[FIRST_INSTANCE]), headers=APPEAL_COURT)
    assert linked.status_code == 201, linked.text
    recipient = linked.json()["recipients"][0]
    assert recipient["party"]["method"] == "id_number"
    best = recipient["candidates"][0]
    assert best["text"] == "山东省威海市环翠区文化中路88号"
    assert (best["provenance"][0]["kind"], best["provenance"][0]["stage"], best["provenance"][0]["source_case"]) == ("confirmation", "first_instance", FIRST_INSTANCE)
    assert {c["channel"] for c in recipient["consent"]} == {"sms", "email"}

    unlinked = await client.post("/v1/notices", json=notice("APPEAL-2", case_number="（2026）鲁10民终0456号", stage="appeal"), headers=APPEAL_COURT)
    recipient = unlinked.json()["recipients"][0]
    # Without the first-instance number the confirmation is another case's: Art. 8(3), after the filing.
    assert [c["provenance"][0]["basis"] for c in recipient["candidates"][:2]] == ["法发〔2017〕19号第8条第2项", "法发〔2017〕19号第8条第3项"]
    assert recipient["consent"] == []


async def test_parties_are_matched_by_id_number_and_never_merged_across_two(intake) -> None:
    client, runtime = intake
    first = (await client.post("/v1/notices", json=notice("ID-1"), headers=COURT)).json()["recipients"][0]["party"]
    assert first["method"] == "new" and first["party_id"]
    respelt = (await client.post("/v1/notices", json=notice("ID-2", name="張三"), headers=COURT)).json()["recipients"][0]["party"]
    assert (respelt["method"], respelt["party_id"], respelt["matched_on"]) == ("id_number", first["party_id"], ["id_number"])
    assert "张三" in respelt["note"]
    other = (await client.post("/v1/notices", json=notice("ID-3", id_number="110101199003074477"), headers=COURT)).json()["recipients"][0]["party"]
    assert other["method"] == "new" and other["party_id"] != first["party_id"]
    nameless = notice("ID-4", id_type=None, id_number=None)
    unclear = (await client.post("/v1/notices", json=nameless, headers=COURT)).json()["recipients"][0]["party"]
    # Two parties with different ID numbers share this name and phone: the notice is not merged into either.
    assert (unclear["method"], unclear["party_id"]) == ("ambiguous", None)
    assert await count(runtime, IntakeParty) == 2


async def test_without_an_id_number_name_and_phone_match_and_say_so(intake) -> None:
    client, _ = intake
    await client.post("/v1/notices", json=notice("NP-1"), headers=COURT)
    found = (await client.post("/v1/notices", json=notice("NP-2", id_type=None, id_number=None), headers=COURT)).json()["recipients"][0]
    assert (found["party"]["method"], found["party"]["matched_on"]) == ("name_phone", ["name", "phone"])
    assert "no ID number" in found["party"]["note"]
    # The first notice's filing address is this case's filing as well: one candidate with both provenances.
    assert len(found["candidates"][0]["provenance"]) == 2


async def test_lookups_create_nothing_and_are_audited(intake) -> None:
    client, runtime = intake
    unknown = await look_up(client, SUPERVISOR, purpose="核实送达地址", case_number=None)
    assert unknown["party"]["method"] == "new" and unknown["candidates"] == []
    assert await count(runtime, IntakeParty) == 0
    await client.post("/v1/address-confirmations", json=confirmation(), headers=COURT)
    known = await look_up(client, COURT, purpose="立案审查")

    refused = await client.get("/v1/audit-log", headers=AGENT)
    assert refused.status_code == 403
    log = (await client.get("/v1/audit-log", headers=AUDITOR)).json()
    assert [(e["actor_role"], e["actor_sub"], e["purpose"], e["target"]) for e in log] == [
        ("court", "C371002", "立案审查", FIRST_INSTANCE),
        ("supervisor", "S-1", "核实送达地址", "-"),
    ]
    assert log[0]["party_ids"] == [known["party"]["party_id"]]
    assert log[1]["party_ids"] == []
    assert "371002198503124210" not in json.dumps(log)  # the log names parties by id, not by ID number
    mine = (await client.get("/v1/audit-log", params={"actor": "C371002"}, headers=AUDITOR)).json()
    assert len(mine) == 1


async def test_a_lookup_needs_a_case_of_the_courts_own_naming_the_party(intake) -> None:
    client, runtime = intake
    await client.post("/v1/address-confirmations", json=confirmation(), headers=COURT)
    body = {"party": ZHANG, "purpose": "核实送达地址"}
    stranger = {**ZHANG, "id_number": "110101199003074477", "name": "李四"}
    refusals = [
        (COURT, {**body}, "case_number"),  # no case at all
        (COURT, {**body, "case_number": "（2026）京0105民初0999号"}, "case_number"),  # another court's case
        (COURT, {**body, "case_number": "（2026）鲁1002民初0998号"}, "party"),  # its own case, which does not name the party
        (COURT, {**body, "party": stranger, "case_number": FIRST_INSTANCE}, "party"),  # unknown answers like not named
        (token(Role.court, "C110105"), {**body, "case_number": FIRST_INSTANCE}, "case_number"),
        (token(Role.court, "C999999"), {**body, "case_number": FIRST_INSTANCE}, None),  # not a registered court
    ]
    for headers, lookup, field in refusals:
        response = await client.post("/v1/address-lookups", json=lookup, headers=headers)
        assert (response.status_code, response.headers["content-type"]) == (403, "application/problem+json"), response.text
        assert [e["field"] for e in response.json().get("errors", [])] == ([field] if field else [])
        assert "文化中路" not in response.text
    assert (await client.post("/v1/address-lookups", json={**body, "case_number": FIRST_INSTANCE}, headers=AGENT)).status_code == 403
    log = (await client.get("/v1/audit-log", headers=AUDITOR)).json()
    assert [e["outcome"].split(":")[0] for e in log] == ["refused"] * len(refusals)
    assert await count(runtime, IntakeParty) == 1


async def test_a_bad_confirmation_is_a_problem_and_writes_nothing(intake) -> None:
    client, runtime = intake
    future = (date.today() + timedelta(days=3)).isoformat()
    for body, field in [(confirmation(confirmed_at=future), "confirmed_at"), (confirmation(phone="12"), "phone")]:
        response = await client.post("/v1/address-confirmations", json=body, headers=COURT)
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        assert [e["field"] for e in response.json()["errors"]] == [field]
    assert (await count(runtime, IntakeConfirmation), await count(runtime, IntakeParty)) == (0, 0)
    assert (await client.post("/v1/address-confirmations", json=confirmation(), headers=AGENT)).status_code == 403


async def test_an_open_notice_hears_of_a_new_confirmation(intake, kafka, topic_prefix) -> None:
    client, _ = intake
    registered = (await client.post("/v1/notices", json=notice("OPEN-1"), headers=COURT)).json()
    await client.post("/v1/notices", json=notice("OTHER-CASE", case_number="（2026）鲁1002民初0777号"), headers=COURT)
    answer = (await client.post("/v1/address-confirmations", json=confirmation(), headers=COURT)).json()
    assert answer["notices_informed"] == 1
    records = await read_topic(kafka, TopicNames(topic_prefix).physical(topics.INTAKE_EVENTS), expect=3)
    confirmed = [json.loads(r.value) for r in records if json.loads(r.value)["type"] == "intake.AddressConfirmed"]
    assert [(e["subject"], e["data"]["recipient_id"], e["data"]["address"]["text"]) for e in confirmed] == [
        (registered["id"], registered["recipients"][0]["recipient_id"], "山东省威海市环翠区文化中路88号")
    ]


async def test_the_book_learns_what_worked(intake, kafka, topic_prefix) -> None:
    client, _ = intake
    registered = (await client.post("/v1/notices", json=notice("LEARN-1"), headers=COURT)).json()
    recipient_id = registered["recipients"][0]["recipient_id"]
    now = datetime.now(UTC)
    served = [
        RecipientServed(
            notice_id=registered["id"],
            recipient_id=recipient_id,
            method=ServiceMethod.direct,
            channel="visit",
            target="山东省威海市环翠区统一路9号",
            service_date=now.date(),
            legal_basis="CPL 87/88",
            deemed=False,
            served_at=now,
        ),
        RecipientServed(
            notice_id=registered["id"],
            recipient_id=recipient_id,
            method=ServiceMethod.electronic,
            channel="email",
            target="zhangsan@example.com",
            service_date=now.date(),
            legal_basis="CPL 90",
            deemed=False,
            served_at=now,
        ),
        RecipientServed(  # deemed served on return: proves nothing about the address
            notice_id=registered["id"],
            recipient_id=recipient_id,
            method=ServiceMethod.postal,
            channel="court_mail",
            target="山东省威海市环翠区不在路1号",
            service_date=now.date(),
            legal_basis="专递 Art. 11",
            deemed=True,
            served_at=now,
        ),
    ]
    await publish(kafka, TopicNames(topic_prefix).physical(topics.DELIVERY_EVENTS), served, subject=registered["id"], source="songda/delivery")

    async def learned() -> dict[str, Any] | None:
        found = await look_up(client)
        worked = [c for c in found["contacts"] if c["worked_on"]]
        return found if worked and any(p["kind"] == "delivery" for c in found["candidates"] for p in c["provenance"]) else None

    found = await eventually(learned, what="the served address and e-mail in the book")
    by_text = {c["text"]: c for c in found["candidates"]}
    assert by_text["山东省威海市环翠区统一路9号"]["provenance"][0]["basis"] == "法发〔2017〕19号第8条第4项"
    assert "山东省威海市环翠区不在路1号" not in by_text
    assert [(c["kind"], c["value"], c["worked_on"]) for c in found["contacts"] if c["worked_on"]] == [("email", "zhangsan@example.com", now.date().isoformat())]


async def test_the_book_learns_where_an_agent_found_the_party_moved_to(intake, kafka, topic_prefix) -> None:
    client, _ = intake
    registered = (await client.post("/v1/notices", json=notice("MOVED-1"), headers=COURT)).json()
    recipient_id = registered["recipients"][0]["recipient_id"]
    today = datetime.now(UTC).date()
    moved = AddressReported(
        notice_id=registered["id"], recipient_id=recipient_id, address="山东省威海市环翠区海滨北路66号", postcode="264200", observed_on=today, reported_by="agent-huancui-1"
    )
    await publish(kafka, TopicNames(topic_prefix).physical(topics.DELIVERY_EVENTS), [moved], subject=registered["id"], source="songda/delivery")

    async def learned() -> dict[str, Any] | None:
        found = await look_up(client)
        return next((c for c in found["candidates"] if c["text"] == moved.address), None)

    candidate = await eventually(learned, what="the reported new address in the book")
    assert [(p["kind"], p["basis"], p["source_case"], p["expired"]) for p in candidate["provenance"]] == [("delivery", "法发〔2017〕19号第8条第4项", FIRST_INSTANCE, False)]
    assert candidate["postcode"] == "264200"
