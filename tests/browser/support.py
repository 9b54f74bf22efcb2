"""What the browser tests share: the stack they drive and how it makes users and visits, Chromium's settings, and screenshots."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Page

from shared.plumbing.auth import Role
from shared.plumbing.clock import ScaledClock
from songda.devstack import Stack
from tests.support import EXAMPLE_NOTICE, eventually, resident_id, token, upload_examples

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(__file__).parent / "screenshots"
CHROMIUM = Path(os.environ.get("SONGDA_CHROMIUM", "/usr/bin/chromium"))
# Headless in a sandbox-less container, and quiet: no updates, sync, QUIC or other calls home from the test machine.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
# Monday 23 November 2026, 09:00 in Beijing, ten times faster than the wall clock: the morning's visit window (09:00–12:00)
# lasts eighteen real minutes, and a call rings out in seconds.
EPOCH = datetime.fromisoformat(os.environ.get("SONGDA_BROWSER_CLOCK_EPOCH", "2026-11-23T01:00:00+00:00")).astimezone(UTC)
TIME_SCALE = float(os.environ.get("SONGDA_BROWSER_TIME_SCALE", "10"))
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
# The recipient's home, with its coordinates, so that a photo taken at the door passes the place check.
HOME = {"text": "山东省威海市环翠区新威路17号", "postcode": "264200", "source": "filing", "location": {"lat": 37.5131, "lon": 122.1204}}
PASSWORD = "browser-test-password"
AGENTS = ("agent-huancui-1", "agent-huancui-2")
SUPERVISOR = token(Role.supervisor, "browser-supervisor")


@dataclass
class Visit:
    """An open visit delivery made for a notice registered through intake."""

    notice_id: str
    task_id: str
    agent: str
    case_number: str
    phone: str

    @property
    def other_agent(self) -> str:
        return next(a for a in AGENTS if a != self.agent)


@dataclass
class BrowserStack:
    """The stack's processes, its clock, and the way to users and tasks."""

    stack: Stack
    clock: ScaledClock
    env: dict[str, str]

    @property
    def console(self) -> str:
        return self.stack.url("console")

    def add_user(self, username: str, role: str, scope: str | None = None) -> None:
        """Adds a console user through `songda user add`, as an operator would."""
        command = [sys.executable, "-m", "songda.cli", "user", "add", "--username", username, "--role", role, "--password", PASSWORD]
        command += ["--scope", scope] if scope else []
        done = subprocess.run(command, env={**os.environ, **self.env}, capture_output=True, text=True, timeout=60, cwd=REPO)
        assert done.returncode == 0, done.stderr

    async def visit(self) -> Visit:
        """Registers a notice whose recipient does not answer the phone, and waits for the visit delivery makes next."""
        phone = f"+86139{random.randrange(10**8):08d}"
        case_number = f"（2026）鲁1002民初{random.randrange(1000, 10000)}号"
        person = json.loads(json.dumps(EXAMPLE_NOTICE["recipients"][0]))
        person.update(id_number=resident_id(random.Random()), phones=[phone], emails=[], addresses=[HOME])
        notice = {**EXAMPLE_NOTICE, "court_reference": f"B-{uuid.uuid4().hex[:12]}", "case_number": case_number, "recipients": [person]}
        async with httpx.AsyncClient(timeout=10) as client:
            scripted = await client.post(f"{self.stack.url('twilio_sim')}/sim/script", json={"number": phone, "call": {"outcome": "no-answer"}})
            assert scripted.status_code in (200, 201), scripted.text
            await upload_examples(client, self.stack.url("intake"), headers=token(Role.court, "C371002"))
            registered = await client.post(f"{self.stack.url('intake')}/v1/notices", json=notice, headers=token(Role.court, "C371002"))
            assert registered.status_code == 201, registered.text
            notice_id = registered.json()["id"]

            async def open_task() -> dict[str, Any] | None:
                answer = await client.get(f"{self.stack.url('delivery')}/v1/notices/{notice_id}/delivery", headers=SUPERVISOR)
                tasks = [t for r in answer.json()["recipients"] for t in r["tasks"] if t["status"] == "open"] if answer.status_code == 200 else []
                return tasks[0] if tasks else None

            task = await eventually(open_task, timeout=90, what="the visit after the unanswered call")
        return Visit(notice_id=notice_id, task_id=task["task_id"], agent=task["agent_id"], case_number=case_number, phone=phone)

    async def task(self, task_id: str) -> dict[str, Any]:
        """Returns the task as delivery holds it (a supervisor's read)."""
        async with httpx.AsyncClient(timeout=10) as client:
            answer = await client.get(f"{self.stack.url('delivery')}/v1/tasks/{task_id}", headers=SUPERVISOR)
        assert answer.status_code == 200, answer.text
        return answer.json()


class Watched:
    """A page and what its console said: a script error or a CSP violation shows there."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.errors: list[str] = []
        page.on("console", lambda message: self.errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: self.errors.append(str(error)))


async def sign_in(page: Page, stack: BrowserStack, username: str, password: str = PASSWORD) -> None:
    """Fills the sign-in form as a person does."""
    await page.goto(f"{stack.console}/login")
    await page.fill("#username", username)
    await page.fill("#password", password)
    await page.click("button:has-text('登录')")


async def screenshot(page: Page, name: str) -> None:
    """Keeps a picture of the page in tests/browser/screenshots (git-ignored), and holds that a phone never scrolls sideways."""
    SCREENSHOTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    width = page.viewport_size["width"] if page.viewport_size else 0
    assert await page.evaluate("document.documentElement.scrollWidth") <= width, f"{name} scrolls sideways"
