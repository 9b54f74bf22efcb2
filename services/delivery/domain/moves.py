"""Moving along a recipient's plan: starting attempts, closing them as failed or succeeded, and serving (the machine's shared steps)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from services.delivery.domain import law
from services.delivery.domain.contact import next_contact
from services.delivery.domain.decision import CloseTask, Decision, OpenTask, Send, Withdraw
from services.delivery.domain.plan import plan_for, posting_window, visit_window
from services.delivery.domain.state import Attempt, AttemptStatus, Case, Claim, Place, RecipientState, RecipientStatus, Served, Step
from services.delivery.policy import Policy
from shared.contracts.events import (
    AttemptFailed,
    AttemptStarted,
    AttemptSucceeded,
    AttemptSuperseded,
    Channel,
    DispatchPostalItem,
    Exhausted,
    Recipient,
    RecipientServed,
    RecipientUnserved,
    ReturnReason,
    ServiceMethod,
    Tier,
    Transmission,
)
from shared.plumbing.clock import SHANGHAI, local_date
from shared.plumbing.workdays import add_working_days, add_working_hours, end_of_working_day

_ATTEMPTS = uuid.UUID("5b1c7f0e-9d2a-4f61-8a53-2f0d6c1e9b47")

TASKS = frozenset({Channel.visit, Channel.posting})


def start(*, case: Case, recipient: Recipient, now: datetime, policy: Policy) -> Decision:
    """Plans a newly registered recipient's delivery and begins its first step."""
    state = RecipientState(case=case, recipient=recipient, plan=plan_for(recipient, policy))
    return begin(Decision(state), 0, now=now, policy=policy)


def new_attempt_id(state: RecipientState) -> str:
    return str(uuid.uuid5(_ATTEMPTS, f"{state.case.notice_id}/{state.recipient.recipient_id}/{len(state.attempts)}"))


def _usable(state: RecipientState, step: Step) -> bool:
    return step.target is None or step.target not in state.unusable


def begin(decision: Decision, index: int, *, now: datetime, policy: Policy, not_before: datetime | None = None) -> Decision:
    """Moves to step `index` (skipping unusable numbers) and starts it, or schedules it for `not_before`."""
    state = decision.state
    while not _usable(state, state.plan[index]):
        index += 1
    # A retry scheduled for later is one step's own: the group starts together only when the plan reaches it.
    if policy.electronic.parallel and not state.parallel and not_before is None and state.plan[index].channel in PARALLEL:
        group = parallel_group(state, index)
        if len(group) > 1:
            return _begin_parallel(decision, group, now=now, policy=policy)
    step = state.plan[index]
    state = state.model_copy(update={"cursor": index})
    if step.tier is Tier.public_notice:
        decision.state = state.model_copy(update={"status": RecipientStatus.awaiting_publication})
        decision.events.append(
            RecipientUnserved(
                notice_id=state.case.notice_id,
                recipient_id=state.recipient.recipient_id,
                exhausted=state.exhausted,
                recommendation="public_notice",
                at=now,
            )
        )
        return decision
    decision.state = state.model_copy(update={"attempts": [*state.attempts, _scheduled(state, index, not_before=not_before)]})
    return decision if not_before is not None else open_attempt(decision, now=now, policy=policy)


def _scheduled(state: RecipientState, index: int, *, not_before: datetime | None = None) -> Attempt:
    """A new attempt at step `index`, scheduled for `not_before` (or to be opened at once)."""
    step = state.plan[index]
    return Attempt(
        attempt_id=new_attempt_id(state),
        step=index,
        tier=step.tier,
        channel=step.channel,
        target=step.target or (step.place.text if step.place else None),
        status=AttemptStatus.scheduled,
        not_before=not_before,
    )


