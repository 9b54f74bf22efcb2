"""Delivery's API for overseeing the team as the console uses it: everyone's open tasks, the roster, reassigning, held services and their review."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

from services.console.adapters.calls import ServiceApi, ServiceRefused, ServiceUnavailable
from services.console.adapters.delivery import Shape, TaskCard
from shared.plumbing.auth import Principal, Role

Decision = Literal["accept", "revisit"]


class TeamCard(TaskCard):
    """An open task as a supervisor sees it: the card and the agent who holds it."""

    agent_id: str


class Agent(Shape):
    """A member of the delivery team in the roster, with how many open tasks they hold."""

    id: str
    name: str
    areas: list[str]
    active: bool
    open_tasks: int


class Hold(Shape):
    """A reported service held because an item of its evidence carries a blocking flag, with every item's flags by evidence id."""

    recipient_id: str
    notice_id: str
    court_id: str
    case_number: str
    recipient_name: str
    task_id: str | None
    agent_id: str | None
    outcome: str
    reported_at: datetime
    flags: dict[str, list[str]]


class Decided(Shape):
    """The recipient as a supervisor's decision on held evidence left them."""

    recipient_id: str
    name: str
    status: str


class Oversight(Protocol):
    """Delivery's supervisors' API, each call made as the signed-in person (delivery decides who may)."""

    async def team_tasks(self, caller: Principal) -> list[TeamCard]: ...

    async def agents(self, caller: Principal) -> list[Agent]: ...

    async def put_agent(self, caller: Principal, agent_id: str, *, name: str, areas: Sequence[str], active: bool) -> tuple[Agent, bool]: ...

    async def reassign(self, caller: Principal, task_id: str, *, agent_id: str, reason: str) -> TeamCard: ...

    async def holds(self, caller: Principal) -> list[Hold]: ...

    async def decide(self, caller: Principal, recipient_id: str, *, decision: Decision, reason: str) -> Decided: ...


@dataclass(frozen=True)
class OversightClient:
    """Delivery's supervisors' API over HTTP."""

    api: ServiceApi

    async def team_tasks(self, caller: Principal) -> list[TeamCard]:
        """Returns every open task with its agent, late ones first, then by window."""
        return [TeamCard.model_validate(card) for card in (await self.api.call("GET", "/v1/tasks", caller)).json()]

    async def agents(self, caller: Principal) -> list[Agent]:
        """Returns the roster by id, inactive agents too."""
        return [Agent.model_validate(agent) for agent in (await self.api.call("GET", "/v1/agents", caller)).json()]

    async def put_agent(self, caller: Principal, agent_id: str, *, name: str, areas: Sequence[str], active: bool) -> tuple[Agent, bool]:
        """Adds or changes an agent; returns them and whether they were added (201)."""
        response = await self.api.call("PUT", f"/v1/agents/{_segment(agent_id)}", caller, json={"name": name, "areas": list(areas), "active": active})
        return Agent.model_validate(response.json()), response.status_code == 201

    async def reassign(self, caller: Principal, task_id: str, *, agent_id: str, reason: str) -> TeamCard:
        """Gives an open task to an active agent, with the reason delivery audits."""
        response = await self.api.call("POST", f"/v1/tasks/{_segment(task_id)}/reassign", caller, json={"agent_id": agent_id, "reason": reason})
        return TeamCard.model_validate(response.json())

    async def holds(self, caller: Principal) -> list[Hold]:
        """Returns the held services, the oldest report first."""
        return [Hold.model_validate(hold) for hold in (await self.api.call("GET", "/v1/holds", caller)).json()]

    async def decide(self, caller: Principal, recipient_id: str, *, decision: Decision, reason: str) -> Decided:
        """Accepts the held evidence or orders the step made again, with the reason kept with the decision."""
        response = await self.api.call("POST", f"/v1/holds/{_segment(recipient_id)}/{decision}", caller, json={"reason": reason})
        return Decided.model_validate(response.json())


def _segment(value: str) -> str:
    """Refuses an id that would leave its path segment; routes take ids of a safe alphabet already, this is the last guard."""
    if not value or any(c in value for c in "/?#%\\") or value in (".", ".."):
        raise ServiceRefused(404, {"detail": "not found"})
    return value


def _forbidden(caller: Principal) -> ServiceRefused:
    return ServiceRefused(403, {"title": "Forbidden", "detail": f"The role {caller.role.value!r} may not do this."})


