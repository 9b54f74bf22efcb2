"""The per-recipient state machine: `start` and `apply` take the state, an input and `now`; they return the new state, the events and the actions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime

from services.delivery.domain import law
from services.delivery.domain.inputs import (
    Accepted,
    Acknowledged,
    AddressChanged,
    Arrived,
    BookingRefused,
    EvidenceChecked,
    Failure,
    Input,
    NotArrived,
    PostalReceipt,
    PostalTrace,
    PublicationRecorded,
    TaskOutcome,
    TaskReported,
    Tick,
)
from services.delivery.domain.plan import PUBLIC_NOTICE, TIER_ORDER, physical_steps, plan_for, posting_window, visit_window
from services.delivery.domain.state import Attempt, AttemptStatus, Case, Claim, Place, RecipientState, RecipientStatus, Served, Step
from services.delivery.policy import Policy, ServiceTime
from shared.contracts.events import (
    AddressReported,
    AttemptFailed,
    AttemptStarted,
    AttemptSucceeded,
    Channel,
    DispatchPostalItem,
    Exhausted,
    PostalStatus,
    Recipient,
    RecipientServed,
    RecipientUnserved,
    ReturnReason,
    ServiceMethod,
    Tier,
    Transmission,
)
from shared.contracts.registry import Event
from shared.plumbing.clock import SHANGHAI, local_date
from shared.plumbing.workdays import add_working_days, add_working_hours, end_of_working_day

_ATTEMPTS = uuid.UUID("5b1c7f0e-9d2a-4f61-8a53-2f0d6c1e9b47")

ELECTRONIC_SERVICE = frozenset({Channel.lawyer_firm, Channel.sms, Channel.email})
TASKS = frozenset({Channel.visit, Channel.posting})


# Actions: what the service must do outside the state document.


@dataclass(frozen=True)
class Send:
    """Send a message or place a call for this attempt."""

    attempt_id: str
    channel: Channel
    target: str


@dataclass(frozen=True)
class OpenTask:
    """Give a visit or a posting to the team."""

    attempt_id: str
    kind: Channel
    place: Place
    window_start: datetime
    window_end: datetime


@dataclass(frozen=True)
class CloseTask:
    attempt_id: str


Action = Send | OpenTask | CloseTask


@dataclass
class Decision:
    """The outcome of one input: the new state, the events to publish, the commands to send, the actions to take."""

    state: RecipientState
    events: list[Event] = field(default_factory=list)
    commands: list[DispatchPostalItem] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.events or self.commands or self.actions)


# Starting and moving along the plan.


def start(*, case: Case, recipient: Recipient, now: datetime, policy: Policy) -> Decision:
    """Plans a newly registered recipient's delivery and begins its first step."""
    state = RecipientState(case=case, recipient=recipient, plan=plan_for(recipient, policy))
    return _begin(Decision(state), 0, now=now, policy=policy)


def _attempt_id(state: RecipientState) -> str:
    return str(uuid.uuid5(_ATTEMPTS, f"{state.case.notice_id}/{state.recipient.recipient_id}/{len(state.attempts)}"))


def _usable(state: RecipientState, step: Step) -> bool:
    return step.target is None or step.target not in state.unusable


def _begin(decision: Decision, index: int, *, now: datetime, policy: Policy, not_before: datetime | None = None) -> Decision:
    """Moves to step `index` (skipping unusable numbers) and starts it, or schedules it for `not_before`."""
    state = decision.state
    while not _usable(state, state.plan[index]):
        index += 1
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
    attempt = Attempt(
        attempt_id=_attempt_id(state),
        step=index,
        tier=step.tier,
        channel=step.channel,
        target=step.target or _place_text(step),
        status=AttemptStatus.scheduled,
        not_before=not_before,
    )
    decision.state = state.model_copy(update={"attempts": [*state.attempts, attempt]})
    return decision if not_before is not None else _open(decision, now=now, policy=policy)


