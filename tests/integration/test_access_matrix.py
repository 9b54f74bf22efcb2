"""Object-level access on real PostgreSQL and Kafka: every endpoint of every service, called by nine callers, answers exactly as the table says."""

from __future__ import annotations

import copy
import json
import random
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from services.carrier_gateway.config import CarrierGatewaySettings
from services.carrier_gateway.main import create_app as create_gateway
from services.carrier_gateway.models import CarrierItem
from services.console.config import ConsoleSettings
from services.console.main import create_app as create_console
from services.delivery.config import DeliverySettings
from services.delivery.main import create_app as create_delivery
from services.delivery.policy import load_policy
from services.evidence.config import EvidenceSettings
from services.evidence.main import create_app as create_evidence
from services.intake.config import IntakeSettings
from services.intake.main import create_app as create_intake
from shared.contracts.events import DispatchPostalItem
from shared.contracts.topics import CARRIER_GATEWAY_COMMANDS, DELIVERY_EVENTS, INTAKE_EVENTS, TopicNames
from shared.contracts.values import uscc_check_char
from shared.plumbing.auth import Role
from simulators import camera
from simulators.ems_sim.config import EmsSimSettings
from simulators.ems_sim.main import create_app as create_sim
from tests import histories, workbooks
from tests.support import EXAMPLE_NOTICE, EXAMPLES, common, eventually, free_port, publish, resident_id, running, serving, settings, token, upload_examples, without_contact_hours

FIRM = "31370000MD012345" + "6" + uscc_check_char("31370000MD0123456")
OTHER_FIRM = "31370000MD054321" + "6" + uscc_check_char("31370000MD0543216")
OTHER_AGENT = "agent-nobody"
CASE = "（2026）鲁1002民初5150号"
SEEDED = load_policy().agents[-1]

# The callers, in the order of the table's columns.
CALLERS = ("court", "other_court", "agent", "other_agent", "lawyer", "other_lawyer", "supervisor", "auditor", "service")


@dataclass
class World:
    """The objects every call is about, all of court C371002, and the clients of the four services and the console."""

    clients: dict[str, httpx.AsyncClient]
    apps: dict[str, FastAPI]
    notice_id: str = ""
    recipient_id: str = ""
    task_id: str = ""
    agent_id: str = ""
    evidence_id: str = ""
    photo_id: str = ""
    waybill_no: str = ""
    report_notice_id: str = ""
    batch_id: str = ""
    hook: str = ""
    sha256: str = ""
    agreement: dict[str, Any] = field(default_factory=dict)
    # An item of the firm's inbox: the lawyer_firm attempt of a second notice, whose party consented to service through the firm.
    firm_item: str = ""
    headers: dict[str, dict[str, str]] = field(default_factory=dict)


def notice_body() -> dict[str, Any]:
    """A notice with a defendant its lawyer's firm represents and a plaintiff who has none; neither has phone or e-mail, so both get visits."""
    body = copy.deepcopy(EXAMPLE_NOTICE)
    defendant = body["recipients"][0]
    defendant.update(phones=[], emails=[], lawyer={"name": "王律师", "firm": "山东某某律师事务所", "firm_uscc": FIRM})
    plaintiff = {**copy.deepcopy(defendant), "name": "赵六", "role": "plaintiff", "id_number": "371002199001014219", "lawyer": None}
    body.update(court_reference="MATRIX-1", case_number=CASE, recipients=[defendant, plaintiff])
    return body


def batch_upload() -> dict[str, Any]:
    """A workbook of one notice whose defendant's ID number is wrong, for court C371002: its row is refused, so the batch registers nothing."""
    data = workbooks.notices(1, changes={0: {"法院编号": "MATRIX-B-1", "证件号码": "371002198503124211"}})
    return {"files": {"workbook": ("送达任务.xlsx", data, "application/octet-stream")}, "data": {"court_id": "C371002"}}


FIRM_CASE = "（2026）鲁1002民初5151号"
FIRM_CLIENT = {"name": "孙七", "kind": "person", "id_type": "resident_id", "id_number": resident_id(random.Random(5151))}


def firm_notice_body() -> dict[str, Any]:
    """A notice whose one party is the firm's client and agreed to service through the firm's mailbox (a lawyer_firm attempt first)."""
    body = copy.deepcopy(EXAMPLE_NOTICE)
    client = {**body["recipients"][0], **FIRM_CLIENT, "phones": [], "emails": []}
    client["lawyer"] = {"name": "王律师", "firm": "山东某某律师事务所", "firm_uscc": FIRM}
    body.update(court_reference="MATRIX-FIRM-1", case_number=FIRM_CASE, recipients=[client])
    return body


