"""Delivery's request and response bodies: where a notice stands, the team's task cards, details and outcome reports, a publication, the roster."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from services.delivery.domain.inputs import TaskOutcome
from services.delivery.domain.state import Attempt, RecipientStatus, Served
from shared.contracts.events import Exhausted, SignerRole


class TaskView(BaseModel):
    task_id: str
    attempt_id: str
    kind: str
    agent_id: str
    status: str
    address: str
    window_start: datetime
    window_end: datetime
    reported_at: datetime | None


class RecipientDelivery(BaseModel):
    recipient_id: str
    name: str
    role: str
    status: RecipientStatus
    tier: str
    whereabouts_unknown: bool
    attempts: list[Attempt]
    tasks: list[TaskView]
    served: Served | None
    service_date: date | None
    legal_basis: str | None
    exhausted: list[Exhausted]
    public_notice_ends: date | None


class NoticeDelivery(BaseModel):
    notice_id: str
    court_id: str
    case_number: str
    stage: str
    status: str
    due_date: date
    registered_at: datetime
    received_at: datetime
    warned_at: datetime | None
    overdue_at: datetime | None
    completed_at: datetime | None
    recipients: list[RecipientDelivery]


class PublicationIn(BaseModel):
    """The court published a public notice for the recipient on this day (CPL 95)."""

    model_config = ConfigDict(extra="forbid")

    published_on: date


class TaskCard(BaseModel):
    """What an agent needs for one visit or posting, and nothing more."""

    task_id: str
    notice_id: str
    recipient_id: str
    agent_id: str
    kind: str
    status: str
    case_number: str
    court_name: str
    recipient_name: str
    recipient_kind: str
    id_number_masked: str | None
    address: str
    postcode: str | None
    window_start: datetime
    window_end: datetime
    documents: list[str]
    outcomes: list[TaskOutcome]
    late: bool = Field(description="open, and its window has ended")
    tried: list[Tried] = Field(description="what was already tried for the recipient, oldest first")


class SignerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    role: SignerRole
    relation: str | None = Field(default=None, max_length=100)


class NewAddressIn(BaseModel):
    """The address a recipient moved to, as the agent learned it."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=4, max_length=300)
    postcode: str | None = Field(default=None, pattern=r"^\d{6}$")


class WitnessIn(BaseModel):
    """The witness of a refusal (CPL 89) as the agent reports them: who, of which organisation, on which day, and why the recipient refused."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=100)
    organisation: str = Field(min_length=1, max_length=100)
    witnessed_on: date | None = Field(default=None, description="the day the witness saw the documents left; the report's day in Beijing when omitted")
    refusal_reason: str | None = Field(default=None, max_length=300, description="拒收事由, the reason the recipient gave; required for a refusal with a witness (CPL 89)")


class OutcomeIn(BaseModel):
    """An agent's report of a visit or a posting."""

    model_config = ConfigDict(extra="forbid")

    outcome: TaskOutcome
    at: AwareDatetime | None = Field(default=None, description="when it happened; now when omitted")
    signer: SignerIn | None = None
    witness: WitnessIn | None = None
    evidence_ids: list[str] = Field(default=[], max_length=20)
    new_address: NewAddressIn | None = None
    note: str | None = Field(default=None, max_length=500)


class StandingState(StrEnum):
    """Where the reported service stands: counted, held for a supervisor's review, or waiting for its evidence to be recorded."""

    counted = "counted"
    held = "held"
    awaiting_evidence = "awaiting_evidence"


class Standing(BaseModel):
    """What the report did, as known when answering: evidence's flags arrive later and may still hold a service that waits for them."""

    state: StandingState
    reasons: list[str] = Field(description="why it is held: each blocking flag of each item, in Chinese")
    remarks: list[str] = Field(description="what a supervisor will see about the report, e.g. reported_before_window")
    message_zh: str = Field(description="all of it in one Chinese sentence or two, for the agent")


