"""A lawyer's work through delivery's firm inbox, as the signed-in person: the inbox, an item, its documents, the acknowledgement and its certificate."""

from __future__ import annotations

from services.console.adapters.inbox import Browser, InboxItem, Served
from services.console.deps import ConsoleDeps
from services.console.sessions import Visitor


async def inbox(deps: ConsoleDeps, *, visitor: Visitor) -> list[InboxItem]:
    """Returns what was served on the person's firm, unread first, then the newest."""
    return await deps.inbox.items(visitor.principal)


async def item(deps: ConsoleDeps, *, visitor: Visitor, attempt_id: str) -> InboxItem:
    """Returns one item of the person's firm (delivery answers 404 for another firm's) and marks it read."""
    return await deps.inbox.item(visitor.principal, attempt_id)


async def document(deps: ConsoleDeps, *, visitor: Visitor, attempt_id: str, number: int, download: bool, browser: Browser) -> Served:
    """Returns one document of the item; delivery records the opening under the person's username, with the browser's address and browser."""
    return await deps.inbox.document(visitor.principal, attempt_id, number, download=download, browser=browser)


async def acknowledge(deps: ConsoleDeps, *, visitor: Visitor, attempt_id: str, browser: Browser) -> InboxItem:
    """Acknowledges the item for the firm (once; again, the first acknowledgement stands) and returns the certificate's facts."""
    return await deps.inbox.acknowledge(visitor.principal, attempt_id, browser=browser)