def firm_consent_body() -> dict[str, Any]:
    return {
        "case_number": FIRM_CASE,
        "stage": "first_instance",
        "party": FIRM_CLIENT,
        "address": {"text": EXAMPLE_NOTICE["recipients"][0]["addresses"][0]["text"], "postcode": "264200"},
        "e_delivery": {"consent": True, "channels": [{"channel": "lawyer_firm", "address": "inbox@firm.example"}]},
        "confirmed_at": "2026-11-20",
    }


def confirmation_body() -> dict[str, Any]:
    defendant = EXAMPLE_NOTICE["recipients"][0]
    return {
        "case_number": CASE,
        "stage": "first_instance",
        "party": {k: defendant[k] for k in ("name", "kind", "id_type", "id_number")},
        "address": {"text": defendant["addresses"][0]["text"], "postcode": "264200"},
        "confirmed_at": "2026-11-20",
    }


@pytest.fixture
async def world(kafka: str, topic_prefix: str, make_database, tmp_path: Path) -> AsyncIterator[World]:
    # The e-delivery page and the webhooks are called by every caller here: the limits are not under test.
    base = common(
        kafka=kafka,
        prefix=topic_prefix,
        rate_limit_edelivery="10000/minute",
        rate_limit_edelivery_misses="10000/minute",
        rate_limit_webhooks="10000/minute",
        rate_limit_webhook_forgeries="10000/minute",
        rate_limit_health="10000/minute",
    )
    sim_port = free_port()
    async with AsyncExitStack() as exits:
        sim_url = await exits.enter_async_context(serving(create_sim(EmsSimSettings(port=sim_port, seed=5, common=base)), sim_port))
        configs = {
            "intake": settings(IntakeSettings, database_url=await make_database("intake"), kafka=kafka, prefix=topic_prefix),
            "delivery": settings(
                DeliverySettings,
                database_url=await make_database("delivery"),
                kafka=kafka,
                prefix=topic_prefix,
                twilio_origin="http://127.0.0.1:9",
                policy_file=without_contact_hours(tmp_path / "delivery"),
            ),
            "carrier_gateway": settings(
                CarrierGatewaySettings, database_url=await make_database("gateway"), kafka=kafka, prefix=topic_prefix, ems_origin=sim_url, booking_poll_ms=50
            ),
            "evidence": settings(
                EvidenceSettings,
                database_url=await make_database("evidence"),
                kafka=kafka,
                prefix=topic_prefix,
                blob_dir=tmp_path / "blobs",
                checkpoint_every_s=0.5,
                webhook_require_https=False,
                webhook_allowed_networks=["127.0.0.1/32"],
            ),
        }
        # The console's pages are not in its OpenAPI document (they are for browsers, with tests of their own); its API is.
        configs["console"] = settings(ConsoleSettings, database_url=await make_database("console"), kafka=kafka, prefix=topic_prefix)
        makers: dict[str, Callable[..., FastAPI]] = {
            "intake": create_intake,
            "delivery": create_delivery,
            "carrier_gateway": create_gateway,
            "evidence": create_evidence,
            "console": create_console,
        }
        apps = {name: makers[name](config.model_copy(update={"common": base})) for name, config in configs.items()}
        clients = {name: await exits.enter_async_context(running(app)) for name, app in apps.items()}
        w = World(clients=clients, apps=apps)
        await _build(w, kafka=kafka, names=TopicNames(topic_prefix))
        yield w


