"""Delivery's firm inbox as the console uses it for lawyers: the item shapes, the port, the HTTP client (passing on the browser's address and browser) and a fake."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Protocol

from services.console.adapters.calls import ServiceApi, ServiceRefused, ServiceUnavailable, segment
from services.console.adapters.delivery import Shape
from shared.plumbing.auth import Principal, Role

# What of delivery's answer for a document the console passes on to the browser: the file's type, name, hash and sandbox.
PASSED_ON = ("content-type", "content-disposition", "etag", "content-security-policy", "cache-control")


class InboxDocument(Shape):
    """One document served, numbered from 1; `openable` is False when only its title is known."""

    number: int
    title: str
    kind: str | None = None
    pages: int | None = None
    sha256: str | None = None
    openable: bool


class Acknowledgement(Shape):
    """The firm's acknowledgement (签收): when, by which lawyer, from which address, with which browser."""

    at: datetime
    by: str | None
    ip: str | None
    user_agent: str | None


class InboxItem(Shape):
    """One thing served on the firm, as the inbox and the certificate show it."""

    attempt_id: str
    notice_id: str
    case_number: str
    cause: str
    court_name: str
    recipient_name: str
    recipient_role: str
    firm: str
    firm_uscc: str
    lawyer: str
    address: str | None
    documents: list[InboxDocument]
    sent_at: datetime
    arrived_at: datetime | None
    due_date: date
    opened: bool
    acknowledged: Acknowledgement | None
    status: str
    recipient_status: str


@dataclass(frozen=True)
class Browser:
    """The lawyer's browser as the console sees it: delivery records these, not the console's own address."""

    ip: str | None
    user_agent: str

    def headers(self) -> dict[str, str]:
        """Returns the headers that carry the browser to delivery (uvicorn there believes X-Forwarded-For from the console)."""
        sent = {"User-Agent": self.user_agent[:300]}
        if self.ip:
            sent["X-Forwarded-For"] = self.ip
        return sent


@dataclass(frozen=True)
class Served:
    """A document's bytes and the headers to hand it over with."""

    content: bytes
    headers: dict[str, str]


class Inbox(Protocol):
    """Delivery's firm inbox, each call made as the signed-in lawyer."""

    async def items(self, caller: Principal) -> list[InboxItem]: ...

    async def item(self, caller: Principal, attempt_id: str) -> InboxItem: ...

    async def document(self, caller: Principal, attempt_id: str, number: int, *, download: bool, browser: Browser) -> Served: ...

    async def acknowledge(self, caller: Principal, attempt_id: str, *, browser: Browser) -> InboxItem: ...


@dataclass(frozen=True)
class InboxClient:
    """Delivery's firm inbox over HTTP."""

    api: ServiceApi

    async def items(self, caller: Principal) -> list[InboxItem]:
        """Returns what was served on the caller's firm, unread first, then the newest."""
        response = await self.api.call("GET", "/v1/firm/inbox", caller)
        return [InboxItem.model_validate(item) for item in response.json()["items"]]

    async def item(self, caller: Principal, attempt_id: str) -> InboxItem:
        """Returns one item of the caller's firm (404 for another firm's); delivery marks it read."""
        return InboxItem.model_validate((await self.api.call("GET", f"/v1/firm/inbox/{segment(attempt_id)}", caller)).json())

    async def document(self, caller: Principal, attempt_id: str, number: int, *, download: bool, browser: Browser) -> Served:
        """Returns one document's file and its headers; delivery records the opening with the lawyer, address and browser."""
        path = f"/v1/firm/inbox/{segment(attempt_id)}/documents/{number}" + ("/download" if download else "")
        response = await self.api.call("GET", path, caller, headers=browser.headers())
        return Served(response.content, {name: response.headers[name] for name in PASSED_ON if name in response.headers})

    async def acknowledge(self, caller: Principal, attempt_id: str, *, browser: Browser) -> InboxItem:
        """Acknowledges the item for the firm once; again, returns the first acknowledgement."""
        response = await self.api.call("POST", f"/v1/firm/inbox/{segment(attempt_id)}/acknowledge", caller, headers=browser.headers())
        return InboxItem.model_validate(response.json())


@dataclass
class FakeInbox:
    """The firm inbox in memory for unit tests, answering as delivery does: a lawyer reaches its own firm's items only."""

    items_by_id: dict[str, InboxItem] = field(default_factory=dict)
    files: dict[tuple[str, int], bytes] = field(default_factory=dict)
    opened: list[tuple[str, int, str, Browser]] = field(default_factory=list)
    down: bool = False

    def add(self, item: InboxItem, files: dict[int, bytes] | None = None) -> None:
        """Puts an item (of the firm its firm_uscc names) and its documents' files in the inbox."""
        self.items_by_id[item.attempt_id] = item
        for number, data in (files or {}).items():
            self.files[(item.attempt_id, number)] = data

    def _reach(self, caller: Principal, attempt_id: str) -> InboxItem:
        if self.down:
            raise ServiceUnavailable("delivery")
        if caller.role is not Role.lawyer:
            raise ServiceRefused(403, {"title": "Forbidden", "detail": f"The role {caller.role.value!r} may not do this."})
        found = self.items_by_id.get(attempt_id)
        if found is None or found.firm_uscc != caller.sub:
            raise ServiceRefused(404, {"title": "Not found", "detail": f"Your firm's inbox has no item {attempt_id}."})
        return found

    async def items(self, caller: Principal) -> list[InboxItem]:
        """Returns the caller's firm's items, unread first, then the newest."""
        if self.down:
            raise ServiceUnavailable("delivery")
        mine = [i for i in self.items_by_id.values() if caller.role is Role.lawyer and i.firm_uscc == caller.sub]
        return sorted(mine, key=lambda i: (i.opened, -i.sent_at.timestamp()))

    async def item(self, caller: Principal, attempt_id: str) -> InboxItem:
        """Returns the item and marks it read."""
        found = self._reach(caller, attempt_id).model_copy(update={"opened": True})
        self.items_by_id[attempt_id] = found
        return found

    async def document(self, caller: Principal, attempt_id: str, number: int, *, download: bool, browser: Browser) -> Served:
        """Returns the document's stand-in file and notes who opened it from where."""
        self._reach(caller, attempt_id)
        data = self.files.get((attempt_id, number))
        if data is None:
            raise ServiceRefused(404, {"title": "Not found", "detail": f"The item has no document {number}."})
        self.opened.append((attempt_id, number, caller.user, browser))
        disposition = "attachment" if download else "inline"
        return Served(data, {"content-type": "application/pdf", "content-disposition": f'{disposition}; filename="{number}.pdf"'})

    async def acknowledge(self, caller: Principal, attempt_id: str, *, browser: Browser) -> InboxItem:
        """Acknowledges once, by the caller's username from the browser's address."""
        found = self._reach(caller, attempt_id)
        if found.acknowledged is None:
            ack = Acknowledgement(at=datetime.now(UTC), by=caller.user or None, ip=browser.ip, user_agent=browser.user_agent)
            found = found.model_copy(update={"acknowledged": ack, "opened": True})
            self.items_by_id[attempt_id] = found
        return found
