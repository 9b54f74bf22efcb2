"""Delivery's task API as the console uses it: the task shapes, the port, the HTTP client and a fake that keeps delivery's access rules."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict

from services.console.adapters.calls import ServiceApi, ServiceRefused, ServiceUnavailable
from shared.plumbing.auth import Principal, Role


class Shape(BaseModel):
    """An answer of delivery's, read leniently: fields the console does not show are ignored."""

    model_config = ConfigDict(extra="ignore")


class Tried(Shape):
    """One earlier attempt to reach the recipient: a message, a call, a visit."""

    channel: str
    status: str
    detail: str | None
    at: datetime | None


class TaskCard(Shape):
    """A visit or posting as Today lists it."""

    task_id: str
    notice_id: str
    recipient_id: str
    kind: str
    status: str
    case_number: str
    court_name: str
    recipient_name: str
    recipient_kind: str
    id_number_masked: str | None
    address: str
    postcode: str | None
    window_start: datetime
    window_end: datetime
    documents: list[str]
    outcomes: list[str]
    late: bool
    tried: list[Tried]


class PrintApart(Shape):
    """A document kept as OFD, which the agent prints on its own."""

    title: str
    sha256: str


class TaskDetail(TaskCard):
    """One task in full; the phones come only once the agent began the visit (null until then)."""

    party_role: str
    lat: float | None
    lon: float | None
    signer_roles: list[str]
    begun_at: datetime | None
    phones: list[str] | None
    reported_at: datetime | None
    outcome: dict[str, Any] | None
    print_apart: list[PrintApart] = []


class Standing(Shape):
    """Where the reported service stands, in delivery's words: counted, held (and why) or awaiting evidence."""

    state: str
    message_zh: str


class OutcomeOut(Shape):
    """What recording an outcome did to the task and the recipient."""

    task_id: str
    status: str
    recipient_status: str
    waiting_for_evidence: list[str] = []
    standing: Standing | None = None


class Delivery(Protocol):
    """Delivery's task API, each call made as the signed-in person."""

    async def tasks(self, caller: Principal) -> list[TaskCard]: ...

    async def task(self, caller: Principal, task_id: str) -> TaskDetail: ...

    async def begin(self, caller: Principal, task_id: str, *, reason: str) -> TaskDetail: ...

    async def report(self, caller: Principal, task_id: str, *, outcome: Mapping[str, Any], key: str) -> OutcomeOut: ...

    async def print_out(self, caller: Principal, task_id: str) -> bytes: ...

    async def document(self, caller: Principal, task_id: str, sha256: str) -> tuple[bytes, str]: ...


@dataclass(frozen=True)
class DeliveryClient:
    """Delivery over HTTP."""

    api: ServiceApi

    async def tasks(self, caller: Principal) -> list[TaskCard]:
        """Returns the caller's open visits and postings, late ones first."""
        response = await self.api.call("GET", "/v1/tasks", caller)
        return [TaskCard.model_validate(card) for card in response.json()]

    async def task(self, caller: Principal, task_id: str) -> TaskDetail:
        """Returns one of the caller's tasks (404 for another's)."""
        return TaskDetail.model_validate((await self.api.call("GET", f"/v1/tasks/{_segment(task_id)}", caller)).json())

    async def begin(self, caller: Principal, task_id: str, *, reason: str) -> TaskDetail:
        """Begins the visit, which delivery audits, and returns the task with the recipient's phones."""
        response = await self.api.call("POST", f"/v1/tasks/{_segment(task_id)}/begin", caller, json={"reason": reason})
        return TaskDetail.model_validate(response.json())

    async def report(self, caller: Principal, task_id: str, *, outcome: Mapping[str, Any], key: str) -> OutcomeOut:
        """Records the outcome once under the form's idempotency key, however often it is sent."""
        response = await self.api.call("POST", f"/v1/tasks/{_segment(task_id)}/outcome", caller, json=dict(outcome), headers={"Idempotency-Key": key})
        return OutcomeOut.model_validate(response.json())

    async def print_out(self, caller: Principal, task_id: str) -> bytes:
        """Returns the task's pre-filled 送达回证 followed by the notice's PDF documents, as one PDF."""
        return (await self.api.call("GET", f"/v1/tasks/{_segment(task_id)}/print.pdf", caller)).content

    async def document(self, caller: Principal, task_id: str, sha256: str) -> tuple[bytes, str]:
        """Returns one document of the task's notice (an OFD to print apart) and its content type."""
        response = await self.api.call("GET", f"/v1/tasks/{_segment(task_id)}/documents/{_segment(sha256)}", caller)
        return response.content, response.headers.get("content-type", "application/octet-stream")


def _segment(task_id: str) -> str:
    """Refuses an id that would leave its path segment; routes take ids of a safe alphabet already, this is the last guard."""
    if not task_id or any(c in task_id for c in "/?#%\\") or task_id in (".", ".."):
        raise ServiceRefused(404, {"detail": "no such task"})
    return task_id


