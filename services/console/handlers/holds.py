"""Held services through delivery's and evidence's APIs, as the signed-in person: the list with each item's flags, the photos, and a supervisor's decision."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from services.console.adapters.calls import ServiceRefused
from services.console.adapters.evidence import Content
from services.console.adapters.oversight import Decided, Hold
from services.console.deps import ConsoleDeps
from services.console.handlers.notices import court_names
from services.console.sessions import Visitor
from services.console.supervision import Review
from services.console.texts import FieldError, field_errors

NOT_HELD = "该送达已不在待审核之列（可能已由其他主管处理），未作改动。"


@dataclass(frozen=True)
class Held:
    """The held services, the oldest report first, and the names of their courts and of the agents who reported them."""

    holds: list[Hold]
    courts: dict[str, str]
    agents: dict[str, str]


@dataclass(frozen=True)
class ReviewRefused:
    """A decision refused (the form, or delivery: 422, or 409 for a service no longer held), with the list to show it on."""

    held: Held
    form: Review
    errors: list[FieldError]
    status: int


async def held(deps: ConsoleDeps, *, visitor: Visitor) -> Held:
    """Returns the held services with their items' flags (delivery audits the read), and the courts' and agents' names."""
    holds, courts, agents = await asyncio.gather(deps.oversight.holds(visitor.principal), court_names(deps, visitor=visitor), deps.oversight.agents(visitor.principal))
    return Held(holds=holds, courts=courts, agents={agent.id: agent.name for agent in agents})


async def decide(deps: ConsoleDeps, *, visitor: Visitor, form: Review) -> Decided | ReviewRefused:
    """Accepts the held evidence or orders the step made again, with the reason (delivery keeps and audits it); what is wrong comes back beside the field."""
    errors = form.errors()
    status = 422
    if not errors:
        try:
            return await deps.oversight.decide(visitor.principal, form.recipient_id, decision=form.decision, reason=form.reason)
        except ServiceRefused as refused:
            if refused.status not in (409, 422):
                raise
            status = refused.status
            errors = [FieldError("", NOT_HELD)] if status == 409 else field_errors(refused.errors, fields={"reason": (form.field, "事由")})
    return ReviewRefused(held=await held(deps, visitor=visitor), form=form, errors=errors, status=status)


async def content(deps: ConsoleDeps, *, visitor: Visitor, evidence_id: str) -> Content:
    """Returns an item's stored bytes and type from evidence (which audits the read and answers 404 for an item the person does not reach)."""
    return await deps.evidence.content(visitor.principal, evidence_id)
