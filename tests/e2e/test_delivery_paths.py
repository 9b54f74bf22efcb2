"""The three delivery paths end to end: every service and the Twilio simulator as processes, on the scaled clock, over HTTP and Kafka."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import httpx
import pytest

from shared.contracts.events import PostalStatus, ReturnReason, TrackingUpdated, WaybillCreated
from shared.contracts.topics import CARRIER_GATEWAY_EVENTS
from shared.plumbing.auth import Role
from shared.plumbing.clock import ScaledClock, local_date
from simulators import camera
from songda.devstack import Stack
from songda.verify import verify_report
from tests.support import eventually, publish, submit_with_consent, token, until

COURT = token(Role.court, "C371002")
SUPERVISOR = token(Role.supervisor, "sup-1")


@pytest.fixture
async def stack(kafka, topic_prefix, make_database, service_stack, domain_clock: ScaledClock) -> Stack:
    return await service_stack(kafka=kafka, prefix=topic_prefix, make_database=make_database, extra_env=domain_clock.environment())


def waiting_for(client: httpx.AsyncClient, stack: Stack, notice_id: str, check: Callable[[dict[str, Any]], bool]) -> Callable[[], Awaitable[dict[str, Any] | None]]:
    async def probe() -> dict[str, Any] | None:
        response = await client.get(f"{stack.url('delivery')}/v1/notices/{notice_id}/delivery", headers=SUPERVISOR)
        if response.status_code != 200:
            return None
        recipient = response.json()["recipients"][0]
        return recipient if check(recipient) else None

    return probe


async def open_task(client: httpx.AsyncClient, stack: Stack, notice_id: str) -> str:
    return (await open_task_view(client, stack, notice_id))["task_id"]


async def open_task_view(client: httpx.AsyncClient, stack: Stack, notice_id: str) -> dict[str, Any]:
    recipient = await eventually(waiting_for(client, stack, notice_id, lambda r: any(t["status"] == "open" for t in r["tasks"])), what="an open task")
    return next(t for t in recipient["tasks"] if t["status"] == "open")


async def photographed_at(clock: ScaledClock, task: dict[str, Any]) -> datetime:
    """Returns when the agent photographs at the door: the stack's "now", read at that moment, within the visit's window.

    However long the way to the visit took, the photo is never from the future and never outside the window: a visit
    planned for a later day is waited for on the domain clock, and a window already over was photographed at its end
    (the agent uploads later). EXIF keeps whole seconds, so the moment does too.
    """
    start, end = datetime.fromisoformat(task["window_start"]), datetime.fromisoformat(task["window_end"])
    now = await until(clock, start, what=f"the visit's window to open at {start.isoformat()}")
    return min(now, end).replace(microsecond=0)


async def issued_report(client: httpx.AsyncClient, stack: Stack, notice_id: str) -> dict[str, Any]:
    """Waits for evidence to issue the notice's delivery report and returns it."""

    async def probe() -> dict[str, Any] | None:
        response = await client.get(f"{stack.url('evidence')}/v1/reports/{notice_id}", headers=COURT)
        return response.json() if response.status_code == 200 else None

    return await eventually(probe, timeout=60, what="the delivery report")


async def test_sms_delivered_serves(stack: Stack, domain_clock: ScaledClock) -> None:
    phone = "+8613800138001"
    async with httpx.AsyncClient(timeout=10) as client:
        await client.post(f"{stack.url('twilio_sim')}/sim/script", json={"number": phone, "sms": {"outcome": "delivered"}})
        notice_id, _ = await submit_with_consent(client, stack.url("intake"), phone=phone, consent=True)
        served = await eventually(waiting_for(client, stack, notice_id, lambda r: r["status"] == "served"), timeout=60, what="the SMS to serve")
        assert (served["served"]["method"], served["served"]["channel"], served["legal_basis"]) == ("electronic", "sms", "民事诉讼法第90条；民诉法解释第135条")
        arrived = local_date(datetime.fromisoformat(served["attempts"][-1]["arrived_at"]))
        assert served["service_date"] == arrived.isoformat() and arrived >= local_date(domain_clock.epoch)
        report = await issued_report(client, stack, notice_id)
        [recipient] = report["recipients"]
        assert (recipient["method"], recipient["service_date"], recipient["legal_basis"]) == ("electronic", served["service_date"], served["legal_basis"])
        assert [e["kind"] for e in recipient["attempts"][0]["evidence"]] == ["sms_receipt"]
        assert verify_report(report).ok