async def _build(w: World, *, kafka: str, names: TopicNames) -> None:
    """Makes one of each object through the services' own paths, and the callers' tokens."""
    court = token(Role.court, "C371002")
    intake, delivery, gateway, evidence = (w.clients[n] for n in ("intake", "delivery", "carrier_gateway", "evidence"))
    assert (await intake.post("/v1/address-confirmations", json=confirmation_body(), headers=court)).status_code == 201
    await upload_examples(intake, "", headers=court)
    w.sha256 = EXAMPLE_NOTICE["documents"][0]["sha256"]
    submitted = await intake.post("/v1/notices", json=notice_body(), headers=court)
    assert submitted.status_code == 201, submitted.text
    w.notice_id = submitted.json()["id"]
    w.recipient_id = submitted.json()["recipients"][0]["recipient_id"]
    assert (await intake.post("/v1/address-confirmations", json=firm_consent_body(), headers=court)).status_code == 201
    firm_notice = await intake.post("/v1/notices", json=firm_notice_body(), headers=court)
    assert firm_notice.status_code == 201, firm_notice.text
    batch = await intake.post("/v1/notice-batches", headers=court, **batch_upload())
    assert batch.status_code == 202, batch.text
    w.batch_id = batch.json()["batch_id"]

    async def visit() -> dict[str, Any] | None:
        response = await delivery.get(f"/v1/notices/{w.notice_id}/delivery", headers=court)
        tasks = (
            [t for r in response.json()["recipients"] if r["recipient_id"] == w.recipient_id for t in r["tasks"] if t["status"] == "open"] if response.status_code == 200 else []
        )
        return tasks[0] if tasks else None

    task = await eventually(visit, what="a visit to the defendant")
    w.task_id, w.agent_id = task["task_id"], task["agent_id"]
    agent = token(Role.agent, w.agent_id)

    async def uploaded() -> httpx.Response | None:
        response = await evidence.post("/v1/evidence", files=_item(w), headers=agent)
        return response if response.status_code == 201 else None

    w.evidence_id = (await eventually(uploaded, what="evidence to know the task")).json()["id"]
    w.photo_id = (await evidence.post("/v1/evidence", files=_photo(w), headers=agent)).json()["id"]

    command = DispatchPostalItem(
        notice_id=w.notice_id,
        recipient_id=w.recipient_id,
        attempt_id=str(uuid.uuid4()),
        court_id="C371002",
        court_name="威海市环翠区人民法院",
        case_number=CASE,
        receiver_name="张三",
        receiver_phone=None,
        address=histories.ADDRESS,
        postcode="264200",
        documents=["传票"],
    )
    await publish(kafka, names.physical(CARRIER_GATEWAY_COMMANDS), [command], subject=w.notice_id)

    async def booked() -> str | None:
        async with w.apps["carrier_gateway"].state.runtime.db.sessions() as session:
            item = await session.get(CarrierItem, command.attempt_id)
        return item.waybill_no if item and item.waybill_no else None

    w.waybill_no = await eventually(booked, what="the court mail to be booked")

    async def served_on_the_firm() -> str | None:
        items = (await delivery.get("/v1/firm/inbox", headers=token(Role.lawyer, FIRM))).json()["items"]
        return next((i["attempt_id"] for i in items if i["notice_id"] == firm_notice.json()["id"]), None)

    w.firm_item = await eventually(served_on_the_firm, what="the firm's notice in its inbox")

    history = histories.postal(histories.registered())
    for source, event in history.events:
        topic = {"intake": INTAKE_EVENTS, "delivery": DELIVERY_EVENTS}.get(source, "carrier_gateway.events")
        await publish(kafka, names.physical(topic), [event], subject=history.notice_id, source=f"songda/{source}")
    w.report_notice_id = history.notice_id

    async def reported() -> bool:
        return (await evidence.get(f"/v1/reports/{history.notice_id}", headers=court)).status_code == 200 and (
            await evidence.get("/v1/log/checkpoint", headers=court)
        ).status_code == 200

    await eventually(reported, what="the report and a checkpoint")
    w.agreement = await _registered_firm(w)
    w.hook = f"http://127.0.0.1:{free_port()}/reports"
    assert (await evidence.put("/v1/courts/C371002/webhook", json={"url": w.hook}, headers=court)).status_code == 200
    w.headers = {
        "court": court,
        "other_court": token(Role.court, "C110105"),
        "agent": agent,
        "other_agent": token(Role.agent, OTHER_AGENT),
        "lawyer": token(Role.lawyer, FIRM),
        "other_lawyer": token(Role.lawyer, OTHER_FIRM),
        "supervisor": token(Role.supervisor, "S-1"),
        "auditor": token(Role.auditor, "AU-1"),
        "service": token(Role.service, "svc-1"),
    }


async def _registered_firm(w: World) -> dict[str, Any]:
    """Files FIRM's agreement as evidence and registers the firm for court C371002, after the world's notice (its defendant keeps the visit)."""
    meta = {"notice_id": f"firm:{FIRM}", "kind": "firm_agreement"}
    files = {"metadata": (None, json.dumps(meta), "application/json"), "file": ("agreement.pdf", (EXAMPLES / "summons.pdf").read_bytes(), "application/pdf")}
    filed = await w.clients["evidence"].post("/v1/evidence", files=files, headers=token(Role.supervisor, "S-1"))
    assert filed.status_code == 201, filed.text
    entry = firm_body(filed.json())
    assert (await w.clients["intake"].put(f"/v1/firms/{FIRM}", json=entry, headers=token(Role.supervisor, "S-1"))).status_code == 201
    return entry


def firm_body(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": "山东某某律师事务所",
        "email": "songda@firm.example.cn",
        "agreement": {"evidence_id": item["id"], "sha256": item["sha256"]},
        "court_ids": ["C371002"],
        "valid_from": "2026-01-01",
        "valid_to": "2027-12-31",
    }


def _item(w: World) -> dict[str, Any]:
    meta = {"notice_id": w.notice_id, "kind": "call_record", "task_id": w.task_id, "details": {"to": "家属", "minutes": 2}}
    return {"metadata": (None, json.dumps(meta), "application/json")}


