"""A notice's page through the services' APIs, as the signed-in person: intake decides whether they see it at all, then delivery's progress, evidence's timeline, items and report versions; and the files it links."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TypeVar

from services.console.adapters.calls import ServiceRefused
from services.console.adapters.evidence import Content, Item, ReportVersion, Timeline
from services.console.adapters.intake import DocumentRef, NoticeRecord
from services.console.adapters.notices import NoticeState
from services.console.deps import ConsoleDeps
from services.console.handlers.notices import court_names
from services.console.sessions import Visitor

T = TypeVar("T")


@dataclass(frozen=True)
class NoticePage:
    """What the notice page shows: the notice as registered, and what delivery and evidence know of it yet (None or empty until they do)."""

    notice: NoticeRecord
    court_name: str
    state: NoticeState | None
    timeline: Timeline | None
    items: list[Item]
    versions: list[ReportVersion]

    @property
    def newest_only(self) -> bool:
        """Tells whether the report is offered as its newest version alone: completed, but evidence lists no versions."""
        return not self.versions and self.state is not None and self.state.status == "completed"


async def _unless_missing(call: Awaitable[T], default: T) -> T:
    """Returns the answer, or `default` when the service does not know the notice yet (404): it reaches them through Kafka after intake."""
    try:
        return await call
    except ServiceRefused as refused:
        if refused.status != 404:
            raise
        return default


async def notice_page(deps: ConsoleDeps, *, visitor: Visitor, notice_id: str) -> NoticePage:
    """Returns the notice the person reaches (intake answers 404 for another court's, which is the 404 page) with its progress, timeline, evidence and report versions."""
    caller = visitor.principal
    notice = await deps.intake.notice(caller, notice_id)
    state, timeline, items, versions, courts = await asyncio.gather(
        _unless_missing(deps.notices.state(caller, notice_id), None),
        _unless_missing(deps.evidence.timeline(caller, notice_id), None),
        _unless_missing(deps.evidence.notice_items(caller, notice_id), []),
        _unless_missing(deps.evidence.report_versions(caller, notice_id), []),
        court_names(deps, visitor=visitor),
    )
    return NoticePage(notice=notice, court_name=courts.get(notice.court_id, notice.court_id), state=state, timeline=timeline, items=items, versions=versions)


async def document(deps: ConsoleDeps, *, visitor: Visitor, notice_id: str, sha256: str) -> tuple[DocumentRef, Content]:
    """Returns a document the notice names, with its bytes from intake; one it does not name is missing."""
    notice = await deps.intake.notice(visitor.principal, notice_id)
    named = next((d for d in notice.documents if d.sha256 == sha256), None)
    if named is None:
        raise ServiceRefused(404, {"title": "Not found", "detail": f"Notice {notice_id} names no document {sha256}."})
    return named, await deps.intake.document(visitor.principal, sha256)


async def thumbnail(deps: ConsoleDeps, *, visitor: Visitor, evidence_id: str) -> Content:
    """Returns a picture's thumbnail from evidence (which audits the read and answers 404 for what the person does not reach)."""
    return await deps.evidence.thumbnail(visitor.principal, evidence_id)


async def report(deps: ConsoleDeps, *, visitor: Visitor, notice_id: str, form: str, version: int | None) -> Content:
    """Returns a version of the notice's delivery report (the newest by default) as PDF or HTML, as evidence gives it to the person."""
    return await deps.evidence.report(visitor.principal, notice_id, form=form, version=version)
