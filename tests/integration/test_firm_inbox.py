"""A law firm's inbox on PostgreSQL and Kafka, delivery served by uvicorn with a real SMTP server: each firm sees its own, openings and the acknowledgement are recorded with the lawyer, address and browser."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from shared.contracts.events import EDeliveryChannel, Lawyer, NoticeRegistered
from shared.contracts.topics import DELIVERY_EVENTS, INTAKE_EVENTS
from shared.contracts.values import uscc_check_char
from shared.plumbing.auth import Role, mint
from tests.integration.test_delivery import Harness, harness
from tests.support import EXAMPLES, SECRET, eventually, read_topic, registered_notice, token

FIRM_A = "31370000MD0A2345" + "6" + uscc_check_char("31370000MD0A23456")
FIRM_B = "31370000MD0B4321" + "6" + uscc_check_char("31370000MD0B43216")
BROWSER = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) test"
# The console's request on the lawyer's behalf: the browser's address as the console saw it, and its browser.
FORWARDED = {"X-Forwarded-For": "203.0.113.7", "User-Agent": BROWSER}


def lawyer(firm: str, username: str) -> dict[str, str]:
    """Returns the header of a token the console mints for a signed-in lawyer of the firm."""
    return {"Authorization": f"Bearer {mint(secret=SECRET, role=Role.lawyer, sub=firm, issuer='songda', now=datetime.now(UTC), user=username)}"}


def represented(firm: str, mailbox: str) -> NoticeRegistered:
    """Returns a notice whose one recipient a lawyer of the firm represents, with the firm's mailbox consented to (lawyer_firm first)."""
    notice = registered_notice(consent=[(EDeliveryChannel.lawyer_firm, mailbox)], phones=())
    person = notice.recipients[0].model_copy(update={"lawyer": Lawyer(name="王律师", firm=f"山东{firm[-4:]}律师事务所", firm_uscc=firm, email=mailbox)})
    return notice.model_copy(update={"recipients": [person]})


@pytest.fixture
async def h(kafka: str, topic_prefix: str, make_database, tmp_path: Path) -> AsyncIterator[Harness]:
    async with harness(kafka, topic_prefix, await make_database("delivery"), documents=tmp_path / "documents") as running:
        yield running


async def _item_of(h: Harness, firm: str, notice_id: str) -> dict[str, Any]:
    async def listed() -> dict[str, Any] | None:
        answer = await h.delivery.get("/v1/firm/inbox", headers=lawyer(firm, "someone"))
        assert answer.status_code == 200, answer.text
        return next((i for i in answer.json()["items"] if i["notice_id"] == notice_id), None)

    return await eventually(listed, what=f"the notice in firm {firm}'s inbox", timeout=45)