def open_attempt(decision: Decision, *, now: datetime, policy: Policy, attempt: Attempt | None = None) -> Decision:
    """Starts a scheduled attempt (the current one unless another, e.g. one run in parallel, is named): a message or call, a task, or a mail booking."""
    state = decision.state
    attempt = attempt or state.current
    assert attempt is not None and attempt.status is AttemptStatus.scheduled
    step = state.plan[attempt.step]
    if (contact_at := next_contact(step.channel, now, policy)) > now:
        # Outside the channel's contact hours: the sweeper opens it when they begin, and its arrival wait counts from then.
        decision.state = replace_attempt(state, attempt.model_copy(update={"not_before": contact_at}))
        return decision
    hours = policy.working_hours
    window: tuple[datetime, datetime] | None = None
    due: datetime | None = None
    if step.channel in TASKS:
        assert step.place is not None
        if step.channel is Channel.visit:
            assert step.slot is not None
            window = visit_window(policy.direct.visits[step.slot], after=now, not_on=_last_visit_day(state))
        else:
            window = posting_window(now, policy)
        decision.actions.append(OpenTask(attempt_id=attempt.attempt_id, kind=step.channel, place=step.place, window_start=window[0], window_end=window[1]))
    elif step.channel is Channel.court_mail:
        assert step.place is not None
        last = add_working_days(local_date(now), policy.postal.receipt_wait_days)
        due = end_of_working_day(last, day_end=hours.end)
        decision.commands.append(_dispatch(state, attempt, step.place))
    else:
        assert step.target is not None
        due = add_working_hours(now, policy.electronic.arrival_wait_hours, day_start=hours.start, day_end=hours.end)
        decision.actions.append(Send(attempt_id=attempt.attempt_id, channel=step.channel, target=step.target))
    opened = attempt.model_copy(
        update={
            "status": AttemptStatus.open,
            "started_at": now,
            "due_at": due,
            "window_start": window[0] if window else None,
            "window_end": window[1] if window else None,
        }
    )
    decision.state = replace_attempt(state, opened)
    decision.events.append(
        AttemptStarted(
            **about(state, attempt),
            started_at=now,
            due_at=due or (window[1] if window else None),
            cost_fen=policy.prices.of(attempt.channel),
        )
    )
    return decision


def _last_visit_day(state: RecipientState) -> date | None:
    visits = [a for a in state.attempts if a.channel is Channel.visit and a.window_start is not None]
    return visits[-1].window_start.astimezone(SHANGHAI).date() if visits and visits[-1].window_start else None


def _dispatch(state: RecipientState, attempt: Attempt, place: Place) -> DispatchPostalItem:
    recipient = state.recipient
    return DispatchPostalItem(
        notice_id=state.case.notice_id,
        recipient_id=recipient.recipient_id,
        attempt_id=attempt.attempt_id,
        court_id=state.case.court_id,
        court_name=state.case.court_name,
        case_number=state.case.case_number,
        receiver_name=recipient.name,
        receiver_phone=recipient.phones[0].e164 if recipient.phones else None,
        address=place.text,
        postcode=place.postcode,
        documents=state.case.documents,
    )


def about(state: RecipientState, attempt: Attempt) -> dict[str, Any]:
    """The fields every event about one attempt carries: its notice, recipient and id, and the tier, channel and target it used."""
    return {
        "notice_id": state.case.notice_id,
        "recipient_id": state.recipient.recipient_id,
        "attempt_id": attempt.attempt_id,
        "tier": attempt.tier,
        "channel": attempt.channel,
        "target": attempt.target,
    }


def replace_attempt(state: RecipientState, attempt: Attempt) -> RecipientState:
    return state.model_copy(update={"attempts": [attempt if a.attempt_id == attempt.attempt_id else a for a in state.attempts]})


def fail(
    decision: Decision, attempt: Attempt, *, reason: str, at: datetime, error_code: int | None = None, record: Transmission | None = None, retry_at: datetime | None = None
) -> None:
    """Closes an attempt as failed and lists it among the exhausted methods."""
    state = decision.state
    failed = attempt.model_copy(update={"status": AttemptStatus.failed, "finished_at": at, "detail": reason, "error_code": error_code})
    exhausted = Exhausted(tier=attempt.tier, channel=attempt.channel, target=attempt.target, reason=reason, at=at)
    decision.state = replace_attempt(state, failed).model_copy(update={"exhausted": [*state.exhausted, exhausted]})
    decision.events.append(
        AttemptFailed(
            **about(state, attempt),
            at=at,
            reason=reason,
            error_code=error_code,
            retry_at=retry_at,
            record=record,
            remarks=attempt.remarks,
        )
    )
    if attempt.channel in TASKS:
        decision.actions.append(CloseTask(attempt_id=attempt.attempt_id))


def succeed(decision: Decision, attempt: Attempt, *, detail: str, at: datetime, record: Transmission | None = None) -> None:
    state = decision.state
    # An arrival that waited for the acknowledgement keeps its own time (OLR Art. 31(2)).
    done = attempt.model_copy(update={"status": AttemptStatus.succeeded, "finished_at": at, "detail": detail, "arrived_at": attempt.arrived_at or at})
    decision.state = replace_attempt(state, done)
    decision.events.append(
        AttemptSucceeded(
            **about(state, attempt),
            at=at,
            detail=detail,
            record=record,
            remarks=attempt.remarks,
        )
    )
    if attempt.channel in TASKS:
        decision.actions.append(CloseTask(attempt_id=attempt.attempt_id))


