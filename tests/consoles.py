"""A console for unit tests: its own SQLite file, fakes of the services it calls, a cheap Argon2, and a client that keeps cookies as a browser does."""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
from argon2 import PasswordHasher
from fastapi import FastAPI
from sqlmodel import col, select

from services.console.accounts import NewUser
from services.console.adapters.batches import FakeBatches
from services.console.adapters.calls import Minter, ServiceApi
from services.console.adapters.delivery import FakeDelivery, TaskDetail
from services.console.adapters.evidence import FakeEvidence
from services.console.adapters.firms import FakeFirms
from services.console.adapters.inbox import FakeInbox, InboxItem
from services.console.adapters.intake import FakeIntake, NoticeRecord
from services.console.adapters.notices import FakeNotices, NoticeRow, NoticeState
from services.console.adapters.oversight import FakeOversight, Hold
from services.console.config import ConsoleSettings
from services.console.deps import ConsoleDeps
from services.console.handlers import people
from services.console.main import create_app
from services.console.models import TABLES, ConsoleUser
from services.console.passwords import Passwords
from services.evidence.api import kpis_out
from services.evidence.domain.kpis import Grouping, fold
from services.evidence.handlers import summarise
from shared.plumbing.audit import AuditEntry
from shared.plumbing.auth import Role
from shared.plumbing.db import create_tables
from shared.plumbing.runtime import PLUMBING_TABLES
from shared.plumbing.settings import CommonSettings, Environment
from tests import histories
from tests.support import SECRET, Clock

# Argon2id at its smallest: the tests check the logic, not the cost.
CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
PASSWORD = "correct horse battery"
# The address the test client calls from, as the audit log records it.
CLIENT = ("203.0.113.7", 50000)
WINDOW_START = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
# A court's document as the fakes store it, and its sha256.
SAMPLE_PDF = b"%PDF-1.7\n1 0 obj << /Type /Page >> endobj\n%%EOF"
SAMPLE_SHA = hashlib.sha256(SAMPLE_PDF).hexdigest()
NOW = WINDOW_START


# The demo firm, and when the items of its inbox were sent.
FIRM = "31371000MD0543210E"
SENT = WINDOW_START


def firm_item(attempt_id: str = "a-1", *, firm: str = FIRM, **changes: Any) -> InboxItem:
    """Returns an item served on the firm: a complaint (with its file) and a summons (title only) for 张三 in a Huancui court case."""
    values: dict[str, Any] = {
        "attempt_id": attempt_id,
        "notice_id": f"n-{attempt_id}",
        "case_number": "（2026）鲁1002民初1234号",
        "cause": "民间借贷纠纷",
        "court_name": "威海市环翠区人民法院",
        "recipient_name": "张三",
        "recipient_role": "defendant",
        "firm": "山东示例律师事务所",
        "firm_uscc": firm,
        "lawyer": "王律师",
        "address": "inbox@firm.example",
        "documents": [
            {"number": 1, "title": "起诉状副本", "kind": "complaint_copy", "pages": 3, "sha256": "ab" * 32, "openable": True},
            {"number": 2, "title": "传票", "kind": "summons", "pages": 1, "sha256": None, "openable": False},
        ],
        "sent_at": SENT,
        "arrived_at": SENT + timedelta(minutes=1),
        "due_date": date(2026, 11, 26),
        "opened": False,
        "acknowledged": None,
        "status": "open",
        "recipient_status": "in_progress",
    }
    return InboxItem.model_validate(values | changes)


