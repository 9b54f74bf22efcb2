"""The redirect attack on real PostgreSQL and Kafka: another court records a 送达地址确认书 in a court's case to steer its service; refused, and nothing changes."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import func, select

from services.delivery.config import DeliverySettings
from services.delivery.main import create_app as create_delivery
from services.intake.config import IntakeSettings
from services.intake.main import create_app as create_intake
from services.intake.models import IntakeConfirmation
from shared.contracts.topics import INTAKE_EVENTS, TopicNames
from shared.plumbing.auth import Role
from shared.plumbing.outbox import OutboxMessage
from shared.plumbing.runtime import Runtime
from simulators.twilio_sim.config import TwilioSimSettings
from simulators.twilio_sim.main import create_app as create_sim
from tests.support import EXAMPLE_NOTICE, common, eventually, free_port, read_topic, running, serving, settings, token, upload_examples, without_contact_hours

OWNER = token(Role.court, "C371002")
CASE = "（2026）鲁1002民初4711号"
PARTY_PHONE = "+8613800138001"
ATTACKER_PHONE = "+8613900139999"


@dataclass
class Stack:
    intake: httpx.AsyncClient
    delivery: httpx.AsyncClient
    runtime: Runtime
    kafka: str
    names: TopicNames


@pytest.fixture
async def stack(kafka: str, topic_prefix: str, make_database, tmp_path: Path) -> AsyncIterator[Stack]:
    sim_port = free_port()
    async with AsyncExitStack() as exits:
        sim_url = await exits.enter_async_context(serving(create_sim(TwilioSimSettings(port=sim_port, seed=1, common=common(kafka=kafka, prefix=topic_prefix))), sim_port))
        intake_app = create_intake(settings(IntakeSettings, database_url=await make_database("intake"), kafka=kafka, prefix=topic_prefix))
        intake = await exits.enter_async_context(running(intake_app))
        delivery_settings = settings(
            DeliverySettings,
            database_url=await make_database("delivery"),
            kafka=kafka,
            prefix=topic_prefix,
            twilio_origin=sim_url,
            dispatch_poll_ms=50,
            policy_file=without_contact_hours(tmp_path),
        )
        delivery = await exits.enter_async_context(running(create_delivery(delivery_settings)))
        yield Stack(intake=intake, delivery=delivery, runtime=intake_app.state.runtime, kafka=kafka, names=TopicNames(topic_prefix))


def party() -> dict[str, Any]:
    person = copy.deepcopy(EXAMPLE_NOTICE["recipients"][0])
    person.update(id_number="371002199001014219", phones=[PARTY_PHONE], emails=[])
    return person


def steering(phone: str) -> dict[str, Any]:
    """A confirmation consenting to SMS service at `phone`, for the party in the owner's case."""
    person = party()
    return {
        "case_number": CASE,
        "stage": "first_instance",
        "party": {k: person[k] for k in ("name", "kind", "id_type", "id_number")},
        "address": {"text": person["addresses"][0]["text"], "postcode": "264200"},
        "phone": phone,
        "e_delivery": {"consent": True, "channels": [{"channel": "sms", "address": phone}]},
        "confirmed_at": "2026-11-20",
    }


async def written(s: Stack) -> tuple[int, int]:
    async with s.runtime.db.sessions() as session:
        return await session.scalar(select(func.count()).select_from(IntakeConfirmation)), await session.scalar(select(func.count()).select_from(OutboxMessage))


async def sms_targets(s: Stack, notice_id: str) -> set[str]:
    view = (await s.delivery.get(f"/v1/notices/{notice_id}/delivery", headers=OWNER)).json()
    return {a["target"] for a in view["recipients"][0]["attempts"] if a["channel"] == "sms"}


async def test_another_court_cannot_steer_a_courts_service(stack: Stack) -> None:
    s = stack
    notice = {**EXAMPLE_NOTICE, "court_reference": "ATTACK-1", "case_number": CASE, "recipients": [party()]}
    await upload_examples(s.intake, "", headers=OWNER)
    submitted = await s.intake.post("/v1/notices", json=notice, headers=OWNER)
    assert submitted.status_code == 201, submitted.text
    notice_id = submitted.json()["id"]
    await eventually(lambda: _known(s, notice_id), what="delivery to take the notice")
    before = await written(s)

    attackers = [token(Role.court, "C110105"), token(Role.court, "C999999")]  # a registered court of another place, and one nobody registered
    for attacker in attackers:
        confirmed = await s.intake.post("/v1/address-confirmations", json=steering(ATTACKER_PHONE), headers=attacker)
        assert (confirmed.status_code, confirmed.headers["content-type"]) == (403, "application/problem+json"), confirmed.text
        looked = await s.intake.post("/v1/address-lookups", json={"party": steering(ATTACKER_PHONE)["party"], "case_number": CASE, "purpose": "核实"}, headers=attacker)
        assert looked.status_code == 403 and PARTY_PHONE not in looked.text
        assert (await s.intake.get(f"/v1/notices/{notice_id}", headers=attacker)).status_code == 404
        assert (await s.delivery.get(f"/v1/notices/{notice_id}/delivery", headers=attacker)).status_code == 404
    stolen = await s.intake.post("/v1/notices", json={**notice, "court_reference": "ATTACK-2", "court_id": "C110105"}, headers=attackers[0])
    assert stolen.status_code == 403 and stolen.json()["errors"][0]["field"] == "case_number"
    # The refused court names the case field; the unregistered one is refused before its case is even read.
    refused = await s.intake.post("/v1/address-confirmations", json=steering(ATTACKER_PHONE), headers=attackers[0])
    assert [e["field"] for e in refused.json()["errors"]] == ["case_number"]

    # Nothing was written: no confirmation, no message for delivery; the book holds no trace of the attacker's phone.
    assert await written(s) == before
    records = await read_topic(s.kafka, s.names.physical(INTAKE_EVENTS), expect=1, settle=1.0)
    assert [json.loads(r.value)["type"] for r in records] == ["intake.NoticeRegistered"]
    assert ATTACKER_PHONE not in await sms_targets(s, notice_id)

    # The same confirmation from the case's own court reaches delivery as the consent it serves by: the path the attack aimed at is real.
    own = await s.intake.post("/v1/address-confirmations", json=steering(PARTY_PHONE), headers=OWNER)
    assert (own.status_code, own.json()["notices_informed"]) == (201, 1), own.text
    records = await read_topic(s.kafka, s.names.physical(INTAKE_EVENTS), expect=2)
    confirmed = [json.loads(r.value) for r in records if json.loads(r.value)["type"] == "intake.AddressConfirmed"]
    assert [(e["subject"], [c["address"] for c in e["data"]["consent"]]) for e in confirmed] == [(notice_id, [PARTY_PHONE])]


async def _known(s: Stack, notice_id: str) -> bool:
    return (await s.delivery.get(f"/v1/notices/{notice_id}/delivery", headers=OWNER)).status_code == 200
