"""Delivery's notice list and a notice's delivery state as the console uses them (delivery shows a court its own notices only): the rows, the port, the client and a fake."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from services.console.adapters.calls import ServiceApi, ServiceRefused, ServiceUnavailable, segment
from services.console.adapters.delivery import Shape
from shared.plumbing.auth import Principal, Role

# Who delivery lets read the list.
LISTERS = frozenset({Role.court, Role.supervisor, Role.auditor, Role.service})


class NoticeRecipient(Shape):
    """A recipient of a listed notice and how their service stands."""

    recipient_id: str
    name: str
    status: str


class Alerted(Shape):
    """A notice's deadline alerts and completion, as both the list and a notice's state give them."""

    warned_at: datetime | None
    overdue_at: datetime | None
    completed_at: datetime | None

    @property
    def warning(self) -> bool:
        """Tells whether the early warning (预警) stands: raised and the notice not completed."""
        return self.warned_at is not None and self.completed_at is None

    @property
    def overdue(self) -> bool:
        """Tells whether the notice went past its due date (超期)."""
        return self.overdue_at is not None


class NoticeRow(Alerted):
    """One notice in the list: where it stands, its deadline alerts, its recipients and the agents with its open tasks."""

    notice_id: str
    court_id: str
    case_number: str
    status: str
    due_date: date
    registered_at: datetime
    recipients: list[NoticeRecipient]
    agents: list[str]


class NoticePage(Shape):
    """A page of the list, by due date then notice id; `next_cursor` asks for the next one (None on the last)."""

    items: list[NoticeRow]
    next_cursor: str | None


class AttemptState(Shape):
    """One attempt to serve a recipient: its rung, channel and how it ended (the number or address it used is not shown)."""

    attempt_id: str
    step: int
    tier: str
    channel: str
    status: str
    started_at: datetime | None = None
    finished_at: datetime | None = None


class ServedState(Shape):
    """How and when a recipient counts as served."""

    method: str
    service_date: date
    basis: str
    deemed: bool
    served_at: datetime | None = None
    evidence_ids: list[str] = []


class RecipientState(Shape):
    """One recipient's progress: the rung reached, every attempt, and the service once made."""

    recipient_id: str
    name: str
    role: str
    status: str
    tier: str
    whereabouts_unknown: bool
    attempts: list[AttemptState]
    served: ServedState | None
    service_date: date | None
    public_notice_ends: date | None


class NoticeState(Alerted):
    """A notice as delivery works it (`GET /v1/notices/{id}/delivery`): its deadline alerts and each recipient's progress."""

    notice_id: str
    court_id: str
    case_number: str
    stage: str
    status: str
    due_date: date
    registered_at: datetime
    recipients: list[RecipientState]


class Notices(Protocol):
    """Delivery's notice list and notices' delivery state, called as the signed-in person."""

    async def page(self, caller: Principal, *, params: Mapping[str, str]) -> NoticePage: ...

    async def state(self, caller: Principal, notice_id: str) -> NoticeState: ...


@dataclass(frozen=True)
class NoticesClient:
    """The notice list over HTTP: `GET /v1/notices` with the filter as its query."""

    api: ServiceApi

    async def page(self, caller: Principal, *, params: Mapping[str, str]) -> NoticePage:
        """Returns one page of the notices the filter picks."""
        return NoticePage.model_validate((await self.api.call("GET", "/v1/notices", caller, params=dict(params))).json())

    async def state(self, caller: Principal, notice_id: str) -> NoticeState:
        """Returns where the notice stands, recipient by recipient (404 for a notice delivery does not show the caller)."""
        return NoticeState.model_validate((await self.api.call("GET", f"/v1/notices/{segment(notice_id)}/delivery", caller)).json())


@dataclass
class FakeNotices:
    """The notice list in memory for unit tests: it keeps the queries it was asked, filters by status, court and agent, shows a court its own only, and pages by a cursor."""

    rows: list[NoticeRow] = field(default_factory=list)
    states: dict[str, NoticeState] = field(default_factory=dict)
    asked: list[dict[str, str]] = field(default_factory=list)
    page_size: int = 50
    refusal: ServiceRefused | None = None
    down: bool = False

    async def page(self, caller: Principal, *, params: Mapping[str, str]) -> NoticePage:
        """Returns the page the query asks for, as delivery would."""
        if self.down:
            raise ServiceUnavailable("delivery")
        if caller.role not in LISTERS:
            raise ServiceRefused(403, {"title": "Forbidden", "detail": f"The role {caller.role.value!r} may not do this."})
        self.asked.append(dict(params))
        if self.refusal is not None:
            refusal, self.refusal = self.refusal, None
            raise refusal
        if caller.role is Role.court and params.get("court", caller.sub) != caller.sub:
            return NoticePage(items=[], next_cursor=None)
        court = caller.sub if caller.role is Role.court else params.get("court")
        found = [
            row
            for row in sorted(self.rows, key=lambda r: (r.due_date, r.notice_id))
            if (court is None or row.court_id == court) and params.get("status") in (None, row.status) and params.get("agent") in (None, *row.agents)
        ]
        start = int(params.get("cursor", "0"))
        more = len(found) > start + self.page_size
        return NoticePage(items=found[start : start + self.page_size], next_cursor=str(start + self.page_size) if more else None)

    async def state(self, caller: Principal, notice_id: str) -> NoticeState:
        """Returns a notice's state to its court and the overseers; any other caller is told it is missing, as delivery does."""
        if self.down:
            raise ServiceUnavailable("delivery")
        found = self.states.get(notice_id)
        if found is None or not caller.reaches_court(found.court_id):
            raise ServiceRefused(404, {"title": "Not found", "detail": f"No notice {notice_id}."})
        return found
