"""The supervisors' pages for the team: the board of everyone's open tasks with reassigning, and the roster with adding and changing agents."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.console import access, posted
from services.console.api.guards import Acting, SignedIn
from services.console.api.tasks import TaskId
from services.console.deps import DepsDep
from services.console.handlers import calendar, team
from services.console.handlers.team import BoardRefused, RosterRefused
from services.console.pages import render
from services.console.supervision import AGENT_ID, AgentForm, Reassignment, areas_text

router = APIRouter(include_in_schema=False)

AgentId = Annotated[str, Path(pattern=AGENT_ID.pattern)]


def _board_notice(board: team.Board, task_id: str | None) -> str:
    """Says where a task just reassigned now is."""
    crew = board.holder(task_id) if task_id else None
    if crew is None:
        return "已改派。" if task_id else ""
    case = next(task.case_number for task in crew.tasks if task.task_id == task_id)
    return f"已改派：{case} 现由{crew.name}负责。"


@router.get("/board", response_class=HTMLResponse)
async def board(request: Request, visitor: SignedIn, deps: DepsDep, reassigned: Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9_-]+$")] = None) -> Response:
    """Shows every open task grouped by agent, late ones first and marked, with a form to give each to another active agent."""
    access.admit(visitor, access.BOARD)
    shown = await team.board(deps, visitor=visitor)
    return render("board.html", request=request, board=shown, errors=[], form=None, notice=_board_notice(shown, reassigned), calendar_missing=calendar.missing(deps))


@router.post("/tasks/{task_id}/reassign", response_class=HTMLResponse)
async def reassign(task_id: TaskId, request: Request, visitor: Acting, deps: DepsDep) -> Response:
    """Gives an open task to another active agent with a reason; the board again, saying so, or with what is wrong beside the task's form."""
    access.admit(visitor, access.BOARD)
    done = await team.reassign(deps, visitor=visitor, form=Reassignment.read(task_id, await posted.submitted(request)))
    if isinstance(done, BoardRefused):
        return render("board.html", request=request, status=done.status, board=done.board, errors=done.errors, form=done.form, notice="", calendar_missing=calendar.missing(deps))
    return RedirectResponse(f"/board?reassigned={task_id}#task-{task_id}", status_code=303)


def _empty_agent() -> AgentForm:
    return AgentForm(agent_id="", name="", areas_text="", active=True, new=True)


@router.get("/roster", response_class=HTMLResponse)
async def roster(
    request: Request,
    visitor: SignedIn,
    deps: DepsDep,
    added: Annotated[str | None, Query(pattern=AGENT_ID.pattern)] = None,
    saved: Annotated[str | None, Query(pattern=AGENT_ID.pattern)] = None,
) -> Response:
    """Lists the agents with their areas, whether they are active and their open tasks; supervisors get the form to add one."""
    access.admit(visitor, access.ROSTER)
    agents = await team.roster(deps, visitor=visitor)
    named = next((agent.name for agent in agents if agent.id in (added, saved)), None)
    notice = f"已{'添加' if added else '保存'}送达员“{named}”。" if named else ""
    return render("roster.html", request=request, agents=agents, keeper=access.may(visitor, access.SUPERVISORS), form=_empty_agent(), errors=[], notice=notice)


@router.post("/roster", response_class=HTMLResponse)
async def add_agent(request: Request, visitor: Acting, deps: DepsDep) -> Response:
    """Adds an agent to the roster; the roster again, saying so, or the form with what is wrong beside its fields."""
    access.admit(visitor, access.SUPERVISORS)
    done = await team.put_agent(deps, visitor=visitor, form=AgentForm.read(await posted.submitted(request), agent_id=None))
    if isinstance(done, RosterRefused):
        return render("roster.html", request=request, status=done.status, agents=done.agents, keeper=True, form=done.form, errors=done.errors, notice="")
    agent, created = done
    return RedirectResponse(f"/roster?{'added' if created else 'saved'}={agent.id}#agent-{agent.id}", status_code=303)


@router.get("/roster/{agent_id}", response_class=HTMLResponse)
async def agent_form(agent_id: AgentId, request: Request, visitor: SignedIn, deps: DepsDep) -> Response:
    """Shows the form to change an agent's name, areas and whether new tasks go to them."""
    access.admit(visitor, access.SUPERVISORS)
    agent = await team.agent(deps, visitor=visitor, agent_id=agent_id)
    form = AgentForm(agent_id=agent.id, name=agent.name, areas_text=areas_text(agent.areas), active=agent.active)
    return render("agent.html", request=request, agent=agent, form=form, errors=[])


@router.post("/roster/{agent_id}", response_class=HTMLResponse)
async def change_agent(agent_id: AgentId, request: Request, visitor: Acting, deps: DepsDep) -> Response:
    """Changes an agent; the roster, saying so, or the form again with what is wrong (the last active agent stays active)."""
    access.admit(visitor, access.SUPERVISORS)
    done = await team.put_agent(deps, visitor=visitor, form=AgentForm.read(await posted.submitted(request), agent_id=agent_id))
    if isinstance(done, RosterRefused):
        agent = next(a for a in done.agents if a.id == agent_id)
        return render("agent.html", request=request, status=done.status, agent=agent, form=done.form, errors=done.errors)
    return RedirectResponse(f"/roster?saved={agent_id}#agent-{agent_id}", status_code=303)