def _place_text(step: Step) -> str | None:
    return step.place.text if step.place else None


def _open(decision: Decision, *, now: datetime, policy: Policy) -> Decision:
    """Starts the scheduled current attempt: a message or call, a task, or a mail booking."""
    state = decision.state
    step, attempt = state.step, state.current
    assert attempt is not None and attempt.status is AttemptStatus.scheduled
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
    decision.state = _replace(state, opened)
    decision.events.append(
        AttemptStarted(
            notice_id=state.case.notice_id,
            recipient_id=state.recipient.recipient_id,
            attempt_id=attempt.attempt_id,
            tier=attempt.tier,
            channel=attempt.channel,
            target=attempt.target,
            started_at=now,
            due_at=due or (window[1] if window else None),
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


def _replace(state: RecipientState, attempt: Attempt) -> RecipientState:
    return state.model_copy(update={"attempts": [attempt if a.attempt_id == attempt.attempt_id else a for a in state.attempts]})


def _fail(
    decision: Decision, attempt: Attempt, *, reason: str, at: datetime, error_code: int | None = None, record: Transmission | None = None, retry_at: datetime | None = None
) -> None:
    """Closes an attempt as failed and lists it among the exhausted methods."""
    state = decision.state
    failed = attempt.model_copy(update={"status": AttemptStatus.failed, "finished_at": at, "detail": reason, "error_code": error_code})
    exhausted = Exhausted(tier=attempt.tier, channel=attempt.channel, target=attempt.target, reason=reason, at=at)
    decision.state = _replace(state, failed).model_copy(update={"exhausted": [*state.exhausted, exhausted]})
    decision.events.append(
        AttemptFailed(
            notice_id=state.case.notice_id,
            recipient_id=state.recipient.recipient_id,
            attempt_id=attempt.attempt_id,
            tier=attempt.tier,
            channel=attempt.channel,
            target=attempt.target,
            at=at,
            reason=reason,
            error_code=error_code,
            retry_at=retry_at,
            record=record,
        )
    )
    if attempt.channel in TASKS:
        decision.actions.append(CloseTask(attempt_id=attempt.attempt_id))


def _succeed(decision: Decision, attempt: Attempt, *, detail: str, at: datetime, record: Transmission | None = None) -> None:
    state = decision.state
    done = attempt.model_copy(update={"status": AttemptStatus.succeeded, "finished_at": at, "detail": detail, "arrived_at": at})
    decision.state = _replace(state, done)
    decision.events.append(
        AttemptSucceeded(
            notice_id=state.case.notice_id,
            recipient_id=state.recipient.recipient_id,
            attempt_id=attempt.attempt_id,
            tier=attempt.tier,
            channel=attempt.channel,
            target=attempt.target,
            at=at,
            detail=detail,
            record=record,
        )
    )
    if attempt.channel in TASKS:
        decision.actions.append(CloseTask(attempt_id=attempt.attempt_id))


def _next(decision: Decision, *, now: datetime, policy: Policy) -> Decision:
    return _begin(decision, decision.state.cursor + 1, now=now, policy=policy)


def _serve(decision: Decision, served: Served, *, now: datetime) -> Decision:
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
            served_at=served.served_at or now,
            attempt_id=served.attempt_id,
            signer_name=served.signer_name,
            signer_role=served.signer_role,
            relation=served.relation,
            witness=served.witness,
            evidence_ids=served.evidence_ids,
        )
    )
    return decision


def served_by(method: ServiceMethod, attempt: Attempt, *, event_day: date, deemed: bool, at: datetime | None = None, claim: Claim | None = None) -> Served:
    """The outcome of a service by `method` whose deciding event happened on `event_day`."""
    return Served(
        attempt_id=attempt.attempt_id,
        method=method,
        channel=attempt.channel,
        target=attempt.target,
        service_date=law.service_date(method, event_day),
        basis=law.basis(method, deemed=deemed),
        deemed=deemed,
        served_at=at,
        signer_name=claim.signature.name if claim and claim.signature else None,
        signer_role=claim.signature.role if claim and claim.signature else None,
        relation=claim.signature.relation if claim and claim.signature else None,
        witness=claim.witness if claim else None,
        evidence_ids=claim.evidence_ids if claim else [],
    )