def task(task_id: str = "t-1", **changes: Any) -> TaskDetail:
    """Returns an open visit to 张三 at his home, with its window on 23 November 2026 from 09:00 Beijing time."""
    values: dict[str, Any] = {
        "task_id": task_id,
        "notice_id": f"n-{task_id}",
        "recipient_id": f"r-{task_id}",
        "kind": "visit",
        "status": "open",
        "case_number": "（2026）鲁1002民初1234号",
        "court_name": "威海市环翠区人民法院",
        "recipient_name": "张三",
        "recipient_kind": "person",
        "id_number_masked": "3710**********4210",
        "address": "山东省威海市环翠区新威路17号",
        "postcode": "264200",
        "window_start": WINDOW_START,
        "window_end": WINDOW_START + timedelta(hours=3),
        "documents": ["起诉状副本", "传票"],
        "outcomes": ["moved", "not_found", "refused", "served"],
        "late": False,
        "tried": [
            {"channel": "sms", "status": "failed", "detail": "undelivered", "at": WINDOW_START - timedelta(hours=20)},
            {"channel": "voice", "status": "failed", "detail": "no-answer", "at": WINDOW_START - timedelta(hours=18)},
        ],
        "party_role": "defendant",
        "lat": 37.5123,
        "lon": 122.1201,
        "signer_roles": ["recipient", "family_member", "statutory_agent", "litigation_agent", "designated_proxy"],
        "begun_at": None,
        "phones": None,
        "reported_at": None,
        "outcome": None,
    }
    return TaskDetail.model_validate(values | changes)


def hold(recipient_id: str = "r-1", **changes: Any) -> Hold:
    """Returns 王五's refusal reported by agent-1 on 23 November 2026, held because its first photo was taken far from the address."""
    values: dict[str, Any] = {
        "recipient_id": recipient_id,
        "notice_id": f"n-{recipient_id}",
        "court_id": "C371002",
        "case_number": "（2026）鲁1002民初2345号",
        "recipient_name": "王五",
        "task_id": f"t-{recipient_id}",
        "agent_id": "agent-1",
        "outcome": "refused",
        "reported_at": WINDOW_START + timedelta(hours=1),
        "flags": {"ev-1": ["far_from_address", "no_gps"], "ev-2": []},
    }
    return Hold.model_validate(values | changes)


def notice(notice_id: str = "n-1", **changes: Any) -> NoticeRow:
    """Returns a notice of the 环翠 court due on 1 December 2026, its early warning raised, to 张三 (in progress) and 李四 (held), with agent-1 on it."""
    values: dict[str, Any] = {
        "notice_id": notice_id,
        "court_id": "C371002",
        "case_number": "（2026）鲁1002民初1234号",
        "status": "in_progress",
        "due_date": date(2026, 12, 1),
        "registered_at": WINDOW_START - timedelta(days=10),
        "warned_at": WINDOW_START,
        "overdue_at": None,
        "completed_at": None,
        "recipients": [{"recipient_id": "r-1", "name": "张三", "status": "in_progress"}, {"recipient_id": "r-2", "name": "李四", "status": "held"}],
        "agents": ["agent-1"],
    }
    return NoticeRow.model_validate(values | changes)


def registered(notice_id: str = "n-1", court_id: str = "C371002", **changes: object) -> NoticeRecord:
    """Returns a notice as intake registered it: one document with its file, one without (registered before files were kept), two recipients."""
    values: dict[str, object] = {
        "id": notice_id,
        "court_id": court_id,
        "court_reference": "HC-2026-1",
        "case_number": "（2026）鲁1002民初1234号",
        "cause": "民间借贷纠纷",
        "stage": "first_instance",
        "due_date": date(2026, 12, 1),
        "received_at": NOW - timedelta(days=2),
        "documents": [{"title": "起诉状副本", "kind": "complaint_copy", "pages": 1, "sha256": SAMPLE_SHA}, {"title": "传票", "kind": "summons", "pages": 1}],
        "recipients": [
            {"recipient_id": "r-1", "name": "张三", "kind": "person", "role": "defendant"},
            {"recipient_id": "r-2", "name": "李四", "kind": "person", "role": "plaintiff"},
        ],
    }
    return NoticeRecord.model_validate(values | changes)