@dataclass
class FakeOversight:
    """Delivery's supervisors' API in memory for unit tests, admitting the roles delivery admits to each call."""

    cards: dict[str, TeamCard] = field(default_factory=dict)
    roster: dict[str, Agent] = field(default_factory=dict)
    held: dict[str, Hold] = field(default_factory=dict)
    reassigned: list[tuple[str, str, str]] = field(default_factory=list)
    decisions: list[tuple[str, Decision, str]] = field(default_factory=list)
    # The next answer to a change, instead of making it: a refusal a test sets, used once.
    refusal: ServiceRefused | None = None
    down: bool = False

    def hire(self, agent_id: str, name: str, *, areas: Sequence[str] = (), active: bool = True) -> None:
        """Puts an agent on the roster."""
        self.roster[agent_id] = Agent(id=agent_id, name=name, areas=list(areas), active=active, open_tasks=0)

    def assign(self, agent_id: str, card: TaskCard) -> None:
        """Gives an open task to an agent."""
        self.cards[card.task_id] = TeamCard.model_validate(card.model_dump() | {"agent_id": agent_id})

    def hold(self, hold: Hold) -> None:
        """Holds a reported service for review."""
        self.held[hold.recipient_id] = hold

    def _admit(self, caller: Principal, *roles: Role) -> None:
        if self.down:
            raise ServiceUnavailable("delivery")
        if caller.role not in roles:
            raise _forbidden(caller)

    def _refused(self) -> None:
        if self.refusal is not None:
            refusal, self.refusal = self.refusal, None
            raise refusal

    async def team_tasks(self, caller: Principal) -> list[TeamCard]:
        """Returns every open task, late ones first, then by window."""
        self._admit(caller, Role.supervisor)
        return sorted(self.cards.values(), key=lambda card: (not card.late, card.window_start))

    async def agents(self, caller: Principal) -> list[Agent]:
        """Returns the roster by id, counting each agent's open tasks."""
        self._admit(caller, Role.supervisor, Role.auditor, Role.service)
        held = [card.agent_id for card in self.cards.values()]
        return [agent.model_copy(update={"open_tasks": held.count(agent.id)}) for _, agent in sorted(self.roster.items())]

    async def put_agent(self, caller: Principal, agent_id: str, *, name: str, areas: Sequence[str], active: bool) -> tuple[Agent, bool]:
        """Adds or changes an agent; the last active agent stays active (409)."""
        self._admit(caller, Role.supervisor)
        self._refused()
        if not active and {a.id for a in self.roster.values() if a.active} <= {agent_id}:
            raise ServiceRefused(409, {"title": "Last active agent", "errors": [{"field": "active", "message": "the last active agent cannot be deactivated"}]})
        created = agent_id not in self.roster
        self.roster[agent_id] = Agent(id=agent_id, name=name, areas=list(areas), active=active, open_tasks=0)
        held = sum(card.agent_id == agent_id for card in self.cards.values())
        return self.roster[agent_id].model_copy(update={"open_tasks": held}), created

    async def reassign(self, caller: Principal, task_id: str, *, agent_id: str, reason: str) -> TeamCard:
        """Gives the open task to an active agent (422 `agent_id` for another)."""
        self._admit(caller, Role.supervisor)
        if task_id not in self.cards:
            raise ServiceRefused(404, {"title": "Not found", "detail": f"No task {task_id}."})
        self._refused()
        if agent_id not in self.roster or not self.roster[agent_id].active:
            raise ServiceRefused(422, {"title": "Invalid reassignment", "errors": [{"field": "agent_id", "message": f"no active agent {agent_id} in the roster"}]})
        self.cards[task_id] = self.cards[task_id].model_copy(update={"agent_id": agent_id})
        self.reassigned.append((task_id, agent_id, reason))
        return self.cards[task_id]

    async def holds(self, caller: Principal) -> list[Hold]:
        """Returns the held services, the oldest report first."""
        self._admit(caller, Role.supervisor, Role.auditor, Role.service)
        return sorted(self.held.values(), key=lambda hold: (hold.reported_at, hold.recipient_id))

    async def decide(self, caller: Principal, recipient_id: str, *, decision: Decision, reason: str) -> Decided:
        """Takes the service off the list: served as reported once accepted, back in progress for a new visit otherwise."""
        self._admit(caller, Role.supervisor)
        if recipient_id not in self.held:
            raise ServiceRefused(404, {"title": "Not found", "detail": f"No recipient {recipient_id}."})
        self._refused()
        hold = self.held.pop(recipient_id)
        self.decisions.append((recipient_id, decision, reason))
        status = ("notice_period" if hold.outcome == "posted" else "served") if decision == "accept" else "in_progress"
        return Decided(recipient_id=recipient_id, name=hold.recipient_name, status=status)