# Applying inputs.


def apply(state: RecipientState, event: Input, *, now: datetime, policy: Policy) -> Decision:
    """Applies one input; inputs about an attempt that is no longer current change nothing."""
    decision = Decision(state)
    if state.status is RecipientStatus.served:
        return decision
    match event:
        case Tick():
            return _tick(decision, now=now, policy=policy)
        case EvidenceChecked():
            return _evidence(decision, event, now=now, policy=policy)
        case PublicationRecorded():
            return _published(decision, event)
        case AddressChanged():
            return _address_changed(decision, event, now=now, policy=policy)
    attempt = state.current
    if attempt is None or attempt.attempt_id != event.attempt_id:
        return decision
    match event:
        case Accepted():
            decision.state = _replace(state, attempt.model_copy(update={"provider_ref": event.provider_ref}))
            return decision
        case Arrived() if attempt.status is AttemptStatus.open:
            return _arrived(decision, attempt, event, now=now, policy=policy)
        case NotArrived() if attempt.status is AttemptStatus.open:
            return _not_arrived(decision, attempt, event, now=now, policy=policy)
        case Acknowledged() if attempt.status is AttemptStatus.open and policy.electronic.service_time is ServiceTime.acknowledgement:
            _succeed(decision, attempt, detail="acknowledged on the e-delivery page", at=event.at)
            return _serve(decision, served_by(ServiceMethod.electronic, attempt, event_day=local_date(event.at), deemed=False, at=event.at), now=now)
        case TaskReported() if attempt.status is AttemptStatus.open and attempt.channel in TASKS:
            return _reported(decision, attempt, event, now=now, policy=policy)
        case PostalTrace() if attempt.status is AttemptStatus.open and attempt.channel is Channel.court_mail:
            return _trace(decision, attempt, event, now=now, policy=policy)
        case PostalReceipt() if attempt.status is AttemptStatus.open and attempt.channel is Channel.court_mail:
            return _receipt(decision, attempt, event, now=now, policy=policy)
        case BookingRefused() if attempt.status is AttemptStatus.open and attempt.channel is Channel.court_mail:
            _fail(decision, attempt, reason=f"carrier refused the booking: {event.reason}", at=event.at)
            return _next(decision, now=now, policy=policy)
    return decision


def _tick(decision: Decision, *, now: datetime, policy: Policy) -> Decision:
    state = decision.state
    if state.status is RecipientStatus.notice_period and state.period_ends is not None and local_date(now) >= state.period_ends:
        return _end_period(decision, now=now)
    attempt = state.current
    if state.status is not RecipientStatus.in_progress or attempt is None:
        return decision
    if attempt.status is AttemptStatus.scheduled and attempt.not_before is not None and attempt.not_before <= now:
        return _open(decision, now=now, policy=policy)
    if attempt.status is AttemptStatus.open and attempt.due_at is not None and attempt.due_at <= now:
        reason = "no return receipt in time" if attempt.channel is Channel.court_mail else "no delivery receipt in time"
        _fail(decision, attempt, reason=reason, at=now)
        return _next(decision, now=now, policy=policy)
    return decision


def _arrived(decision: Decision, attempt: Attempt, event: Arrived, *, now: datetime, policy: Policy) -> Decision:
    if attempt.channel is Channel.voice:
        # A call tells the party what is coming; it serves no document (CPL 90 names written means only).
        _succeed(decision, attempt, detail="call answered, notice read", at=event.at, record=event.record)
        return _next(decision, now=now, policy=policy)
    if policy.electronic.service_time is ServiceTime.acknowledgement:
        decision.state = _replace(decision.state, attempt.model_copy(update={"arrived_at": event.at}))
        return decision
    _succeed(decision, attempt, detail="reached the recipient's system", at=event.at, record=event.record)
    # CPL 90, Interp. 135: served on the day the message reached the recipient's system.
    return _serve(decision, served_by(ServiceMethod.electronic, attempt, event_day=local_date(event.at), deemed=False, at=event.at), now=now)