def _photo(w: World) -> dict[str, Any]:
    meta = {"notice_id": w.notice_id, "kind": "photo", "scene": "visit", "task_id": w.task_id}
    return {"metadata": (None, json.dumps(meta), "application/json"), "file": ("door.jpg", camera.jpeg(), "image/jpeg")}


@dataclass(frozen=True)
class Call:
    """One endpoint: how to call it about the world's objects, and what each caller must get."""

    service: str
    method: str
    path: str
    expect: tuple[int, ...]
    url: Callable[[World], str]
    body: Callable[[World], dict[str, Any]] = lambda w: {}


def _today() -> str:
    return date.today().isoformat()


# What each caller gets, in the order of CALLERS:
#  court, other court, assigned agent, other agent, lawyer of the represented firm, other firm's lawyer, supervisor, auditor, service.
# 404 is "not yours" answered exactly like "not there"; 403 is a role the endpoint never admits (or a case or task that is not the caller's).
TABLE: tuple[Call, ...] = (
    # intake
    Call("intake", "get", "/healthz", (200,) * 9, lambda w: "/healthz"),
    Call("intake", "get", "/v1/audit-log", (403, 403, 403, 403, 403, 403, 200, 200, 403), lambda w: "/v1/audit-log"),
    # Uploading for C371002: the court again (200), a service or supervisor naming it; another court may upload only for itself.
    Call(
        "intake",
        "post",
        "/v1/documents",
        (200, 403, 403, 403, 403, 403, 200, 403, 200),
        lambda w: "/v1/documents",
        lambda w: {"files": {"file": ("起诉状副本.pdf", (EXAMPLES / "complaint_copy.pdf").read_bytes(), "application/pdf")}, "data": {"court_id": "C371002"}},
    ),
    Call("intake", "get", "/v1/documents/{sha256}", (200, 404, 403, 403, 403, 403, 200, 200, 200), lambda w: f"/v1/documents/{w.sha256}"),
    Call("intake", "post", "/v1/notices", (200, 403, 403, 403, 403, 403, 200, 403, 200), lambda w: "/v1/notices", lambda w: {"json": notice_body()}),
    # A batch for C371002: another court naming it is refused whole, before any item is looked at.
    Call("intake", "post", "/v1/notices/batch", (200, 403, 403, 403, 403, 403, 200, 403, 200), lambda w: "/v1/notices/batch", lambda w: {"json": {"notices": [notice_body()]}}),
    Call("intake", "get", "/v1/notices/{notice_id}", (200, 404, 403, 403, 200, 404, 200, 200, 200), lambda w: f"/v1/notices/{w.notice_id}"),
    Call(
        "intake", "post", "/v1/address-confirmations", (200, 403, 403, 403, 403, 403, 403, 403, 200), lambda w: "/v1/address-confirmations", lambda w: {"json": confirmation_body()}
    ),
    Call(
        "intake",
        "post",
        "/v1/address-lookups",
        (200, 403, 403, 403, 403, 403, 200, 403, 200),
        lambda w: "/v1/address-lookups",
        lambda w: {"json": {"party": confirmation_body()["party"], "case_number": CASE, "purpose": "核实送达地址"}},
    ),
    Call("intake", "get", "/v1/notice-batches/template.xlsx", (200,) * 9, lambda w: "/v1/notice-batches/template.xlsx"),
    # A court submits for itself, a supervisor or a service names the court; the workbook's one notice is refused by the worker, so nothing is registered.
    Call("intake", "post", "/v1/notice-batches", (202, 403, 403, 403, 403, 403, 202, 403, 202), lambda w: "/v1/notice-batches", lambda w: batch_upload()),
    Call("intake", "get", "/v1/notice-batches/{batch_id}", (200, 404, 403, 403, 403, 403, 200, 200, 200), lambda w: f"/v1/notice-batches/{w.batch_id}"),
    Call("intake", "get", "/v1/courts", (200,) * 9, lambda w: "/v1/courts"),
    Call("intake", "get", "/v1/courts/{court_id}", (200,) * 9, lambda w: "/v1/courts/C371002"),
    Call(
        "intake",
        "put",
        "/v1/courts/{court_id}",
        (403, 403, 403, 403, 403, 403, 200, 403, 403),
        lambda w: "/v1/courts/C371002",
        lambda w: {"json": {"name": "威海市环翠区人民法院", "case_code": "鲁1002", "active": True}},
    ),
    # The firm registry: a lawyer reads its own firm, a court a firm covering it; others are told it does not exist.
    Call("intake", "get", "/v1/firms", (200, 200, 403, 403, 200, 200, 200, 200, 200), lambda w: "/v1/firms"),
    Call("intake", "get", "/v1/firms/{uscc}", (200, 404, 403, 403, 200, 404, 200, 200, 200), lambda w: f"/v1/firms/{FIRM}"),
    Call("intake", "put", "/v1/firms/{uscc}", (403, 403, 403, 403, 403, 403, 200, 403, 403), lambda w: f"/v1/firms/{FIRM}", lambda w: {"json": w.agreement}),
    # delivery
    Call("delivery", "get", "/healthz", (200,) * 9, lambda w: "/healthz"),
    Call("delivery", "get", "/v1/audit-log", (403, 403, 403, 403, 403, 403, 200, 200, 403), lambda w: "/v1/audit-log"),
    Call("delivery", "get", "/v1/notices/{notice_id}/delivery", (200, 404, 200, 404, 200, 404, 200, 200, 200), lambda w: f"/v1/notices/{w.notice_id}/delivery"),
    # Authorised callers reach the recipient and are told it is not yet awaiting a public notice (409); the state is not changed.
    Call(
        "delivery",
        "post",
        "/v1/notices/{notice_id}/recipients/{recipient_id}/publication",
        (409, 404, 403, 403, 403, 403, 409, 403, 403),
        lambda w: f"/v1/notices/{w.notice_id}/recipients/{w.recipient_id}/publication",
        lambda w: {"json": {"published_on": _today()}},
    ),
    Call("delivery", "get", "/v1/notices", (200, 200, 403, 403, 403, 403, 200, 200, 200), lambda w: "/v1/notices"),
    Call("delivery", "get", "/v1/tasks", (403, 403, 200, 200, 403, 403, 200, 403, 403), lambda w: "/v1/tasks"),
    Call("delivery", "get", "/v1/holds", (403, 403, 403, 403, 403, 403, 200, 200, 200), lambda w: "/v1/holds"),
    # Only a supervisor decides a held service; the world's recipient is not held, so it is told so (409) and nothing changes.
    Call(
        "delivery",
        "post",
        "/v1/holds/{recipient_id}/accept",
        (403, 403, 403, 403, 403, 403, 409, 403, 403),
        lambda w: f"/v1/holds/{w.recipient_id}/accept",
        lambda w: {"json": {"reason": "核实无误"}},
    ),
    Call(
        "delivery",
        "post",
        "/v1/holds/{recipient_id}/revisit",
        (403, 403, 403, 403, 403, 403, 409, 403, 403),
        lambda w: f"/v1/holds/{w.recipient_id}/revisit",
        lambda w: {"json": {"reason": "重新上门"}},
    ),
    # "posted" is not an outcome of a visit: the task's own agent and a supervisor get 422 after access is checked, nothing is recorded.
    Call(
        "delivery",
        "post",
        "/v1/tasks/{task_id}/outcome",
        (403, 403, 422, 404, 403, 403, 422, 403, 403),
        lambda w: f"/v1/tasks/{w.task_id}/outcome",
        lambda w: {"json": {"outcome": "posted", "evidence_ids": ["x"]}},
    ),
    # The team's task pages: the task's own agent and a supervisor; another agent is told the task does not exist.
    Call("delivery", "get", "/v1/tasks/{task_id}", (403, 403, 200, 404, 403, 403, 200, 403, 403), lambda w: f"/v1/tasks/{w.task_id}"),
    Call(
        "delivery",
        "post",
        "/v1/tasks/{task_id}/begin",
        (403, 403, 200, 404, 403, 403, 200, 403, 403),
        lambda w: f"/v1/tasks/{w.task_id}/begin",
        lambda w: {"json": {"reason": "上门前电话预约"}},
    ),
    # An agent the roster does not have: the supervisor gets 422 after access is checked, and the task stays the agent's.
    Call(
        "delivery",
        "post",
        "/v1/tasks/{task_id}/reassign",
        (403, 403, 403, 403, 403, 403, 422, 403, 403),
        lambda w: f"/v1/tasks/{w.task_id}/reassign",
        lambda w: {"json": {"agent_id": OTHER_AGENT, "reason": "人手调整"}},
    ),
    Call("delivery", "get", "/v1/tasks/{task_id}/receipt.pdf", (403, 403, 200, 404, 403, 403, 200, 403, 403), lambda w: f"/v1/tasks/{w.task_id}/receipt.pdf"),
    Call("delivery", "get", "/v1/tasks/{task_id}/print.pdf", (403, 403, 200, 404, 403, 403, 200, 403, 403), lambda w: f"/v1/tasks/{w.task_id}/print.pdf"),
    Call(
        "delivery",
        "get",
        "/v1/tasks/{task_id}/documents/{sha256}",
        (403, 403, 200, 404, 403, 403, 200, 403, 403),
        lambda w: f"/v1/tasks/{w.task_id}/documents/{w.sha256}",
    ),
    Call("delivery", "get", "/v1/agents", (403, 403, 403, 403, 403, 403, 200, 200, 200), lambda w: "/v1/agents"),
    # A seeded agent put as it is: changed in nothing, 200.
    Call(
        "delivery",
        "put",
        "/v1/agents/{agent_id}",
        (403, 403, 403, 403, 403, 403, 200, 403, 403),
        lambda w: f"/v1/agents/{SEEDED.id}",
        lambda w: {"json": {"name": SEEDED.name, "areas": SEEDED.areas, "active": True}},
    ),
    Call(
        "delivery",
        "post",
        "/webhooks/twilio/status",
        (403,) * 9,
        lambda w: "/webhooks/twilio/status?attempt=x",
        lambda w: {"data": {"MessageSid": "SM1", "MessageStatus": "delivered"}},
    ),
    Call("delivery", "get", "/e/{token}", (404,) * 9, lambda w: "/e/" + "A" * 32),
    Call("delivery", "get", "/e/{token}/documents/{number}", (404,) * 9, lambda w: "/e/" + "A" * 32 + "/documents/1"),
    Call("delivery", "get", "/e/{token}/documents/{number}/download", (404,) * 9, lambda w: "/e/" + "A" * 32 + "/documents/1/download"),
    Call("delivery", "post", "/e/{token}/ack", (403,) * 9, lambda w: "/e/" + "A" * 32 + "/ack"),
    # A firm's inbox: its lawyers alone; another firm's item answers as a missing one. The acknowledgement comes last: it changes the item.
    Call("delivery", "get", "/v1/firm/inbox", (403, 403, 403, 403, 200, 200, 403, 403, 403), lambda w: "/v1/firm/inbox"),
    Call("delivery", "get", "/v1/firm/inbox/{attempt_id}", (403, 403, 403, 403, 200, 404, 403, 403, 403), lambda w: f"/v1/firm/inbox/{w.firm_item}"),
    Call(
        "delivery",
        "get",
        "/v1/firm/inbox/{attempt_id}/documents/{number}",
        (403, 403, 403, 403, 200, 404, 403, 403, 403),
        lambda w: f"/v1/firm/inbox/{w.firm_item}/documents/1",
    ),
    Call(
        "delivery",
        "get",
        "/v1/firm/inbox/{attempt_id}/documents/{number}/download",
        (403, 403, 403, 403, 200, 404, 403, 403, 403),
        lambda w: f"/v1/firm/inbox/{w.firm_item}/documents/1/download",
    ),
    Call(
        "delivery",
        "post",
        "/v1/firm/inbox/{attempt_id}/acknowledge",
        (403, 403, 403, 403, 200, 404, 403, 403, 403),
        lambda w: f"/v1/firm/inbox/{w.firm_item}/acknowledge",
    ),
    # A bounce is the mail server's pipe's, signed with the shared secret: no bearer of any role is it.
    Call("delivery", "post", "/webhooks/mail/dsn", (403,) * 9, lambda w: "/webhooks/mail/dsn", lambda w: {"content": b"Subject: bounce\r\n\r\n"}),
    Call("delivery", "post", "/webhooks/mail/inbound", (403,) * 9, lambda w: "/webhooks/mail/inbound", lambda w: {"content": b"Subject: Re: notice\r\n\r\n"}),
    Call(
        "delivery",
        "post",
        "/webhooks/twilio/inbound",
        (403,) * 9,
        lambda w: "/webhooks/twilio/inbound",
        lambda w: {"data": {"MessageSid": "SM1", "From": "+8613800138000", "Body": "收到"}},
    ),
    # carrier gateway
    Call("carrier_gateway", "get", "/healthz", (200,) * 9, lambda w: "/healthz"),
    Call("carrier_gateway", "get", "/v1/audit-log", (403, 403, 403, 403, 403, 403, 200, 200, 403), lambda w: "/v1/audit-log"),
    Call("carrier_gateway", "get", "/v1/waybills/{waybill_no}", (200, 404, 403, 403, 403, 403, 200, 200, 200), lambda w: f"/v1/waybills/{w.waybill_no}"),
    Call("carrier_gateway", "post", "/webhooks/ems", (403,) * 9, lambda w: "/webhooks/ems", lambda w: {"json": {"traces": []}}),
    # evidence
    Call("evidence", "get", "/healthz", (200,) * 9, lambda w: "/healthz"),
    Call("evidence", "get", "/v1/audit-log", (403, 403, 403, 403, 403, 403, 200, 200, 403), lambda w: "/v1/audit-log"),
    Call("evidence", "post", "/v1/evidence", (403, 403, 201, 403, 403, 403, 201, 403, 201), lambda w: "/v1/evidence", lambda w: {"files": _item(w)}),
    Call("evidence", "get", "/v1/evidence/{evidence_id}", (200, 404, 200, 404, 403, 403, 200, 200, 200), lambda w: f"/v1/evidence/{w.evidence_id}"),
    Call("evidence", "get", "/v1/evidence/{evidence_id}/content", (200, 404, 200, 404, 403, 403, 200, 200, 200), lambda w: f"/v1/evidence/{w.evidence_id}/content"),
    # A photo's thumbnail, to whoever reaches the item (an item that is no picture has none: tests/unit/test_thumbnails.py).
    Call("evidence", "get", "/v1/evidence/{evidence_id}/thumbnail", (200, 404, 200, 404, 403, 403, 200, 200, 200), lambda w: f"/v1/evidence/{w.photo_id}/thumbnail"),
    Call("evidence", "get", "/v1/notices/{notice_id}/evidence", (200, 404, 403, 403, 403, 403, 200, 200, 200), lambda w: f"/v1/notices/{w.notice_id}/evidence"),
    Call("evidence", "get", "/v1/evidence/{evidence_id}/proof", (200, 404, 200, 404, 403, 403, 200, 200, 200), lambda w: f"/v1/evidence/{w.evidence_id}/proof"),
    Call("evidence", "get", "/v1/log/checkpoint", (200,) * 9, lambda w: "/v1/log/checkpoint"),
    Call("evidence", "get", "/v1/log/consistency", (200,) * 9, lambda w: "/v1/log/consistency?first=1&second=1"),
    Call("evidence", "get", "/v1/reports/{notice_id}.html", (200, 404, 403, 403, 403, 403, 200, 200, 200), lambda w: f"/v1/reports/{w.report_notice_id}.html"),
    Call("evidence", "get", "/v1/reports/{notice_id}.pdf", (200, 404, 403, 403, 403, 403, 200, 200, 200), lambda w: f"/v1/reports/{w.report_notice_id}.pdf"),
    Call("evidence", "get", "/v1/reports/{notice_id}", (200, 404, 403, 403, 403, 403, 200, 200, 200), lambda w: f"/v1/reports/{w.report_notice_id}"),
    Call("evidence", "get", "/v1/reports/{notice_id}/versions", (200, 404, 403, 403, 403, 403, 200, 200, 200), lambda w: f"/v1/reports/{w.report_notice_id}/versions"),
    Call("evidence", "get", "/v1/notices/{notice_id}/timeline", (200, 404, 403, 403, 403, 403, 200, 200, 200), lambda w: f"/v1/notices/{w.notice_id}/timeline"),
    Call(
        "evidence",
        "put",
        "/v1/courts/{court_id}/webhook",
        (200, 404, 403, 403, 403, 403, 200, 403, 403),
        lambda w: "/v1/courts/C371002/webhook",
        lambda w: {"json": {"url": w.hook}},
    ),
    Call("evidence", "get", "/v1/courts/{court_id}/webhook", (200, 404, 403, 403, 403, 403, 200, 403, 403), lambda w: "/v1/courts/C371002/webhook"),
    # A court reads its own court's KPIs (another court's read as a court without notices); a monthly report of another court is missing.
    Call("evidence", "get", "/v1/kpis", (200, 200, 403, 403, 403, 403, 200, 200, 200), lambda w: "/v1/kpis?court_id=C371002&by=week"),
    Call("evidence", "get", "/v1/kpis.csv", (200, 200, 403, 403, 403, 403, 200, 200, 200), lambda w: "/v1/kpis.csv?court_id=C371002&by=agent"),
    Call("evidence", "get", "/v1/kpis/monthly/{court_id}/{month}.pdf", (200, 404, 403, 403, 403, 403, 200, 200, 200), lambda w: "/v1/kpis/monthly/C371002/2026-11.pdf"),
    Call("evidence", "get", "/v1/kpis/monthly/{court_id}/{month}.xlsx", (200, 404, 403, 403, 403, 403, 200, 200, 200), lambda w: "/v1/kpis/monthly/C371002/2026-11.xlsx"),
    # console
    Call("console", "get", "/healthz", (200,) * 9, lambda w: "/healthz"),
    Call("console", "get", "/v1/audit-log", (403, 403, 403, 403, 403, 403, 200, 200, 403), lambda w: "/v1/audit-log"),
)


