"""The dashboard through evidence's KPI API, as the signed-in person (evidence shows a court its own court's figures only), and its files."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.console import dashboard
from services.console.adapters.evidence import Content
from services.console.deps import ConsoleDeps
from services.console.handlers.notices import court_names
from services.console.sessions import Visitor
from services.console.texts import FieldError
from shared.plumbing.auth import Role


@dataclass(frozen=True)
class Shown:
    """The figures the query asks for (None when the query is wrong), what is wrong with it, and the courts the person may choose from."""

    answer: dict[str, Any] | None
    errors: list[FieldError]
    courts: dict[str, str]
    cards: list[dashboard.Card]
    charts: list[dashboard.Chart]
    # When evidence computed the figures.
    as_of: datetime | None = None


async def show(deps: ConsoleDeps, *, visitor: Visitor, query: dashboard.Query, errors: list[FieldError]) -> Shown:
    """Returns the figures, cards and charts of the query, unless it is already known to be wrong."""
    chooses = visitor.role is not Role.court
    answer, courts = await asyncio.gather(_answer(deps, visitor=visitor, query=query, errors=errors), court_names(deps, visitor=visitor) if chooses else _none())
    if answer is None:
        return Shown(answer=None, errors=errors, courts=courts, cards=[], charts=[])
    as_of = datetime.fromisoformat(answer["as_of"])
    return Shown(answer=answer, errors=errors, courts=courts, cards=dashboard.cards(answer["total"]), charts=dashboard.charts(answer), as_of=as_of)


async def _answer(deps: ConsoleDeps, *, visitor: Visitor, query: dashboard.Query, errors: list[FieldError]) -> dict[str, Any] | None:
    if errors:
        return None
    return await deps.evidence.kpis(visitor.principal, query.params())


async def _none() -> dict[str, str]:
    return {}


async def file(deps: ConsoleDeps, *, visitor: Visitor, path: str, params: dict[str, str]) -> Content:
    """Returns the CSV of a query or a court's monthly report, as evidence gives it to the person."""
    return await deps.evidence.kpi_file(visitor.principal, path, params)
