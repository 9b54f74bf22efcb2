"""The demo's day on the stack as processes: the scripted notices go out, those with working phones and mailboxes are served, and the robot works the visits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from shared.contracts.values import uscc_check_char
from shared.plumbing.auth import Role
from shared.plumbing.clock import ScaledClock
from songda import demo
from tests.support import SECRET, eventually

OTHER_FIRM = "31370000MD0543216" + uscc_check_char("31370000MD0543216")


async def test_the_demo_day_serves_the_reachable_and_the_robot_works_the_visits(kafka, topic_prefix, make_database, service_stack) -> None:
    now = datetime.now(UTC)
    clock = ScaledClock(epoch=demo.next_morning(now), anchor=now + timedelta(seconds=20), scale=540.0)
    stack = await service_stack(kafka=kafka, prefix=topic_prefix, make_database=make_database, extra_env=clock.environment())
    day = demo.Demo(urls={name: stack.url(name) for name in stack.ports}, clock=clock, secret=SECRET)
    supervisor = day.headers(Role.supervisor, "demo-test")
    electronic = {p.name for p in demo.PARTIES if p.consent != "none" and p.sms == {"outcome": "delivered"}}
    represented = {p.name for p in demo.PARTIES if p.lawyer}
    yours = {p.name for p in demo.PARTIES if p.visits == "you"}
    robots = {p.name for p in demo.PARTIES if p.visits == "robot" and p.mail is not None}
    async with httpx.AsyncClient(timeout=30) as client:
        notices = await demo.seed(client, day)
        assert len(notices) == len(demo.PARTIES) == len(set(notices))

        async def served_electronically() -> set[str] | None:
            await demo.robot_round(client, day)
            announced = set(day.completed)
            page = (await client.get(f"{stack.url('delivery')}/v1/notices", params={"status": "completed", "limit": 100}, headers=supervisor)).json()
            lines = await demo.newly_completed(client, day)
            # Read after the page, the announcements cover every notice it lists, each once.
            assert {row["notice_id"] for row in page["items"]} <= day.completed and len(lines) == len(day.completed - announced)
            names = {r["name"] for row in page["items"] for r in row["recipients"]}
            return names if electronic | represented <= names else None

        served = await eventually(served_electronically, timeout=180, what="the SMS, e-mail and firm's notices to be served")
        assert not served & (yours | robots), "nobody whose phone fails is served electronically"

        # The represented party was served through its lawyer's firm: the item is in the lawyer-demo account's inbox, and no other firm's.
        inbox = (await client.get(f"{stack.url('delivery')}/v1/firm/inbox", headers=day.headers(Role.lawyer, demo.FIRM_USCC))).json()["items"]
        assert {(i["recipient_name"], i["firm_uscc"], i["address"], i["recipient_status"]) for i in inbox} == {
            (name, demo.FIRM_USCC, demo.FIRM_MAILBOX, "served") for name in represented
        }, inbox
        other = (await client.get(f"{stack.url('delivery')}/v1/firm/inbox", headers=day.headers(Role.lawyer, OTHER_FIRM))).json()
        assert other["items"] == []

        async def visits_worked() -> list[dict[str, Any]] | None:
            await demo.robot_round(client, day)
            tasks = (await client.get(f"{stack.url('delivery')}/v1/tasks", headers=supervisor)).json()
            mine = [t for t in tasks if t["recipient_name"] in yours]
            not_found = await _visits_not_found(client, stack.url("delivery"), notices, supervisor)
            done = {t["recipient_name"] for t in mine} == yours and all(t["agent_id"] == demo.YOUR_AGENT for t in mine) and robots <= not_found
            return mine if done else None

        mine = await eventually(visits_worked, timeout=240, what="the newcomer's visits handed over and the robot's first visits found nobody in")
        assert {t["kind"] for t in mine} == {"visit"} and all(t["status"] == "open" for t in mine), "the robot leaves the newcomer's visits to them"


async def _visits_not_found(client: httpx.AsyncClient, delivery: str, notices: list[str], headers: dict[str, str]) -> set[str]:
    """Returns the recipients with a visit that found nobody in."""
    names = set()
    for notice_id in notices:
        for recipient in (await client.get(f"{delivery}/v1/notices/{notice_id}/delivery", headers=headers)).json()["recipients"]:
            if any(a["channel"] == "visit" and a["status"] == "failed" for a in recipient["attempts"]):
                names.add(recipient["name"])
    return names