def operations(app: FastAPI) -> set[tuple[str, str]]:
    """Returns every (method, path) the app's OpenAPI document lists."""
    return {(method, path) for path, ops in app.openapi()["paths"].items() for method in ops}


async def test_every_endpoint_answers_every_caller_as_the_table_says(world: World) -> None:
    w = world
    for service, app in w.apps.items():
        listed = {(c.method, c.path) for c in TABLE if c.service == service}
        assert listed == operations(app), f"{service}: the table and the OpenAPI document differ: {listed ^ operations(app)}"
    assert all(len(c.expect) == len(CALLERS) for c in TABLE)

    wrong = []
    for call in TABLE:
        for caller, expected in zip(CALLERS, call.expect, strict=True):
            response = await w.clients[call.service].request(call.method.upper(), call.url(w), headers=w.headers[caller], **call.body(w))
            if response.status_code != expected:
                wrong.append(f"{call.service} {call.method.upper()} {call.path} as {caller}: {response.status_code}, expected {expected}: {response.text[:160]}")
            elif expected == 404 and response.headers["content-type"] == "application/problem+json":
                # Not yours reads exactly like not there: compare with a made-up id of the same endpoint.
                missing = await w.clients[call.service].request(call.method.upper(), _made_up(call, w), headers=w.headers[caller], **call.body(w))
                if (missing.status_code, missing.json()["title"]) != (404, response.json()["title"]):
                    wrong.append(f"{call.service} {call.path} as {caller}: a missing object answers {missing.status_code} {missing.text[:120]}")
    cells = len(TABLE) * len(CALLERS)
    print(f"access matrix: {len(TABLE)} endpoints x {len(CALLERS)} callers = {cells} cells, {cells - len(wrong)} as expected")
    assert not wrong, "\n".join(wrong)