def delivery_state(notice_id: str = "n-1", court_id: str = "C371002", **changes: object) -> NoticeState:
    """Returns delivery's state of the notice: 张三 after a failed SMS on a visit, 李四 served by SMS; the early warning raised."""
    values: dict[str, object] = {
        "notice_id": notice_id,
        "court_id": court_id,
        "case_number": "（2026）鲁1002民初1234号",
        "stage": "first_instance",
        "status": "in_progress",
        "due_date": date(2026, 12, 1),
        "registered_at": NOW - timedelta(days=2),
        "warned_at": NOW,
        "overdue_at": None,
        "completed_at": None,
        "recipients": [
            {
                "recipient_id": "r-1",
                "name": "张三",
                "role": "defendant",
                "status": "in_progress",
                "tier": "direct",
                "whereabouts_unknown": False,
                "attempts": [
                    {
                        "attempt_id": "a-1",
                        "step": 0,
                        "tier": "electronic",
                        "channel": "sms",
                        "status": "failed",
                        "started_at": NOW - timedelta(days=2),
                        "finished_at": NOW - timedelta(days=1),
                    },
                    {"attempt_id": "a-2", "step": 1, "tier": "direct", "channel": "visit", "status": "open", "started_at": NOW, "finished_at": None},
                ],
                "served": None,
                "service_date": None,
                "public_notice_ends": None,
            },
            {
                "recipient_id": "r-2",
                "name": "李四",
                "role": "plaintiff",
                "status": "served",
                "tier": "electronic",
                "whereabouts_unknown": False,
                "attempts": [{"attempt_id": "a-3", "step": 0, "tier": "electronic", "channel": "sms", "status": "succeeded", "started_at": NOW, "finished_at": NOW}],
                "served": {"method": "electronic", "service_date": "2026-11-23", "basis": "CPL 90", "deemed": False},
                "service_date": "2026-11-23",
                "public_notice_ends": None,
            },
        ],
    }
    return NoticeState.model_validate(values | changes)


@dataclass
class Console:
    """The app, its Deps and the fakes it calls."""

    app: FastAPI
    deps: ConsoleDeps
    delivery: FakeDelivery
    evidence: FakeEvidence
    oversight: FakeOversight
    notices: FakeNotices
    intake: FakeIntake
    batches: FakeBatches
    firms: FakeFirms
    inbox: FakeInbox

    async def add(self, username: str, role: Role = Role.agent, scope: str = "", password: str = PASSWORD) -> ConsoleUser:
        """Adds a user (an agent whose scope is its username, unless told otherwise)."""
        scope = scope or (username if role is Role.agent else "")
        return await people.add_user(self.deps, user=NewUser(username=username, role=role, scope=scope, display_name=username, password=password))

    @asynccontextmanager
    async def browser(self, *, raise_app_exceptions: bool = True) -> AsyncIterator[httpx.AsyncClient]:
        """Yields a client that keeps cookies; over https, as the console's cookies are Secure outside development."""
        transport = httpx.ASGITransport(app=self.app, client=CLIENT, raise_app_exceptions=raise_app_exceptions)
        async with httpx.AsyncClient(transport=transport, base_url="https://console.test") as client:
            yield client

    async def audit(self, action: str = "console.sign_in") -> list[AuditEntry]:
        """Returns the audit log's entries of an action, oldest first."""
        async with self.deps.db.sessions() as session:
            return list((await session.exec(select(AuditEntry).where(AuditEntry.action == action).order_by(col(AuditEntry.at)))).all())

    def on_wall(self, at: datetime = NOW) -> Clock:
        """Puts the console's sessions, locks and tokens on a wall clock the test moves."""
        wall = Clock(at)
        object.__setattr__(self.deps, "wall", wall)
        return wall

    async def user(self, username: str) -> ConsoleUser:
        """Returns a user's row as stored."""
        async with self.deps.db.sessions() as session:
            return (await session.exec(select(ConsoleUser).where(ConsoleUser.username == username))).one()


