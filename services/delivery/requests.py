"""Delivery's request and response bodies: where a notice stands, the team's task cards and outcome reports, a publication."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from services.delivery.domain.inputs import TaskOutcome
from services.delivery.domain.state import Attempt, RecipientStatus, Served
from shared.contracts.events import Exhausted, SignerRole, Witness


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


class OutcomeIn(BaseModel):
    """An agent's report of a visit or a posting."""

    model_config = ConfigDict(extra="forbid")

    outcome: TaskOutcome
    at: AwareDatetime | None = Field(default=None, description="when it happened; now when omitted")
    signer: SignerIn | None = None
    witness: Witness | None = None
    evidence_ids: list[str] = Field(default=[], max_length=20)
    new_address: NewAddressIn | None = None
    note: str | None = Field(default=None, max_length=500)


class OutcomeOut(BaseModel):
    task_id: str
    status: str
    recipient_status: RecipientStatus
    waiting_for_evidence: list[str]


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