def next_step(decision: Decision, *, now: datetime, policy: Policy) -> Decision:
    return begin(decision, decision.state.cursor + 1, now=now, policy=policy)


def serve(decision: Decision, served: Served, *, now: datetime) -> Decision:
    state = decision.state
    decision.state = state.model_copy(update={"status": RecipientStatus.served, "served": served, "claim": None})
    decision.events.append(
        RecipientServed(
            notice_id=state.case.notice_id,
            recipient_id=state.recipient.recipient_id,
            method=served.method,
            channel=served.channel,
            target=served.target,
            service_date=served.service_date,
            legal_basis=served.basis,
            deemed=served.deemed,
            deemed_reason=served.deemed_reason,
            served_at=served.served_at or now,
            attempt_id=served.attempt_id,
            signer_name=served.signer_name,
            signer_role=served.signer_role,
            relation=served.relation,
            witness=served.witness,
            evidence_ids=served.evidence_ids,
            review=served.review,
            presumed=served.presumed,
            consent=served.consent,
        )
    )
    return decision


def served_by(
    method: ServiceMethod, attempt: Attempt, *, event_day: date, deemed: bool, at: datetime | None = None, claim: Claim | None = None, returned: ReturnReason | None = None
) -> Served:
    """The outcome of a service by `method` whose deciding event happened on `event_day`; a deemed one says why (`returned`: a court mail item's return reason)."""
    return Served(
        attempt_id=attempt.attempt_id,
        method=method,
        channel=attempt.channel,
        target=attempt.target,
        service_date=law.service_date(method, event_day),
        basis=law.basis(method, deemed=deemed),
        deemed=deemed,
        deemed_reason=law.deemed_reason(method, returned=returned) if deemed else None,
        served_at=at,
        signer_name=claim.signature.name if claim and claim.signature else None,
        signer_role=claim.signature.role if claim and claim.signature else None,
        relation=claim.signature.relation if claim and claim.signature else None,
        witness=claim.witness if claim else None,
        evidence_ids=claim.evidence_ids if claim else [],
        review=claim.review if claim else None,
    )


# --- Parallel electronic service (OLR Art. 32) ---

# The consented written channels may run at once; a call serves no document, so it never runs beside them.
PARALLEL = frozenset({Channel.lawyer_firm, Channel.sms, Channel.email})


def parallel_group(state: RecipientState, index: int) -> list[int]:
    """The usable steps of the written electronic channels from `index` up to the first step of another channel."""
    group: list[int] = []
    for at, step in enumerate(state.plan[index:], start=index):
        if step.channel not in PARALLEL:
            break
        if _usable(state, step):
            group.append(at)
    return group


def _begin_parallel(decision: Decision, group: list[int], *, now: datetime, policy: Policy) -> Decision:
    """Starts every step of `group` at once, leaving the cursor on the last."""
    for index in group:
        state = decision.state
        decision.state = state.model_copy(update={"cursor": index, "attempts": [*state.attempts, _scheduled(state, index)]})
        open_attempt(decision, now=now, policy=policy)
    decision.state = decision.state.model_copy(update={"parallel": group})
    return decision


def retry_parallel(decision: Decision, attempt: Attempt, *, not_before: datetime) -> Decision:
    """Schedules the failed parallel attempt's step again for `not_before`, beside the others still running."""
    state = decision.state
    decision.state = state.model_copy(update={"attempts": [*state.attempts, _scheduled(state, attempt.step, not_before=not_before)]})
    return decision


def supersede(decision: Decision, winner: Attempt, *, at: datetime) -> None:
    """Stops every other parallel attempt still running: the winner served first (OLR Art. 32); unsent messages are withdrawn."""
    state = decision.state
    for attempt in state.running():
        stopped = attempt.model_copy(update={"status": AttemptStatus.superseded, "finished_at": at, "detail": f"superseded by {winner.attempt_id}"})
        decision.state = replace_attempt(decision.state, stopped)
        decision.actions.append(Withdraw(attempt_id=attempt.attempt_id))
        decision.events.append(
            AttemptSuperseded(
                **about(state, attempt),
                at=at,
                by_attempt_id=winner.attempt_id,
            )
        )
    decision.state = decision.state.model_copy(update={"parallel": []})


def after_parallel_failure(decision: Decision, *, now: datetime, policy: Policy) -> Decision:
    """Once every parallel attempt failed the plan goes on with the next step; until then the others keep running."""
    state = decision.state
    if state.running():
        return decision
    decision.state = state.model_copy(update={"parallel": []})
    return next_step(decision, now=now, policy=policy)
