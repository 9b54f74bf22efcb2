"""Routes for the delivery team's roster: who new tasks may go to, and in which areas."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response

from services.delivery.deps import DepsDep
from services.delivery.handlers import roster
from services.delivery.policy import AGENT_ID
from services.delivery.requests import AgentIn, AgentOut
from shared.plumbing.auth import Principal, Role, require
from shared.plumbing.openapi import problems

router = APIRouter(prefix="/v1", tags=["roster"])

Overseers = Annotated[Principal, Depends(require(Role.supervisor, Role.auditor, Role.service))]
Supervisors = Annotated[Principal, Depends(require(Role.supervisor))]
AgentId = Annotated[str, Path(pattern=AGENT_ID)]


@router.get("/agents", response_model=list[AgentOut], summary="The delivery team's roster")
async def agents(_: Overseers, deps: DepsDep) -> list[AgentOut]:
    """Returns every agent, inactive ones too, with their areas and how many open tasks they hold."""
    return await roster.agents(deps)


@router.put("/agents/{agent_id}", response_model=AgentOut, summary="Add or change an agent (supervisors)", responses=problems(409) | {201: {"description": "Added"}})
async def put_agent(agent_id: AgentId, body: AgentIn, response: Response, principal: Supervisors, deps: DepsDep) -> AgentOut:
    """Adds an agent or changes their name, areas or whether new tasks go to them; deactivating leaves their open tasks with them (reassign them), and the last active agent stays active."""
    agent, created = await roster.put_agent(deps, agent_id=agent_id, body=body, principal=principal)
    if created:
        response.status_code = 201
    return agent