async def test_undelivered_sms_then_unanswered_call_then_refusal_with_a_photo(stack: Stack, domain_clock: ScaledClock) -> None:
    phone = "+8613800138002"
    async with httpx.AsyncClient(timeout=10) as client:
        script = {"number": phone, "sms": {"outcome": "undelivered", "error_code": 30006}, "call": {"outcome": "no-answer"}}
        assert (await client.post(f"{stack.url('twilio_sim')}/sim/script", json=script)).status_code in (200, 201)
        notice_id, _ = await submit_with_consent(client, stack.url("intake"), phone=phone, consent=True)
        task = await open_task_view(client, stack, notice_id)
        at_visit = await eventually(waiting_for(client, stack, notice_id, lambda r: r["tier"] == "direct"), what="the visit")
        assert [(a["channel"], a["status"], a["error_code"]) for a in at_visit["attempts"][:2]] == [("sms", "failed", 30006), ("voice", "failed", None)]
        # The agent photographs the refusal at the door, within the visit's window, and uploads it.
        taken = await photographed_at(domain_clock, task)
        metadata = {"notice_id": notice_id, "kind": "photo", "scene": "refusal", "task_id": task["task_id"], "captured_at": taken.isoformat()}
        files = {"metadata": (None, json.dumps(metadata), "application/json"), "file": ("refusal.jpg", camera.jpeg(location=None, taken_at=taken), "image/jpeg")}
        agent = token(Role.agent, task["agent_id"])

        async def uploaded() -> httpx.Response | None:
            response = await client.post(f"{stack.url('evidence')}/v1/evidence", files=files, headers=agent)
            return response if response.status_code == 201 else None

        photo = (await eventually(uploaded, what="evidence to take the photo")).json()
        assert "time_mismatch" not in photo["flags"] and "exif_stripped" not in photo["flags"]
        reported = await client.post(
            f"{stack.url('delivery')}/v1/tasks/{task['task_id']}/outcome", json={"outcome": "refused", "at": taken.isoformat(), "evidence_ids": [photo["id"]]}, headers=SUPERVISOR
        )
        assert reported.status_code == 200, reported.text
        served = await eventually(waiting_for(client, stack, notice_id, lambda r: r["status"] == "served"), what="the refusal to count")
        # CPL 89: documents left on a refusal are deemed served, and the service says why.
        assert (served["served"]["method"], served["legal_basis"], served["served"]["deemed"]) == ("refusal", "民事诉讼法第89条", True)
        assert served["served"]["deemed_reason"].endswith("即视为送达（民事诉讼法第89条）")
        report = await issued_report(client, stack, notice_id)
        assert [e["ref"] for e in report["recipients"][0]["evidence"]] == [photo["id"]]
        assert report["recipients"][0]["method"] == "refusal" and verify_report(report).ok


async def test_nothing_answers_then_court_mail_returns_unclaimed_from_the_confirmed_address(stack: Stack, kafka: str, topic_prefix: str, domain_clock: ScaledClock) -> None:
    phone = "+8613800138003"
    async with httpx.AsyncClient(timeout=10) as client:
        await client.post(f"{stack.url('twilio_sim')}/sim/script", json={"number": phone, "sms": {"outcome": "failed", "error_code": 30008}, "call": {"outcome": "no-answer"}})
        notice_id, _ = await submit_with_consent(client, stack.url("intake"), phone=phone, consent=True)
        for _ in range(3):
            task_id = await open_task(client, stack, notice_id)
            reported = await client.post(f"{stack.url('delivery')}/v1/tasks/{task_id}/outcome", json={"outcome": "not_found"}, headers=SUPERVISOR)
            assert reported.status_code == 200, reported.text
        mailing = await eventually(waiting_for(client, stack, notice_id, lambda r: r["tier"] == "postal"), what="court mail")
        attempt_id = mailing["attempts"][-1]["attempt_id"]
        waybill = "1190000000042"
        await publish(
            kafka,
            topic_prefix + CARRIER_GATEWAY_EVENTS,
            [WaybillCreated(notice_id=notice_id, attempt_id=attempt_id, waybill_no=waybill, created_at=domain_clock.now())],
            subject=notice_id,
        )
        # EMS reports the item back as it happens: the return's time is the stack's "now", read when it is sent.
        returned = domain_clock.now()
        trace = TrackingUpdated(
            notice_id=notice_id, attempt_id=attempt_id, waybill_no=waybill, status=PostalStatus.returned, op_time=returned, op_code="RET", return_reason=ReturnReason.unclaimed
        )
        await publish(kafka, topic_prefix + CARRIER_GATEWAY_EVENTS, [trace], subject=notice_id)
        served = await eventually(waiting_for(client, stack, notice_id, lambda r: r["status"] == "served"), what="the return to count as service")
        assert (served["served"]["method"], served["service_date"], served["served"]["deemed"]) == ("postal", local_date(returned).isoformat(), True)