@dataclass
class FakeDelivery:
    """Delivery in memory for unit tests, answering as delivery does: an agent reaches its own open tasks, a supervisor every task."""

    tasks_by_id: dict[str, tuple[str, TaskDetail]] = field(default_factory=dict)
    reports: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    begun: list[tuple[str, str]] = field(default_factory=list)
    phones: dict[str, list[str]] = field(default_factory=dict)
    refusal: ServiceRefused | None = None
    down: bool = False
    # How the recipient stands after a report, when a test says (evidence still awaited, held); else as the outcome makes it.
    standing: str | None = None
    # Delivery's own words on where the reported service stands, when a test gives them.
    said: Standing | None = None

    def add(self, agent: str, task: TaskDetail, *, phones: list[str] | None = None) -> None:
        """Assigns a task to an agent; its phones are shown once it is begun."""
        self.tasks_by_id[task.task_id] = (agent, task)
        self.phones[task.task_id] = phones or []

    def _reach(self, caller: Principal, task_id: str) -> TaskDetail:
        if self.down:
            raise ServiceUnavailable("delivery")
        if caller.role not in (Role.agent, Role.supervisor):
            raise ServiceRefused(403, {"title": "Forbidden", "detail": f"The role {caller.role.value!r} may not do this."})
        agent, task = self.tasks_by_id.get(task_id, ("", None))
        if task is None or task.status != "open" or (caller.role is Role.agent and agent != caller.sub):
            raise ServiceRefused(404, {"title": "Not found", "detail": f"You have no task {task_id}."})
        return task

    async def tasks(self, caller: Principal) -> list[TaskCard]:
        """Returns the caller's open tasks, late ones first, then by window."""
        if self.down:
            raise ServiceUnavailable("delivery")
        mine = [t for a, t in self.tasks_by_id.values() if t.status == "open" and (caller.role is Role.supervisor or a == caller.sub)]
        return [TaskCard.model_validate(t.model_dump()) for t in sorted(mine, key=lambda t: (not t.late, t.window_start))]

    async def task(self, caller: Principal, task_id: str) -> TaskDetail:
        """Returns the task as its agent or a supervisor sees it."""
        return self._reach(caller, task_id)

    async def begin(self, caller: Principal, task_id: str, *, reason: str) -> TaskDetail:
        """Notes the reason and shows the phones."""
        task = self._reach(caller, task_id)
        self.begun.append((task_id, reason))
        shown = task.model_copy(update={"phones": self.phones[task_id], "begun_at": task.begun_at or task.window_start})
        self.tasks_by_id[task_id] = (self.tasks_by_id[task_id][0], shown)
        return shown

    async def report(self, caller: Principal, task_id: str, *, outcome: Mapping[str, Any], key: str) -> OutcomeOut:
        """Records the outcome once per key; a set refusal answers instead, once."""
        if key in self.reports:
            return _recorded(task_id, self.reports[key][1], standing=self.standing, said=self.said)
        task = self._reach(caller, task_id)
        if self.refusal is not None:
            refusal, self.refusal = self.refusal, None
            raise refusal
        self.reports[key] = (task_id, dict(outcome))
        self.tasks_by_id[task_id] = (self.tasks_by_id[task_id][0], task.model_copy(update={"status": "reported"}))
        return _recorded(task_id, dict(outcome), standing=self.standing, said=self.said)

    async def print_out(self, caller: Principal, task_id: str) -> bytes:
        """Returns a stand-in PDF."""
        self._reach(caller, task_id)
        return b"%PDF-1.7\n% " + task_id.encode() + b"\n%%EOF\n"

    async def document(self, caller: Principal, task_id: str, sha256: str) -> tuple[bytes, str]:
        """Returns stand-in bytes of one of the task's OFD documents."""
        task = self._reach(caller, task_id)
        if sha256 not in {d.sha256 for d in task.print_apart}:
            raise ServiceRefused(404, {"title": "Not found", "detail": f"Task {task_id} serves no document {sha256}."})
        return b"PK\x03\x04 " + sha256.encode(), "application/ofd"


# What a report makes of the recipient when its evidence is already known: served, in its notice period, or still in progress.
_STANDING = {"served": "served", "refused": "served", "posted": "notice_period"}


def _recorded(task_id: str, outcome: Mapping[str, Any], *, standing: str | None, said: Standing | None = None) -> OutcomeOut:
    status = standing or _STANDING.get(str(outcome.get("outcome")), "in_progress")
    waiting = list(outcome.get("evidence_ids", [])) if status == "awaiting_evidence" else []
    return OutcomeOut(task_id=task_id, status="reported", recipient_status=status, waiting_for_evidence=waiting, standing=said)
