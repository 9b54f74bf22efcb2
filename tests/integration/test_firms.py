"""A law firm's standing agreement (OLR Art. 29(2)) on real Kafka and PostgreSQL: filed as evidence, registered, and serving the firm's client."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.delivery.config import DeliverySettings
from services.delivery.main import create_app as create_delivery
from services.evidence.config import EvidenceSettings
from services.evidence.main import create_app as create_evidence
from services.intake.config import IntakeSettings
from services.intake.main import create_app as create_intake
from shared.contracts.topics import INTAKE_EVENTS, TopicNames
from shared.contracts.values import uscc_check_char
from shared.plumbing.auth import Role
from shared.plumbing.clock import local_date
from tests.support import EXAMPLE_NOTICE, eventually, read_topic, running, sample_pdf, settings, token, upload_examples

FIRM = "31370000MD012345" + "6" + uscc_check_char("31370000MD0123456")
OTHER_FIRM = "31370000MD054321" + "6" + uscc_check_char("31370000MD0543216")
MAILBOX = "songda@firm.example.cn"
SUPERVISOR = token(Role.supervisor, "S-1")
COURT = token(Role.court, "C371002")


@dataclass
class Stack:
    intake: httpx.AsyncClient
    delivery: httpx.AsyncClient
    evidence: httpx.AsyncClient


@pytest.fixture
async def stack(kafka: str, topic_prefix: str, make_database, tmp_path: Path) -> AsyncIterator[Stack]:
    async with AsyncExitStack() as exits:
        intake = settings(IntakeSettings, database_url=await make_database("intake"), kafka=kafka, prefix=topic_prefix)
        delivery = settings(DeliverySettings, database_url=await make_database("delivery"), kafka=kafka, prefix=topic_prefix, twilio_origin="http://127.0.0.1:9")
        evidence = settings(EvidenceSettings, database_url=await make_database("evidence"), kafka=kafka, prefix=topic_prefix, blob_dir=tmp_path / "blobs")
        yield Stack(
            intake=await exits.enter_async_context(running(create_intake(intake))),
            delivery=await exits.enter_async_context(running(create_delivery(delivery))),
            evidence=await exits.enter_async_context(running(create_evidence(evidence))),
        )


async def file_agreement(evidence: httpx.AsyncClient, uscc: str, *, headers: dict[str, str] = SUPERVISOR) -> httpx.Response:
    meta = {"notice_id": f"firm:{uscc}", "kind": "firm_agreement", "details": {"title": "电子送达协议"}}
    files = {"metadata": (None, json.dumps(meta), "application/json"), "file": ("协议.pdf", sample_pdf(2, "电子送达协议"), "application/pdf")}
    return await evidence.post("/v1/evidence", files=files, headers=headers)


def firm_entry(item: dict[str, Any], **changes: Any) -> dict[str, Any]:
    today = local_date(datetime.now(UTC))
    body = {
        "name": "山东某某律师事务所",
        "email": MAILBOX,
        "inbox": True,
        "agreement": {"evidence_id": item["id"], "sha256": item["sha256"]},
        "court_ids": ["C371002"],
        "valid_from": (today - timedelta(days=30)).isoformat(),
        "valid_to": (today + timedelta(days=335)).isoformat(),
    }
    return body | changes


def represented_notice() -> dict[str, Any]:
    """The example notice, its defendant represented by a lawyer of FIRM and having given an e-mail address in its defence."""
    body = copy.deepcopy(EXAMPLE_NOTICE)
    defendant = body["recipients"][0]
    defendant["lawyer"] = {"name": "王律师", "firm": "山东某某律师事务所", "firm_uscc": FIRM}
    defendant["e_delivery"] = {"consent": True, "channels": [{"channel": "email", "address": "zhangsan@example.com", "form": "own_filing", "source": "答辩状"}]}
    body["court_reference"] = "FIRM-1"
    return body


async def test_a_firm_s_agreement_serves_its_client_through_the_firm(stack: Stack, kafka: str, topic_prefix: str) -> None:
    # The signed agreement is filed as evidence, by a supervisor only.
    assert (await file_agreement(stack.evidence, FIRM, headers=COURT)).status_code == 403
    filed = await file_agreement(stack.evidence, FIRM)
    assert filed.status_code == 201, filed.text
    item = filed.json()
    assert (item["kind"], item["notice_id"], item["content_type"], item["filename"]) == ("firm_agreement", f"firm:{FIRM}", "application/pdf", "协议.pdf")
    assert (await stack.evidence.get(f"/v1/evidence/{item['id']}", headers=token(Role.auditor, "AU-1"))).status_code == 200
    assert (await stack.evidence.get(f"/v1/evidence/{item['id']}", headers=COURT)).status_code == 404

    # Bad entries name their field and write nothing.
    for body, field in (
        (firm_entry(item, valid_to="2020-01-01"), "valid_to"),
        (firm_entry(item, court_ids=["C371002", "C999999"]), "court_ids[1]"),
        (firm_entry(item, email="no-mailbox"), "email"),
    ):
        refused = await stack.intake.put(f"/v1/firms/{FIRM}", json=body, headers=SUPERVISOR)
        assert (refused.status_code, refused.headers["content-type"]) == (422, "application/problem+json"), refused.text
        assert [e["field"] for e in refused.json()["errors"]] == [field]
    bad_code = await stack.intake.put(f"/v1/firms/{FIRM[:-1]}X", json=firm_entry(item), headers=SUPERVISOR)
    assert [e["field"] for e in bad_code.json()["errors"]] == ["uscc"]
    assert (await stack.intake.get(f"/v1/firms/{FIRM}", headers=SUPERVISOR)).status_code == 404
    assert (await stack.intake.put(f"/v1/firms/{FIRM}", json=firm_entry(item), headers=COURT)).status_code == 403

    registered = await stack.intake.put(f"/v1/firms/{FIRM}", json=firm_entry(item), headers=SUPERVISOR)
    assert registered.status_code == 201, registered.text
    assert registered.json()["agreement"] == {"evidence_id": item["id"], "sha256": item["sha256"]}
    assert (await stack.intake.put(f"/v1/firms/{FIRM}", json=firm_entry(item), headers=SUPERVISOR)).status_code == 200
    log = (await stack.intake.get("/v1/audit-log", headers=token(Role.auditor, "AU-1"))).json()
    assert sorted((e["target"], e["outcome"], e["actor_sub"]) for e in log if e["action"] == "firm.put") == [(FIRM, "added", "S-1"), (FIRM, "changed", "S-1")]

    # Who reads the entry: its own lawyers and the courts it covers; others are told it does not exist.
    for caller, status in ((token(Role.lawyer, FIRM), 200), (token(Role.lawyer, OTHER_FIRM), 404), (COURT, 200), (token(Role.court, "C110105"), 404)):
        assert (await stack.intake.get(f"/v1/firms/{FIRM}", headers=caller)).status_code == status
    assert (await stack.intake.get("/v1/firms", headers=token(Role.court, "C110105"))).json() == []
    assert [f["uscc"] for f in (await stack.intake.get("/v1/firms", headers=token(Role.lawyer, FIRM))).json()] == [FIRM]

    # The firm's client is served through the firm without a confirmation of its own.
    await upload_examples(stack.intake, "", headers=COURT)
    submitted = await stack.intake.post("/v1/notices", json=represented_notice(), headers=COURT)
    assert submitted.status_code == 201, submitted.text
    notice_id = submitted.json()["id"]
    records = await read_topic(kafka, TopicNames(topic_prefix).physical(INTAKE_EVENTS), expect=1)
    registered_events = [json.loads(r.value) for r in records if json.loads(r.value)["type"] == "intake.NoticeRegistered"]
    consent = registered_events[0]["data"]["recipients"][0]["consent"]
    entry = firm_entry(item)
    assert consent == [
        {
            "channel": "email",
            "address": "zhangsan@example.com",
            "source_case": EXAMPLE_NOTICE["case_number"],
            "confirmed_on": local_date(datetime.now(UTC)).isoformat(),
            "form": "own_filing",
            "source": "答辩状",
        },
        {
            "channel": "lawyer_firm",
            "address": MAILBOX,
            "source_case": EXAMPLE_NOTICE["case_number"],
            "confirmed_on": entry["valid_from"],
            "form": "pre_agreed",
            "source": f"山东某某律师事务所与威海市环翠区人民法院的电子送达协议（有效期 {entry['valid_from']} 至 {entry['valid_to']}，协议存证 {item['id'][:8]}）",
        },
    ]

    async def through_the_firm() -> dict[str, Any] | None:
        response = await stack.delivery.get(f"/v1/notices/{notice_id}/delivery", headers=COURT)
        attempts = response.json()["recipients"][0]["attempts"] if response.status_code == 200 else []
        return next((a for a in attempts if a["channel"] == "lawyer_firm"), None)

    attempt = await eventually(through_the_firm, what="delivery to start an attempt through the firm")
    assert (attempt["tier"], attempt["target"]) == ("electronic", MAILBOX)


async def test_an_agreement_that_does_not_cover_the_court_serves_nothing(stack: Stack, kafka: str, topic_prefix: str) -> None:
    item = (await file_agreement(stack.evidence, FIRM)).json()
    assert (await stack.intake.put(f"/v1/firms/{FIRM}", json=firm_entry(item, court_ids=["C110105"]), headers=SUPERVISOR)).status_code == 201
    await upload_examples(stack.intake, "", headers=COURT)
    body = represented_notice()
    del body["recipients"][0]["e_delivery"]
    submitted = await stack.intake.post("/v1/notices", json=body, headers=COURT)
    assert submitted.status_code == 201, submitted.text
    assert submitted.json()["recipients"][0]["consent"] == []