def _not_arrived(decision: Decision, attempt: Attempt, event: NotArrived, *, now: datetime, policy: Policy) -> Decision:
    failure = event.failure
    state = decision.state
    tries = sum(1 for a in state.attempts if a.step == state.cursor)
    reason = f"{event.status}" + (f" (error {event.error_code})" if event.error_code else "")
    if failure is Failure.retry and tries <= policy.electronic.retries:
        hours = policy.working_hours
        retry_at = add_working_hours(now, policy.electronic.retry_delay_hours, day_start=hours.start, day_end=hours.end)
        _fail(decision, attempt, reason=reason, at=event.at, error_code=event.error_code, record=event.record, retry_at=retry_at)
        return _begin(decision, state.cursor, now=now, policy=policy, not_before=retry_at)
    _fail(decision, attempt, reason=reason, at=event.at, error_code=event.error_code, record=event.record)
    if failure is Failure.unusable and attempt.target:
        decision.state = decision.state.model_copy(update={"unusable": [*decision.state.unusable, attempt.target]})
    if failure is Failure.landline and attempt.target and attempt.channel is Channel.sms:
        decision.state = _insert_call(decision.state, attempt.target)
    return _next(decision, now=now, policy=policy)


def _insert_call(state: RecipientState, number: str) -> RecipientState:
    """A landline cannot take SMS: call it next, unless a call to it is already planned."""
    later = state.plan[state.cursor + 1 :]
    if any(s.channel is Channel.voice and s.target == number for s in later):
        return state
    call = Step(tier=Tier.electronic, channel=Channel.voice, target=number)
    return state.model_copy(update={"plan": [*state.plan[: state.cursor + 1], call, *later]})


def _reported(decision: Decision, attempt: Attempt, event: TaskReported, *, now: datetime, policy: Policy) -> Decision:
    state = decision.state
    kind = state.recipient.kind
    day = local_date(event.at)
    if event.outcome is TaskOutcome.not_found:
        _fail(decision, attempt, reason=event.note or "recipient not found at the address", at=event.at)
        return _next(decision, now=now, policy=policy)
    if event.outcome is TaskOutcome.moved:
        _fail(decision, attempt, reason="recipient moved", at=event.at)
        if event.new_place is not None:
            decision.events.append(
                AddressReported(
                    notice_id=state.case.notice_id,
                    recipient_id=state.recipient.recipient_id,
                    party_id=state.recipient.party.party_id if state.recipient.party else None,
                    address=event.new_place.text,
                    postcode=event.new_place.postcode,
                    observed_on=day,
                    reported_by=event.agent_id,
                )
            )
            decision.state = _move_to(decision.state, event.new_place, policy=policy)
        return _next(decision, now=now, policy=policy)
    if event.outcome is TaskOutcome.served:
        assert event.signer is not None
        if not law.may_sign(event.signer.role, kind=kind):
            _fail(decision, attempt, reason=f"{event.signer.role} may not sign for the recipient (CPL 88)", at=event.at)
            return _next(decision, now=now, policy=policy)
        method = ServiceMethod.direct
    elif event.outcome is TaskOutcome.refused:
        method = ServiceMethod.refusal
    else:
        method = ServiceMethod.posting
    claim = Claim(
        attempt_id=attempt.attempt_id,
        method=method,
        event_day=day,
        at=event.at,
        signature=event.signer,
        witness=event.witness,
        evidence_ids=sorted(event.evidence),
        checked={k: v for k, v in event.evidence.items() if v is not None},
    )
    reported = attempt.model_copy(update={"status": AttemptStatus.reported, "finished_at": event.at, "detail": event.outcome.value})
    decision.state = _replace(state, reported).model_copy(update={"claim": claim, "status": RecipientStatus.awaiting_evidence})
    return _settle(decision, now=now, policy=policy)


