"""The notice list through delivery's API, as the signed-in person (delivery shows a court its own notices only), with the courts and agents named."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from services.console.adapters.calls import ServiceRefused, ServiceUnavailable
from services.console.adapters.notices import NoticePage
from services.console.deps import ConsoleDeps
from services.console.notice_filter import SERVICE_FIELDS, STALE_PAGE, NoticeFilter
from services.console.sessions import Visitor
from services.console.texts import FieldError, field_errors


@dataclass(frozen=True)
class Listing:
    """A page of the list (None when the filter is wrong), what is wrong with the filter, and the names of courts and agents the person may see."""

    page: NoticePage | None
    errors: list[FieldError]
    courts: dict[str, str]
    agents: dict[str, str]


async def listing(deps: ConsoleDeps, *, visitor: Visitor, wanted: NoticeFilter, errors: list[FieldError]) -> Listing:
    """Returns the page the filter asks for, unless the filter is already known to be wrong; a filter delivery refuses comes back beside its fields."""
    (page, errors), courts, agents = await asyncio.gather(
        _page(deps, visitor=visitor, wanted=wanted, errors=errors), court_names(deps, visitor=visitor), _agents(deps, visitor=visitor)
    )
    return Listing(page=page, errors=errors, courts=courts, agents=agents)


async def _page(deps: ConsoleDeps, *, visitor: Visitor, wanted: NoticeFilter, errors: list[FieldError]) -> tuple[NoticePage | None, list[FieldError]]:
    if errors:
        return None, errors
    try:
        return await deps.notices.page(visitor.principal, params=wanted.params()), []
    except ServiceRefused as refused:
        if refused.status != 422:
            raise
        stale = any(error["field"] == "cursor" for error in refused.errors)
        return None, [FieldError("", STALE_PAGE)] if stale else field_errors(refused.errors, fields=SERVICE_FIELDS)


async def court_names(deps: ConsoleDeps, *, visitor: Visitor) -> dict[str, str]:
    """Returns the courts' names by id; without intake the list shows their ids."""
    try:
        return {court.id: court.name for court in await deps.intake.courts(visitor.principal)}
    except ServiceUnavailable:
        return {}


async def _agents(deps: ConsoleDeps, *, visitor: Visitor) -> dict[str, str]:
    """Returns the agents' names by id, for those delivery shows the roster (a court is not); else the list shows their ids."""
    try:
        return {agent.id: agent.name for agent in await deps.oversight.agents(visitor.principal)}
    except ServiceRefused as refused:
        if refused.status != 403:
            raise
        return {}
