"""The delivery team's roster (`delivery_agent`): who new tasks may go to and in which areas; seeded once from the policy, then kept by supervisors."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.delivery.models import DeliveryAgent, DeliveryTask, TaskStatus
from services.delivery.policy import Agent
from services.delivery.requests import AgentIn
from shared.plumbing.db import insert_ignoring_duplicates
from shared.plumbing.problems import Problem


async def seed(session: AsyncSession, agents: Sequence[Agent], *, now: datetime) -> int:
    """Puts the policy's agents in an empty roster (a roster with anyone in it is the supervisors' and left alone); returns how many were added."""
    if (await session.exec(select(func.count()).select_from(DeliveryAgent))).one():
        return 0
    added = 0
    for agent in agents:
        # Replicas starting together may seed at once: the first insert wins, the others change nothing.
        insert = insert_ignoring_duplicates(session, DeliveryAgent)
        result = await session.exec(insert.values(id=agent.id, name=agent.name, areas=list(agent.areas), active=True, updated_at=now))
        added += result.rowcount
    return added


async def active(session: AsyncSession) -> list[Agent]:
    """Returns the agents new tasks may go to, by id."""
    rows = await session.exec(select(DeliveryAgent).where(col(DeliveryAgent.active).is_(True)).order_by(col(DeliveryAgent.id)))
    return [Agent(id=row.id, name=row.name, areas=row.areas) for row in rows.all()]


async def open_tasks(session: AsyncSession) -> dict[str, int]:
    """Returns how many open tasks each agent holds."""
    rows = await session.exec(select(DeliveryTask.agent_id, func.count()).where(DeliveryTask.status == TaskStatus.open).group_by(col(DeliveryTask.agent_id)))
    return dict(rows.all())


async def every(session: AsyncSession) -> list[DeliveryAgent]:
    """Returns the whole roster, inactive agents too, by id."""
    return list((await session.exec(select(DeliveryAgent).order_by(col(DeliveryAgent.id)))).all())


async def put(session: AsyncSession, agent_id: str, body: AgentIn, *, now: datetime) -> tuple[DeliveryAgent, bool]:
    """Adds an agent or changes their name, areas or whether tasks go to them; returns the agent and whether they are new.

    Refuses to deactivate the last active agent: new tasks must always have someone to go to. The active agents
    are locked first, so two supervisors deactivating the last two at once cannot both succeed.
    """
    working = (await session.exec(select(DeliveryAgent.id).where(col(DeliveryAgent.active).is_(True)).with_for_update())).all()
    if not body.active and set(working) <= {agent_id}:
        message = "the last active agent cannot be deactivated: new tasks would have no one to go to"
        raise Problem(409, "Last active agent", f"active: {message}", errors=[{"field": "active", "message": message}])
    agent = await session.get(DeliveryAgent, agent_id, with_for_update=True)
    created = agent is None
    agent = agent or DeliveryAgent(id=agent_id, name=body.name, active=body.active, updated_at=now)
    agent.name, agent.areas, agent.active, agent.updated_at = body.name, list(body.areas), body.active, now
    session.add(agent)
    return agent, created