def _move_to(state: RecipientState, place: Place, *, policy: Policy) -> RecipientState:
    """Points the rest of the physical plan at `place`, from the current physical tier on (visits start afresh)."""
    here = state.step.tier if state.step.place is not None else Tier.direct
    fresh = [s for s in physical_steps(place, visits=len(policy.direct.visits)) if TIER_ORDER[s.tier] >= TIER_ORDER[here]]
    later = [s for s in state.plan[state.cursor + 1 :] if s.tier is Tier.electronic]
    return state.model_copy(update={"plan": [*state.plan[: state.cursor + 1], *later, *fresh, PUBLIC_NOTICE]})


def _evidence(decision: Decision, event: EvidenceChecked, *, now: datetime, policy: Policy) -> Decision:
    claim = decision.state.claim
    if claim is None or event.evidence_id not in claim.evidence_ids:
        return decision
    claim = claim.model_copy(update={"checked": {**claim.checked, event.evidence_id: list(event.flags)}})
    decision.state = decision.state.model_copy(update={"claim": claim})
    return _settle(decision, now=now, policy=policy)


def _settle(decision: Decision, *, now: datetime, policy: Policy) -> Decision:
    """Counts a reported service once all its evidence is recorded unflagged; a flagged item sends the step out again."""
    state = decision.state
    claim = state.claim
    assert claim is not None
    attempt = state.attempt(claim.attempt_id)
    assert attempt is not None
    blocking = sorted({f for flags in claim.checked.values() for f in flags if f in policy.evidence.blocking_flags})
    if blocking:
        decision.state = state.model_copy(update={"claim": None, "status": RecipientStatus.in_progress})
        _fail(decision, attempt, reason=f"evidence flagged: {', '.join(blocking)}", at=now)
        return _begin(decision, state.cursor, now=now, policy=policy)
    if set(claim.evidence_ids) - set(claim.checked):
        return decision
    detail = {ServiceMethod.direct: "served in person", ServiceMethod.refusal: "refused; documents left (留置)", ServiceMethod.posting: "notice posted at the address"}[
        claim.method
    ]
    decision.state = state.model_copy(update={"status": RecipientStatus.in_progress})
    _succeed(decision, attempt, detail=detail, at=claim.at)
    if claim.method is ServiceMethod.posting:
        ends = law.service_date(ServiceMethod.posting, claim.event_day)
        decision.state = decision.state.model_copy(update={"status": RecipientStatus.notice_period, "period_ends": ends})
        return _tick(decision, now=now, policy=policy)
    return _serve(decision, served_by(claim.method, attempt, event_day=claim.event_day, deemed=False, at=claim.at, claim=claim), now=now)


def _end_period(decision: Decision, *, now: datetime) -> Decision:
    """A posting or public notice ran its thirty days (CPL 95): deemed served."""
    state = decision.state
    attempt = state.attempts[-1]
    claim = state.claim
    method = ServiceMethod.public_notice if attempt.channel is Channel.publication else ServiceMethod.posting
    assert state.period_ends is not None
    served = served_by(method, attempt, event_day=state.period_ends - law.NOTICE_PERIOD, deemed=True, at=now, claim=claim)
    return _serve(decision, served, now=now)