async def test_each_firm_sees_its_own_and_every_opening_and_the_acknowledgement_are_recorded(h: Harness) -> None:
    for_a, for_b = represented(FIRM_A, "inbox@firm-a.example"), represented(FIRM_B, "inbox@firm-b.example")
    for notice in (for_a, for_b):
        await h.publish(INTAKE_EVENTS, notice, notice_id=notice.notice_id)
    mine, theirs = await _item_of(h, FIRM_A, for_a.notice_id), await _item_of(h, FIRM_B, for_b.notice_id)
    assert (mine["case_number"], mine["court_name"], mine["recipient_name"], mine["firm_uscc"], mine["due_date"]) == (
        for_a.case_number,
        "威海市环翠区人民法院",
        "张三",
        FIRM_A,
        for_a.due_date.isoformat(),
    )
    assert [d["title"] for d in mine["documents"]] == ["起诉状副本", "传票"] and mine["address"] == "inbox@firm-a.example"
    assert (mine["opened"], mine["acknowledged"]) == (False, None)
    # Firm A's lawyers never see B's item, and opening it reads exactly like opening one that does not exist.
    listed = (await h.delivery.get("/v1/firm/inbox", headers=lawyer(FIRM_A, "li"))).json()["items"]
    assert {i["firm_uscc"] for i in listed} == {FIRM_A} and theirs["attempt_id"] not in [i["attempt_id"] for i in listed]
    other = f"/v1/firm/inbox/{theirs['attempt_id']}"
    for path in (other, f"{other}/documents/1", f"{other}/documents/1/download"):
        refused, made_up = (
            await h.delivery.get(path, headers=lawyer(FIRM_A, "li")),
            await h.delivery.get(path.replace(theirs["attempt_id"], "no-such-item"), headers=lawyer(FIRM_A, "li")),
        )
        assert (refused.status_code, refused.json()["title"]) == (made_up.status_code, made_up.json()["title"]) == (404, "Not found"), path
    assert (await h.delivery.post(f"{other}/acknowledge", headers=lawyer(FIRM_A, "li"))).status_code == 404
    # Only lawyers use the inbox: a court or a supervisor is refused by role.
    for caller in (token(Role.court, "C371002"), token(Role.supervisor, "sup-1"), token(Role.agent, "agent-1")):
        assert (await h.delivery.get("/v1/firm/inbox", headers=caller)).status_code == 403

    # Opening a document: its bytes, and delivery.DocumentOpened naming the lawyer, the browser's address and its browser.
    complaint = (EXAMPLES / "complaint_copy.pdf").read_bytes()
    await h.documents.put(complaint)
    path = f"/v1/firm/inbox/{mine['attempt_id']}"
    shown = await h.delivery.get(f"{path}/documents/1", headers={**lawyer(FIRM_A, "li"), **FORWARDED})
    assert (shown.status_code, shown.content, shown.headers["content-type"]) == (200, complaint, "application/pdf")
    assert shown.headers["content-disposition"].startswith("inline;")
    missing = await h.delivery.get(f"{path}/documents/2", headers=lawyer(FIRM_A, "li"))
    assert (missing.status_code, missing.headers["content-type"]) == (503, "application/problem+json")
    assert (await h.delivery.get(f"{path}/documents/3", headers=lawyer(FIRM_A, "li"))).status_code == 404
    again = (await h.delivery.get(path, headers=lawyer(FIRM_A, "li"))).json()
    assert again["opened"] is True and again["acknowledged"] is None

    # Acknowledging: the certificate's facts; a second acknowledgement answers the first and records nothing more.
    first = await h.delivery.post(f"{path}/acknowledge", headers={**lawyer(FIRM_A, "li"), **FORWARDED})
    assert first.status_code == 200, first.text
    ack = first.json()["acknowledged"]
    assert (ack["by"], ack["ip"], ack["user_agent"]) == ("li", "203.0.113.7", BROWSER)
    second = await h.delivery.post(f"{path}/acknowledge", headers={**lawyer(FIRM_A, "wang"), "User-Agent": "other"})
    assert second.json()["acknowledged"] == ack

    records = [r for r in await read_topic(h.kafka, h.names.physical(DELIVERY_EVENTS), expect=6) if r.key == for_a.notice_id.encode()]
    events = [json.loads(r.value) for r in records]
    opened = [e["data"] for e in events if e["type"] == "delivery.DocumentOpened"]
    assert [(o["title"], o["disposition"], o["by"], o["ip"], o["user_agent"]) for o in opened] == [("起诉状副本", "view", "li", "203.0.113.7", BROWSER)]
    acks = [e["data"] for e in events if e["type"] == "delivery.DocumentsAcknowledged"]
    assert [(a["by"], a["ip"], a["user_agent"], a["attempt_id"]) for a in acks] == [("li", "203.0.113.7", BROWSER, mine["attempt_id"])]
    # Firm B's item was neither opened nor acknowledged by any of this.
    assert (await h.delivery.get(f"/v1/firm/inbox/{theirs['attempt_id']}", headers=lawyer(FIRM_B, "zhao"))).json()["acknowledged"] is None


async def test_the_inbox_lists_unread_items_first(h: Harness) -> None:
    older, newer = represented(FIRM_A, "inbox@firm-a.example"), represented(FIRM_A, "inbox@firm-a.example")
    await h.publish(INTAKE_EVENTS, older, notice_id=older.notice_id)
    first = await _item_of(h, FIRM_A, older.notice_id)
    await h.publish(INTAKE_EVENTS, newer, notice_id=newer.notice_id)
    second = await _item_of(h, FIRM_A, newer.notice_id)
    ids = [i["attempt_id"] for i in (await h.delivery.get("/v1/firm/inbox", headers=lawyer(FIRM_A, "li"))).json()["items"]]
    assert ids == [second["attempt_id"], first["attempt_id"]]  # both unread: the newest first
    await h.delivery.get(f"/v1/firm/inbox/{second['attempt_id']}", headers=lawyer(FIRM_A, "li"))
    listed = (await h.delivery.get("/v1/firm/inbox", headers=lawyer(FIRM_A, "li"))).json()["items"]
    assert [(i["attempt_id"], i["opened"]) for i in listed] == [(first["attempt_id"], False), (second["attempt_id"], True)]
