"""The notice flow over HTTP against the four services running as processes."""

from __future__ import annotations

import httpx

from shared.plumbing.auth import Role
from tests.support import EXAMPLE_NOTICE, eventually, token, upload_examples

COURT = token(Role.court, "C371002")


async def test_a_notice_reaches_delivery_and_evidence(kafka, topic_prefix, make_database, service_stack) -> None:
    stack = await service_stack(kafka=kafka, prefix=topic_prefix, make_database=make_database)
    async with httpx.AsyncClient(timeout=10) as client:
        health = {name: (await client.get(f"{stack.url(name)}/healthz")).json() for name in stack.ports}
        assert {name: h["status"] for name, h in health.items()} == dict.fromkeys(stack.ports, "ok")

        await upload_examples(client, stack.url("intake"), headers=COURT)
        submitted = await client.post(f"{stack.url('intake')}/v1/notices", json=EXAMPLE_NOTICE, headers=COURT)
        assert submitted.status_code == 201, submitted.text
        notice_id = submitted.json()["id"]

        async def delivered() -> httpx.Response | None:
            response = await client.get(f"{stack.url('delivery')}/v1/notices/{notice_id}/delivery", headers=COURT)
            return response if response.status_code == 200 else None

        async def recorded() -> httpx.Response | None:
            response = await client.get(f"{stack.url('evidence')}/v1/notices/{notice_id}/timeline", headers=COURT)
            return response if response.status_code == 200 and response.json()["entries"] else None

        assert (await eventually(delivered, what="delivery to show the notice")).json()["status"] == "in_progress"
        entries = (await eventually(recorded, what="evidence to record the notice")).json()["entries"]
        assert entries[0]["event_type"] == "intake.NoticeRegistered"

        again = await client.post(f"{stack.url('intake')}/v1/notices", json=EXAMPLE_NOTICE, headers=COURT)
        assert (again.status_code, again.json()["id"]) == (200, notice_id)
        # Only the gateway's own command topic is consumed there; it saw nothing to do.
        gateway = (await client.get(f"{stack.url('carrier_gateway')}/healthz", headers=stack.overseer_headers())).json()
        assert gateway["consumer"]["applied"] == 0

        bad = {**EXAMPLE_NOTICE, "court_reference": "bad-1", "recipients": [{**EXAMPLE_NOTICE["recipients"][0], "id_number": "371002198503124211"}]}
        assert (await client.post(f"{stack.url('intake')}/v1/notices", json=bad, headers=COURT)).status_code == 422

    recipient = EXAMPLE_NOTICE["recipients"][0]
    personal = [recipient["id_number"], "371002198503124211", recipient["phones"][0], recipient["emails"][0], recipient["addresses"][0]["text"], recipient["name"]]
    logs = "".join(path.read_text(errors="replace") for path in stack.log_dir.glob("*.log"))
    assert logs, "the services wrote no logs at all"
    assert [value for value in personal if value in logs] == []