class OutcomeOut(BaseModel):
    task_id: str
    status: str
    recipient_status: RecipientStatus
    waiting_for_evidence: list[str]
    standing: Standing


# --- The team's task pages: what was tried, a task in full, beginning a visit, reassigning, the roster ---


class Tried(BaseModel):
    """An attempt already made for the recipient: its channel, how it stands and what came of it; never its number or mailbox."""

    channel: str
    status: str
    detail: str | None
    at: datetime | None = Field(description="when it ended, else when it started")


class PrintApart(BaseModel):
    """A document kept as OFD: not in print.pdf, printed on its own from /v1/tasks/{task_id}/documents/{sha256}."""

    title: str
    sha256: str


class TaskDetail(TaskCard):
    """One task in full: its card, the recipient's role, where the address is, who may sign, and the phones once the visit is begun."""

    party_role: str
    lat: float | None
    lon: float | None
    signer_roles: list[SignerRole] = Field(description="who may sign for a recipient of this kind (CPL 88; 专递 Art. 7, 9)")
    begun_at: datetime | None
    phones: list[str] | None = Field(description="null until the visit is begun (POST /v1/tasks/{task_id}/begin); every showing is in the audit log")
    reported_at: datetime | None
    outcome: OutcomeIn | None = Field(description="the report as the agent made it")
    print_apart: list[PrintApart] = Field(default_factory=list, description="OFD documents to print one by one beside print.pdf")


class BeginIn(BaseModel):
    """Why the agent needs the recipient's phones now (staged authorisation: the reason goes to the audit log)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(min_length=2, max_length=200)


class ReassignIn(BaseModel):
    """The active agent a supervisor gives an open task to, and why."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    agent_id: str = Field(min_length=1, max_length=64)
    reason: str = Field(min_length=2, max_length=200)


class AgentIn(BaseModel):
    """A member of the delivery team as a supervisor keeps them in the roster."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=100)
    areas: list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]] = Field(
        max_length=50, description="districts or cities (环翠区, 威海市) whose tasks go to them first"
    )
    active: bool = Field(description="whether new tasks go to them; their open tasks stay theirs either way")


class AgentOut(BaseModel):
    id: str
    name: str
    areas: list[str]
    active: bool
    open_tasks: int = Field(description="open tasks assigned to them")


# Held evidence: the supervisors' list and their review.


class HoldOut(BaseModel):
    """A reported service held because an item of its evidence carries a blocking flag; it waits for a supervisor."""

    recipient_id: str
    notice_id: str
    court_id: str
    case_number: str
    recipient_name: str
    task_id: str | None = Field(description="the task whose report is held")
    agent_id: str | None = Field(description="the agent the task was assigned to")
    outcome: TaskOutcome
    reported_at: datetime
    flags: dict[str, list[str]] = Field(description="every item the report named, by evidence id, with the flags evidence's checks raised (the policy blocks on some)")


class ReviewIn(BaseModel):
    """Why the supervisor accepts the held evidence or orders the step made again: kept with the decision and in the audit log."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=2, max_length=500, pattern=r"\S", description="in the supervisor's words; not blank")


# The notice list.


class NoticeRecipient(BaseModel):
    recipient_id: str
    name: str
    status: RecipientStatus


class NoticeRow(BaseModel):
    """One notice in the list: where it stands, its deadline alerts, its recipients and the agents with its open tasks."""

    notice_id: str
    court_id: str
    case_number: str
    status: str
    due_date: date
    registered_at: datetime
    warned_at: datetime | None
    overdue_at: datetime | None
    completed_at: datetime | None
    recipients: list[NoticeRecipient]
    agents: list[str] = Field(description="agents with an open task of the notice")


class NoticePage(BaseModel):
    """A page of the notice list, by due date then notice id; `next_cursor` asks for the next page, None on the last."""

    items: list[NoticeRow]
    next_cursor: str | None
