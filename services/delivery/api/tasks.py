"""Routes for the delivery team's queue: `GET /v1/tasks` and `POST /v1/tasks/{id}/outcome` for visits and postings."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from services.delivery.deps import DepsDep
from services.delivery.handlers import team
from services.delivery.models import TaskStatus
from services.delivery.requests import OutcomeIn, OutcomeOut, TaskCard
from shared.plumbing.auth import Principal, Role, require
from shared.plumbing.openapi import problems

router = APIRouter(prefix="/v1", tags=["tasks"])

Workers = Annotated[Principal, Depends(require(Role.agent, Role.supervisor))]


@router.get("/tasks", response_model=list[TaskCard], summary="The caller's open visits and postings")
async def my_tasks(
    principal: Workers,
    deps: DepsDep,
    agent: Annotated[str | None, Query(max_length=64, description="supervisors only: one agent's queue")] = None,
    status: Annotated[TaskStatus, Query()] = TaskStatus.open,
) -> list[TaskCard]:
    """An agent sees only their own tasks, soonest window first; a supervisor sees everyone's or one agent's."""
    return await team.tasks(deps, principal=principal, agent=agent, status=status)


@router.post("/tasks/{task_id}/outcome", response_model=OutcomeOut, summary="Report what happened on a visit or posting", responses=problems(409))
async def report_outcome(task_id: Annotated[str, Path(max_length=64)], report: OutcomeIn, principal: Workers, deps: DepsDep) -> OutcomeOut:
    """Records the outcome of the caller's open task; a service, refusal or posting that names evidence counts once evidence recorded it unflagged."""
    return await team.report_outcome(deps, task_id=task_id, report=report, principal=principal)