@asynccontextmanager
async def console(tmp_path: Path, **overrides: Any) -> AsyncIterator[Console]:
    """Builds a console on a SQLite file in `tmp_path`, in the test environment, with the given settings."""
    settings = ConsoleSettings(database_url=f"sqlite:///{tmp_path / 'console.db'}", common=CommonSettings(env=Environment.test, jwt_secret=SECRET), **overrides)
    delivery, evidence, oversight, notices, intake, batches = FakeDelivery(), FakeEvidence(), FakeOversight(), FakeNotices(), FakeIntake(), FakeBatches()
    inbox = FakeInbox()
    firms = FakeFirms()
    app = create_app(
        settings, delivery=delivery, evidence=evidence, oversight=oversight, notices=notices, intake=intake, batches=batches, passwords=Passwords(CHEAP), firms=firms, inbox=inbox
    )
    runtime = app.state.runtime
    await create_tables(runtime.db.engine, [*PLUMBING_TABLES, *TABLES])
    try:
        yield Console(
            app=app, deps=runtime.deps, delivery=delivery, evidence=evidence, oversight=oversight, notices=notices, intake=intake, batches=batches, firms=firms, inbox=inbox
        )
    finally:
        await runtime.db.dispose()


@asynccontextmanager
async def staffed(tmp_path: Path, *, clerk_of: str = "") -> AsyncIterator[Console]:
    """Builds a console with the staff most pages are tried with: a supervisor (boss), an auditor (reader), an agent (agent-1) and, given a court, its clerk (clerk)."""
    async with console(tmp_path) as built:
        await built.add("boss", Role.supervisor)
        await built.add("reader", Role.auditor)
        await built.add("agent-1")
        if clerk_of:
            await built.add("clerk", Role.court, scope=clerk_of)
        yield built


def service_api(http: httpx.AsyncClient, name: str, url: str) -> ServiceApi:
    """Returns the console's way to a service at `url`, minting tokens with the tests' secret."""
    return ServiceApi(name=name, url=url, http=http, minter=Minter(secret=SECRET, issuer="songda"))


def caller_of(request: httpx.Request) -> tuple[str, str]:
    """Returns the role and subject of the token a request to a service carried."""
    claims = jwt.decode(request.headers["authorization"].removeprefix("Bearer "), SECRET, algorithms=["HS256"], issuer="songda")
    return claims["role"], claims["sub"]


def hidden(html: str, name: str) -> str:
    """Returns the value of a form's hidden field."""
    found = re.search(rf'name="{re.escape(name)}" value="([^"]*)"', html)
    assert found, f"no field {name}"
    return found.group(1)


def page_token(html: str) -> str:
    """Returns the session's CSRF token a page carries for htmx."""
    found = re.search(r'<meta name="csrf-token" content="([^"]+)">', html)
    assert found, "the page carries no CSRF token"
    return found.group(1)


async def sign_in(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> httpx.Response:
    """Opens the sign-in form and sends it, as a browser would; returns the answer to the form."""
    form = await client.get("/login")
    return await client.post("/login", data={"username": username, "password": password, "csrf_token": hidden(form.text, "csrf_token")})


async def signed_in(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> str:
    """Signs in and returns the session's CSRF token."""
    answer = await sign_in(client, username, password)
    assert answer.status_code == 303, answer.text
    return page_token((await client.get("/welcome")).text)


def texts_of(html: str) -> str:
    """Returns a page's text without tags, for checking what a person reads."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))


def messages(html: str, names: Sequence[str] = ("field-error",)) -> list[str]:
    """Returns the messages beside the fields."""
    return [m.strip() for name in names for m in re.findall(rf'<p class="{name}"[^>]*><span class="visually-hidden">错误：</span>([^<]+)</p>', html)]


def on_wall(console: Console, at: datetime = NOW) -> Clock:
    """Puts a console on a wall clock the test moves (sessions, locks and tokens count wall-clock time)."""
    return console.on_wall(at)


def kpi_answer(court_id: str | None, *, by: str = "week", as_of: datetime = datetime(2027, 1, 10, tzinfo=UTC)) -> dict[str, Any]:
    """Returns evidence's `GET /v1/kpis` answer over the known history of tests/histories.py, for one court or all, as evidence computes it."""
    facts = [f for history in histories.kpi_notices() for f in fold([event for _, event in history.events]) if court_id in (None, f.court_id)]
    result = summarise(facts, court_id=court_id, start=None, end=None, by=Grouping(by), as_of=as_of)
    return kpis_out(result).model_dump(mode="json", by_alias=True)
