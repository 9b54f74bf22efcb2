"""The supervisors' view of the team through delivery's API, as the signed-in person: the board of everyone's open tasks, reassigning one, and the roster."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from services.console.adapters.calls import ServiceRefused
from services.console.adapters.oversight import Agent, TeamCard
from services.console.deps import ConsoleDeps
from services.console.domain import Crew, by_agent
from services.console.errors import PageError
from services.console.sessions import Visitor
from services.console.supervision import AgentForm, Reassignment
from services.console.texts import FieldError, field_errors


@dataclass(frozen=True)
class Board:
    """Everyone's open tasks by agent, and the roster they may be given to."""

    crews: list[Crew[TeamCard]]
    agents: list[Agent]

    @property
    def active(self) -> list[Agent]:
        """Returns the agents new and reassigned tasks may go to."""
        return [agent for agent in self.agents if agent.active]

    @property
    def tasks(self) -> int:
        """Returns how many open tasks the board shows."""
        return sum(len(crew.tasks) for crew in self.crews)

    @property
    def late(self) -> int:
        """Returns how many of them are late."""
        return sum(crew.late for crew in self.crews)

    def holder(self, task_id: str) -> Crew[TeamCard] | None:
        """Returns the crew that holds a task, if it is on the board."""
        return next((crew for crew in self.crews if any(task.task_id == task_id for task in crew.tasks)), None)


@dataclass(frozen=True)
class BoardRefused:
    """A reassignment refused (the form, or delivery: 422, or 409 for a task no longer open), with the board to show it on."""

    board: Board
    form: Reassignment
    errors: list[FieldError]
    status: int


@dataclass(frozen=True)
class RosterRefused:
    """An agent's form refused (the form, or delivery: 422, or 409 for deactivating the last active agent), with the roster as it stands."""

    agents: list[Agent]
    form: AgentForm
    errors: list[FieldError]
    status: int


# Delivery's fields of a reassignment and of an agent, and the form's inputs they are shown beside (with their labels).
REASSIGN_FIELDS = {"agent_id": ("agent_id", "送达员"), "reason": ("reason", "事由")}
AGENT_FIELDS = {"name": ("name", "姓名"), "areas": ("areas", "负责区域"), "active": ("active", "在岗")}
NO_SUCH_AGENT = PageError(404, "找不到送达员", "花名册中没有此送达员。请返回花名册查看。")
TASK_NOT_OPEN = "该任务已不是待办任务（可能刚记录了送达结果或已关闭），未能改派。"
LAST_ACTIVE = "不能停用最后一名在岗的送达员：新任务必须有人接收。请先让另一名送达员在岗。"


async def board(deps: ConsoleDeps, *, visitor: Visitor) -> Board:
    """Returns every open task by agent, each agent's late ones first and the agents with the most late first, with the roster."""
    tasks, agents = await asyncio.gather(deps.oversight.team_tasks(visitor.principal), deps.oversight.agents(visitor.principal))
    return Board(crews=by_agent(tasks, agents), agents=agents)


async def reassign(deps: ConsoleDeps, *, visitor: Visitor, form: Reassignment) -> TeamCard | BoardRefused:
    """Gives an open task to another active agent with the reason (delivery audits it); what is wrong comes back beside the form's fields."""
    shown = await board(deps, visitor=visitor)
    holder = shown.holder(form.task_id)
    errors = form.errors(active={agent.id for agent in shown.active}, holder=holder.agent_id if holder else None)
    status = 422
    if not errors:
        try:
            return await deps.oversight.reassign(visitor.principal, form.task_id, agent_id=form.agent_id, reason=form.reason)
        except ServiceRefused as refused:
            if refused.status not in (409, 422):
                raise
            status = refused.status
            errors = [FieldError("", TASK_NOT_OPEN)] if status == 409 else _on_task(field_errors(refused.errors, fields=REASSIGN_FIELDS), form.task_id)
            shown = await board(deps, visitor=visitor)
    return BoardRefused(board=shown, form=form, errors=errors, status=status)


def _on_task(errors: list[FieldError], task_id: str) -> list[FieldError]:
    """Returns errors beside the inputs of one task's form on the board (each task has its own)."""
    return [FieldError(f"{e.field}-{task_id}" if e.field else "", e.message) for e in errors]


async def roster(deps: ConsoleDeps, *, visitor: Visitor) -> list[Agent]:
    """Returns the roster by id, with each agent's open tasks."""
    return await deps.oversight.agents(visitor.principal)


async def agent(deps: ConsoleDeps, *, visitor: Visitor, agent_id: str) -> Agent:
    """Returns one agent of the roster (a 404 page for an id it does not have)."""
    found = next((agent for agent in await roster(deps, visitor=visitor) if agent.id == agent_id), None)
    if found is None:
        raise NO_SUCH_AGENT
    return found


async def put_agent(deps: ConsoleDeps, *, visitor: Visitor, form: AgentForm) -> tuple[Agent, bool] | RosterRefused:
    """Adds an agent or changes one (delivery audits it); returns them and whether they were added, or what is wrong beside the form's fields.

    Changing is for an agent the roster has (a 404 page otherwise): delivery's PUT would add one it does not know.
    """
    agents = await roster(deps, visitor=visitor)
    if not form.new and form.agent_id not in {agent.id for agent in agents}:
        raise NO_SUCH_AGENT
    errors = form.errors(taken={agent.id for agent in agents})
    status = 422
    if not errors:
        try:
            return await deps.oversight.put_agent(visitor.principal, form.agent_id, name=form.name, areas=form.areas, active=form.active)
        except ServiceRefused as refused:
            if refused.status not in (409, 422):
                raise
            status = refused.status
            errors = [FieldError("active", LAST_ACTIVE)] if status == 409 else field_errors(refused.errors, fields=AGENT_FIELDS)
    return RosterRefused(agents=agents, form=form, errors=errors, status=status)