def _published(decision: Decision, event: PublicationRecorded) -> Decision:
    state = decision.state
    if state.status is not RecipientStatus.awaiting_publication:
        return decision
    attempt = Attempt(
        attempt_id=_attempt_id(state),
        step=state.cursor,
        tier=Tier.public_notice,
        channel=Channel.publication,
        status=AttemptStatus.succeeded,
        started_at=event.at,
        finished_at=event.at,
        detail=f"published {event.published_on.isoformat()}",
    )
    ends = law.service_date(ServiceMethod.public_notice, event.published_on)
    decision.state = state.model_copy(update={"attempts": [*state.attempts, attempt], "status": RecipientStatus.notice_period, "period_ends": ends})
    decision.events.append(
        AttemptSucceeded(
            notice_id=state.case.notice_id,
            recipient_id=state.recipient.recipient_id,
            attempt_id=attempt.attempt_id,
            tier=Tier.public_notice,
            channel=Channel.publication,
            at=event.at,
            detail=attempt.detail or "",
        )
    )
    return decision


def _address_changed(decision: Decision, event: AddressChanged, *, now: datetime, policy: Policy) -> Decision:
    """A new confirmation ranks first: the physical steps still ahead go to the confirmed address."""
    state = decision.state
    if state.status not in (RecipientStatus.in_progress, RecipientStatus.awaiting_publication):
        return decision
    candidates = [event.address, *state.recipient.candidates]
    recipient = state.recipient.model_copy(update={"candidates": candidates, "consent": event.consent or state.recipient.consent, "whereabouts_unknown": False})
    place = Place(
        text=event.address.text, postcode=event.address.postcode, city=event.address.city, district=event.address.district, location=event.address.location, confirmed_by_party=True
    )
    decision.state = _move_to(state.model_copy(update={"recipient": recipient}), place, policy=policy)
    if state.status is RecipientStatus.awaiting_publication:
        # The party gave an address after all: a public notice is no longer the only way left (CPL 95).
        decision.state = decision.state.model_copy(update={"status": RecipientStatus.in_progress})
        return _next(decision, now=now, policy=policy)
    return decision


def _trace(decision: Decision, attempt: Attempt, event: PostalTrace, *, now: datetime, policy: Policy) -> Decision:
    state = decision.state
    if event.status is PostalStatus.refused:
        decision.state = state.model_copy(update={"mail_refused": True})
        return decision
    if event.status is not PostalStatus.returned:
        decision.state = _replace(state, attempt.model_copy(update={"detail": event.status.value}))
        return decision
    return_day = local_date(event.at)
    reason = event.return_reason or ReturnReason.other
    step = state.step
    if law.deemed_on_return(reason, refused_before=state.mail_refused, confirmed_address=step.place is not None and step.place.confirmed_by_party):
        _succeed(decision, attempt, detail=f"returned ({reason.value}); deemed served", at=event.at)
        return _serve(decision, served_by(ServiceMethod.postal, attempt, event_day=return_day, deemed=True, at=event.at), now=now)
    _fail(decision, attempt, reason=f"returned: {reason.value}", at=event.at)
    if reason in law.ONLY_PUBLIC_NOTICE_AFTER:
        return _begin(decision, len(state.plan) - 1, now=now, policy=policy)
    return _next(decision, now=now, policy=policy)


def _receipt(decision: Decision, attempt: Attempt, event: PostalReceipt, *, now: datetime, policy: Policy) -> Decision:
    state = decision.state
    if not law.may_sign(event.signer.role, kind=state.recipient.kind):
        # 专递规定 Art. 9: a signer who may not sign (e.g. the opposing party) does not make the item served.
        _fail(decision, attempt, reason=f"return receipt signed by {event.signer.role}, who may not sign", at=event.at)
        return _next(decision, now=now, policy=policy)
    _succeed(decision, attempt, detail=f"return receipt signed by {event.signer.role}", at=event.at)
    claim = Claim(
        attempt_id=attempt.attempt_id,
        method=ServiceMethod.postal,
        event_day=event.signed_on,
        at=event.at,
        signature=event.signer,
        evidence_ids=[],
    )
    # CPL 91: the date on the return receipt is the service date.
    return _serve(decision, served_by(ServiceMethod.postal, attempt, event_day=event.signed_on, deemed=False, at=event.at, claim=claim), now=now)