def _made_up(call: Call, w: World) -> str:
    url = call.url(w)
    for known in (w.notice_id, w.evidence_id, w.photo_id, w.waybill_no, w.report_notice_id, w.task_id, w.sha256, w.batch_id, w.firm_item):
        url = url.replace(known, "0" * 8 + known[8:]) if known else url
    return url


async def test_lists_and_views_show_each_caller_only_its_own(world: World) -> None:
    w = world
    delivery, intake = w.clients["delivery"], w.clients["intake"]
    by_lawyer = (await intake.get(f"/v1/notices/{w.notice_id}", headers=w.headers["lawyer"])).json()
    assert [r["recipient_id"] for r in by_lawyer["recipients"]] == [w.recipient_id]  # the firm's client, not the other side
    assert len((await intake.get(f"/v1/notices/{w.notice_id}", headers=w.headers["court"])).json()["recipients"]) == 2
    lawyer_view = (await delivery.get(f"/v1/notices/{w.notice_id}/delivery", headers=w.headers["lawyer"])).json()
    assert [r["recipient_id"] for r in lawyer_view["recipients"]] == [w.recipient_id]
    agent_view = (await delivery.get(f"/v1/notices/{w.notice_id}/delivery", headers=w.headers["agent"])).json()
    assert w.recipient_id in [r["recipient_id"] for r in agent_view["recipients"]]
    assert all(t["agent_id"] == w.agent_id for r in agent_view["recipients"] for t in r["tasks"] if t["status"] == "open")
    assert all(t["notice_id"] != w.notice_id for t in (await delivery.get("/v1/tasks", headers=w.headers["other_agent"])).json())
    assert w.task_id in [t["task_id"] for t in (await delivery.get("/v1/tasks", headers=w.headers["agent"])).json()]
    # The notice list: a court its own notices; another court never sees them, even when it asks for that court.
    own = (await delivery.get("/v1/notices", headers=w.headers["court"])).json()["items"]
    assert w.notice_id in [n["notice_id"] for n in own] and {n["court_id"] for n in own} == {"C371002"}
    for query in ({}, {"court": "C371002"}, {"case_number": CASE}):
        listed = (await delivery.get("/v1/notices", params=query, headers=w.headers["other_court"])).json()
        assert listed == {"items": [], "next_cursor": None}, query
    assert w.notice_id in [n["notice_id"] for n in (await delivery.get("/v1/notices", params={"party": "赵六"}, headers=w.headers["auditor"])).json()["items"]]
    # A supervisor's and an auditor's reads are in each service's audit log.
    await intake.get(f"/v1/notices/{w.notice_id}", headers=w.headers["auditor"])
    await intake.get(f"/v1/notice-batches/{w.batch_id}", headers=w.headers["supervisor"])
    await delivery.get(f"/v1/notices/{w.notice_id}/delivery", headers=w.headers["supervisor"])
    await w.clients["carrier_gateway"].get(f"/v1/waybills/{w.waybill_no}", headers=w.headers["auditor"])
    await delivery.get("/v1/holds", headers=w.headers["supervisor"])
    for service, action in (
        ("intake", "notice.read"),
        ("intake", "notice_batch.read"),
        ("delivery", "delivery.read"),
        ("delivery", "notices.list"),
        ("delivery", "holds.read"),
        ("carrier_gateway", "waybill.read"),
    ):
        log = (await w.clients[service].get("/v1/audit-log", headers=w.headers["auditor"])).json()
        assert action in [e["action"] for e in log], service
