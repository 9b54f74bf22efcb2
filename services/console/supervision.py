"""The supervisors' forms, read and checked before delivery is asked: reassigning a task, an agent of the roster, a decision on held evidence."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from starlette.datastructures import FormData

from services.console.adapters.oversight import Decision
from services.console.posted import answer
from services.console.texts import FieldError

# Delivery's agent ids (services/delivery/policy.py AGENT_ID) and its limits (AgentIn, ReassignIn, ReviewIn).
AGENT_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")
LONGEST_NAME = 100
LONGEST_AREA = 50
MOST_AREAS = 50
LONGEST_REASSIGN_REASON = 200
LONGEST_REVIEW_REASON = 500
# Read well past every limit, so that a long answer is refused as too long rather than silently cut.
READ_UP_TO = 2000
# What may separate areas in the text a supervisor types: 、 or a comma (either width), a semicolon, a new line.
AREA_SEPARATORS = re.compile(r"[、,，;；\n]+")


def reason_errors(reason: str, *, field: str, longest: int) -> list[FieldError]:
    """Returns what is wrong with a reason a supervisor gives: delivery keeps it with the decision and in the audit log."""
    if len(reason) < 2:
        return [FieldError(field, "请填写事由（至少2个字）")]
    if len(reason) > longest:
        return [FieldError(field, f"事由最多{longest}个字")]
    return []


def read_reason(form: FormData) -> str:
    """Returns the reason a form gives, its whitespace tidied."""
    return answer(form, "reason", longest=READ_UP_TO)


@dataclass(frozen=True)
class Reassignment:
    """A supervisor's reassignment of an open task: to whom, and why."""

    task_id: str
    agent_id: str
    reason: str

    @classmethod
    def read(cls, task_id: str, form: FormData) -> Reassignment:
        """Reads the board's form for one task."""
        return cls(task_id=task_id, agent_id=answer(form, "agent_id", longest=100), reason=read_reason(form))

    def errors(self, *, active: Collection[str], holder: str | None) -> list[FieldError]:
        """Returns what is wrong before delivery is asked: an agent who is active and not the one holding the task, and a reason."""
        errors = []
        if not self.agent_id or self.agent_id not in active:
            errors.append(FieldError(f"agent_id-{self.task_id}", "请选择一名在岗的送达员"))
        elif self.agent_id == holder:
            errors.append(FieldError(f"agent_id-{self.task_id}", "任务已由该送达员负责，请选择另一名送达员"))
        return errors + reason_errors(self.reason, field=f"reason-{self.task_id}", longest=LONGEST_REASSIGN_REASON)


def areas_of(text: str) -> list[str]:
    """Returns the areas a text names, separated by 、, commas, semicolons or new lines, each once, in order."""
    found: list[str] = []
    for area in AREA_SEPARATORS.split(text):
        if (area := " ".join(area.split())) and area not in found:
            found.append(area)
    return found


def areas_text(areas: Sequence[str]) -> str:
    """Returns areas as the form shows them: joined by 、."""
    return "、".join(areas)


@dataclass(frozen=True)
class AgentForm:
    """An agent as the roster's forms give them: the add form (`new`) has the id too, an agent's form takes it from the address."""

    agent_id: str
    name: str
    areas_text: str
    active: bool
    new: bool = False

    @property
    def areas(self) -> list[str]:
        """Returns the areas the form names."""
        return areas_of(self.areas_text)

    @classmethod
    def read(cls, form: FormData, *, agent_id: str | None) -> AgentForm:
        """Reads the form for an agent: the one in the address when editing, the one typed when adding (agent_id None)."""
        areas = value if isinstance(value := form.get("areas"), str) else ""
        return cls(
            agent_id=answer(form, "id", longest=100).lower() if agent_id is None else agent_id,
            name=answer(form, "name", longest=READ_UP_TO),
            areas_text=areas[:READ_UP_TO],
            active=form.get("active") == "on",
            new=agent_id is None,
        )

    def errors(self, *, taken: Collection[str]) -> list[FieldError]:
        """Returns what is wrong before delivery is asked; a new agent's id must be free (delivery would change the agent it names)."""
        errors = []
        if self.new and not AGENT_ID.fullmatch(self.agent_id):
            errors.append(FieldError("id", "编号为2至64位小写字母、数字或连字符（-），以字母或数字开头，例如 agent-huancui-3"))
        elif self.new and self.agent_id in taken:
            errors.append(FieldError("id", "此编号已在花名册中，请换一个编号，或在花名册中修改该送达员"))
        if not self.name:
            errors.append(FieldError("name", "请填写姓名"))
        elif len(self.name) > LONGEST_NAME:
            errors.append(FieldError("name", f"姓名最多{LONGEST_NAME}个字"))
        if len(self.areas) > MOST_AREAS:
            errors.append(FieldError("areas", f"负责区域最多{MOST_AREAS}个"))
        elif any(len(area) > LONGEST_AREA for area in self.areas):
            errors.append(FieldError("areas", f"每个区域名称最多{LONGEST_AREA}个字"))
        return errors


@dataclass(frozen=True)
class Review:
    """A supervisor's decision on a held service's evidence, and why."""

    recipient_id: str
    decision: Decision
    reason: str

    @property
    def field(self) -> str:
        """Returns the id of the form's reason field (each held service has both forms on the list)."""
        return f"{self.decision}-{self.recipient_id}"

    def errors(self) -> list[FieldError]:
        """Returns what is wrong before delivery is asked."""
        return reason_errors(self.reason, field=self.field, longest=LONGEST_REVIEW_REASON)
