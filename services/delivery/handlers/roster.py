"""The roster's use cases: listing it, a supervisor adding or changing an agent, and the first seed from the policy."""

from __future__ import annotations

from collections.abc import Sequence

from services.delivery import roster
from services.delivery.deps import DeliveryDeps
from services.delivery.models import DeliveryAgent
from services.delivery.policy import Agent
from services.delivery.requests import AgentIn, AgentOut
from shared.plumbing import audit
from shared.plumbing.auth import Principal


def _out(agent: DeliveryAgent, open_tasks: int) -> AgentOut:
    return AgentOut(id=agent.id, name=agent.name, areas=agent.areas, active=agent.active, open_tasks=open_tasks)


async def agents(deps: DeliveryDeps) -> list[AgentOut]:
    """Returns every agent, by id, with how many open tasks each holds."""
    async with deps.db.sessions() as session:
        every = await roster.every(session)
        held = await roster.open_tasks(session)
    return [_out(agent, held.get(agent.id, 0)) for agent in every]


async def put_agent(deps: DeliveryDeps, *, agent_id: str, body: AgentIn, principal: Principal) -> tuple[AgentOut, bool]:
    """Adds or changes an agent, audited; returns them and whether they are new."""
    now = deps.clock.now()
    async with deps.db.transaction() as session:
        agent, created = await roster.put(session, agent_id, body, now=now)
        audit.record(session, principal, action="roster.put", target=agent_id, now=now, outcome="added" if created else "changed")
        held = await roster.open_tasks(session)
    return _out(agent, held.get(agent_id, 0)), created


async def seed_agents(deps: DeliveryDeps, *, agents: Sequence[Agent]) -> int:
    """Fills an empty roster with the policy's agents; returns how many were added."""
    async with deps.db.transaction() as session:
        return await roster.seed(session, agents, now=deps.clock.now())
