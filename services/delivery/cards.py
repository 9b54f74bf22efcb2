"""What the team's pages show of a task: its card, its detail, what was already tried for the recipient (never a number or mailbox), and its phones."""

from __future__ import annotations

from datetime import datetime

from services.delivery.domain import law
from services.delivery.domain.state import AttemptStatus, RecipientState
from services.delivery.models import DeliveryNotice, DeliveryTask, TaskStatus
from services.delivery.requests import OutcomeIn, PrintApart, TaskCard, TaskDetail, Tried
from shared.contracts.events import Channel, GeoPoint, SignerRole
from shared.contracts.values import mask_id_number
from shared.plumbing.documents import OFD
from shared.plumbing.masking import mask_text


def is_late(task: DeliveryTask, *, now: datetime) -> bool:
    """Tells whether an open task's window has ended."""
    return task.status == TaskStatus.open and now > task.window_end


def tried(task: DeliveryTask, state: RecipientState) -> list[Tried]:
    """Returns the recipient's attempts before this task's own, oldest first; a detail that quotes a number or mailbox (an agent's note) has it masked."""
    return [
        Tried(channel=a.channel.value, status=a.status.value, detail=mask_text(a.detail) if a.detail else None, at=a.finished_at or a.started_at)
        for a in state.attempts
        if a.attempt_id != task.attempt_id and a.status is not AttemptStatus.scheduled
    ]


def card(task: DeliveryTask, state: RecipientState, *, now: datetime) -> TaskCard:
    """Returns the task's card."""
    recipient = state.recipient
    return TaskCard(
        task_id=task.id,
        notice_id=task.notice_id,
        recipient_id=task.recipient_id,
        agent_id=task.agent_id,
        kind=task.kind,
        status=task.status,
        case_number=state.case.case_number,
        court_name=state.case.court_name,
        recipient_name=recipient.name,
        recipient_kind=recipient.kind,
        id_number_masked=mask_id_number(recipient.id_number) if recipient.id_number else None,
        address=task.address,
        postcode=task.postcode,
        window_start=task.window_start,
        window_end=task.window_end,
        documents=state.case.documents,
        outcomes=sorted(law.TASK_OUTCOMES[Channel(task.kind)]),
        late=is_late(task, now=now),
        tried=tried(task, state),
    )


def location(task: DeliveryTask, state: RecipientState) -> GeoPoint | None:
    """Returns where the task's address is on the map, when intake knew: the place of the step its attempt took."""
    attempt = state.attempt(task.attempt_id)
    place = state.plan[attempt.step].place if attempt is not None else None
    return place.location if place is not None else None


def phones(state: RecipientState) -> list[str]:
    """Returns the numbers the recipient may be called on: their own and those that reached them before, without the ones found unusable."""
    recipient = state.recipient
    numbers = [phone.e164 for phone in recipient.phones] + [contact.value for contact in recipient.contacts if contact.kind == "phone"]
    return [number for number in dict.fromkeys(numbers) if number not in state.unusable]


def party_ids(state: RecipientState) -> list[str]:
    """Returns the recipient's party id as the audit log names it (none when intake matched no party)."""
    party = state.recipient.party
    return [party.party_id] if party is not None and party.party_id else []


def detail(task: DeliveryTask, state: RecipientState, *, now: datetime, shown: list[str] | None, notice: DeliveryNotice) -> TaskDetail:
    """Returns the task in full; `shown` are the phones the caller is shown, None before the visit is begun; the notice's OFD documents to print apart."""
    point = location(task, state)
    return TaskDetail(
        **card(task, state, now=now).model_dump(),
        party_role=state.recipient.role,
        lat=point.lat if point else None,
        lon=point.lon if point else None,
        signer_roles=[role for role in SignerRole if role in law.SIGNERS[state.recipient.kind]],
        begun_at=task.begun_at,
        phones=shown,
        reported_at=task.reported_at,
        outcome=OutcomeIn.model_validate(task.outcome) if task.outcome is not None else None,
        print_apart=[PrintApart(title=d["title"], sha256=d["sha256"]) for d in notice.documents if d.get("content_type") == OFD],
    )
