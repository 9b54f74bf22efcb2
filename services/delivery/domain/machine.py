"""The per-recipient state machine: `apply` takes the state, an input and `now` and returns the decision; each input's transitions are here."""

from __future__ import annotations

from datetime import datetime, timedelta

from services.delivery.domain import law
from services.delivery.domain.decision import Decision
from services.delivery.domain.inputs import (
    Accepted,
    Acknowledged,
    AddressChanged,
    Arrived,
    BookingRefused,
    EvidenceAccepted,
    EvidenceChecked,
    Failure,
    Input,
    NotArrived,
    PostalReceipt,
    PostalTrace,
    PublicationRecorded,
    Read,
    Replied,
    RevisitOrdered,
    TaskOutcome,
    TaskReported,
    Tick,
)
from services.delivery.domain.moves import (
    TASKS,
    about,
    after_parallel_failure,
    begin,
    fail,
    new_attempt_id,
    next_step,
    open_attempt,
    replace_attempt,
    retry_parallel,
    serve,
    served_by,
    succeed,
    supersede,
)
from services.delivery.domain.plan import PUBLIC_NOTICE, TIER_ORDER, physical_steps
from services.delivery.domain.state import Attempt, AttemptStatus, Claim, Place, RecipientState, RecipientStatus, Step
from services.delivery.policy import Policy, ServiceTime
from shared.contracts.events import (
    AddressReported,
    AttemptStarted,
    AttemptSucceeded,
    Channel,
    PostalStatus,
    ReturnReason,
    Review,
    ServiceMethod,
    Tier,
)
from shared.plumbing.clock import local_date
from shared.plumbing.workdays import add_working_hours


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
        case EvidenceAccepted():
            return _accept(decision, event, now=now, policy=policy)
        case RevisitOrdered():
            return _revisit(decision, event, now=now, policy=policy)
        case PublicationRecorded():
            return _published(decision, event, policy=policy)
        case AddressChanged():
            return _address_changed(decision, event, now=now, policy=policy)
    attempt = state.live(event.attempt_id)
    if attempt is None:
        return decision
    match event:
        case Accepted():
            decision.state = replace_attempt(state, attempt.model_copy(update={"provider_ref": event.provider_ref}))
            return decision
        case Arrived() if attempt.status is AttemptStatus.open:
            return _arrived(decision, attempt, event, now=now, policy=policy)
        case NotArrived() if attempt.status is AttemptStatus.open:
            return _not_arrived(decision, attempt, event, now=now, policy=policy)
        case Acknowledged() if attempt.status is AttemptStatus.open:
            return _received(decision, attempt, law.Signal.acknowledgement, at=event.at, now=now, detail="acknowledged on the e-delivery page")
        case Read() if attempt.status is AttemptStatus.open:
            return _received(decision, attempt, law.Signal.read, at=event.at, now=now, detail="documents opened on the e-delivery page")
        case Replied() if attempt.status is AttemptStatus.open:
            return _received(decision, attempt, law.Signal.reply, at=event.at, now=now, detail="the recipient replied to the message")
        case TaskReported() if attempt.status is AttemptStatus.open and attempt.channel in TASKS:
            return _reported(decision, attempt, event, now=now, policy=policy)
        case PostalTrace() if attempt.status is AttemptStatus.open and attempt.channel is Channel.court_mail:
            return _trace(decision, attempt, event, now=now, policy=policy)
        case PostalReceipt() if attempt.status is AttemptStatus.open and attempt.channel is Channel.court_mail:
            return _receipt(decision, attempt, event, now=now, policy=policy)
        case BookingRefused() if attempt.status is AttemptStatus.open and attempt.channel is Channel.court_mail:
            fail(decision, attempt, reason=f"carrier refused the booking: {event.reason}", at=event.at)
            return next_step(decision, now=now, policy=policy)
    return decision


def _tick(decision: Decision, *, now: datetime, policy: Policy) -> Decision:
    state = decision.state
    if state.status is RecipientStatus.notice_period and state.period_ends is not None and local_date(now) >= state.period_ends:
        return _end_period(decision, now=now)
    if state.parallel and state.status is RecipientStatus.in_progress:
        return _tick_parallel(decision, now=now, policy=policy)
    attempt = state.current
    if state.status is not RecipientStatus.in_progress or attempt is None:
        return decision
    if attempt.status is AttemptStatus.scheduled and attempt.not_before is not None and attempt.not_before <= now:
        return open_attempt(decision, now=now, policy=policy)
    if attempt.status is AttemptStatus.open and attempt.due_at is not None and attempt.due_at <= now:
        if attempt.bounce_wait_until is not None:
            return _unbounced(decision, attempt, now=now)
        fail(decision, attempt, reason=_overdue_reason(state, attempt), at=now)
        return next_step(decision, now=now, policy=policy)
    return decision


def _tick_parallel(decision: Decision, *, now: datetime, policy: Policy) -> Decision:
    """Starts the parallel attempts whose time came and fails those past their due time; when none is left running, the plan goes on."""
    for attempt in decision.state.running():
        if attempt.status is AttemptStatus.scheduled and attempt.not_before is not None and attempt.not_before <= now:
            open_attempt(decision, now=now, policy=policy, attempt=attempt)
        elif attempt.status is AttemptStatus.open and attempt.due_at is not None and attempt.due_at <= now:
            if attempt.bounce_wait_until is not None:
                # Served: the others were superseded, nothing is left to look at.
                return _unbounced(decision, attempt, now=now)
            fail(decision, attempt, reason=_overdue_reason(decision.state, attempt), at=now)
    return after_parallel_failure(decision, now=now, policy=policy)


def _overdue_reason(state: RecipientState, attempt: Attempt) -> str:
    """Why an attempt whose due time passed failed: nothing came back, or it arrived but nothing that serves followed."""
    if attempt.channel is Channel.court_mail:
        return "no return receipt in time"
    if attempt.arrived_at is None:
        return "no delivery receipt in time"
    if not _address_confirmed(state, attempt):
        return "arrived at an address the recipient did not confirm, but neither acknowledged nor read in time: not served (OLR Art. 31(2))"
    return "arrived, but not acknowledged in time: not served"


def _arrived(decision: Decision, attempt: Attempt, event: Arrived, *, now: datetime, policy: Policy) -> Decision:
    if attempt.channel is Channel.voice:
        # A call tells the party what is coming; it serves no document (CPL 90 names written means only).
        succeed(decision, attempt, detail="call answered, notice read", at=event.at, record=event.record)
        return next_step(decision, now=now, policy=policy)
    effect = law.e_service(law.Signal.arrival, address_confirmed=_address_confirmed(decision.state, attempt))
    bounce_wait = policy.electronic.bounce_wait_minutes
    if effect is not None and policy.electronic.service_time is ServiceTime.arrival and attempt.channel in MAILED and bounce_wait > 0:
        # Accepted by a relay, the e-mail may still bounce: its arrival counts once the wait passed without one.
        until = max(event.at, now) + timedelta(minutes=bounce_wait)
        update = {"arrived_at": event.at, "record": event.record, "due_at": until, "bounce_wait_until": until}
        decision.state = replace_attempt(decision.state, attempt.model_copy(update=update))
        return decision
    if effect is None or policy.electronic.service_time is ServiceTime.acknowledgement:
        # Arrival alone does not serve here: the attempt waits, open, for the acknowledgement or the read report.
        hours = policy.working_hours
        wait = add_working_hours(event.at, policy.electronic.acknowledgement_wait_hours, day_start=hours.start, day_end=hours.end)
        due = max(wait, attempt.due_at) if attempt.due_at else wait
        decision.state = replace_attempt(decision.state, attempt.model_copy(update={"arrived_at": event.at, "due_at": due, "record": event.record}))
        return decision
    succeed(decision, attempt, detail="reached the recipient's system", at=event.at, record=event.record)
    # CPL 90, Interp. 135, OLR Art. 31(1): served on the day the message reached the recipient's system.
    return _e_serve(decision, attempt, effect, at=event.at, now=now)


def _unbounced(decision: Decision, attempt: Attempt, *, now: datetime) -> Decision:
    """No bounce came for the accepted e-mail: served as of its arrival (CPL 90, Interp. 135, OLR Art. 31(1))."""
    assert attempt.arrived_at is not None
    effect = law.e_service(law.Signal.arrival, address_confirmed=True)
    assert effect is not None
    succeed(decision, attempt, detail="reached the recipient's system; no bounce", at=attempt.arrived_at, record=attempt.record)
    return _e_serve(decision, attempt, effect, at=attempt.arrived_at, now=now)


def _address_confirmed(state: RecipientState, attempt: Attempt) -> bool:
    """Whether the recipient provided or confirmed the attempt's address; a step without a recorded consent counts as confirmed, as before OLR Art. 31."""
    consent = state.plan[attempt.step].consent
    return consent is None or consent.address_confirmed


def _received(decision: Decision, attempt: Attempt, signal: law.Signal, *, at: datetime, now: datetime, detail: str) -> Decision:
    """The recipient acknowledged, replied or read the documents: served if that serves at this address (OLR Art. 31)."""
    effect = law.e_service(signal, address_confirmed=_address_confirmed(decision.state, attempt))
    if effect is None:
        return decision
    # An e-mail waiting out its bounce window had already arrived at a confirmed address: served as of that arrival.
    served_at = attempt.arrived_at if attempt.bounce_wait_until is not None and attempt.arrived_at is not None else at
    succeed(decision, attempt, detail=detail, at=at, record=attempt.record)
    return _e_serve(decision, attempt, effect, at=served_at, now=now)


def _e_serve(decision: Decision, attempt: Attempt, effect: law.EService, *, at: datetime, now: datetime) -> Decision:
    """Serves electronically on the day of `at`, with the consent the step rests on (OLR Art. 29) and any presumption (Art. 31(2))."""
    consent = decision.state.plan[attempt.step].consent
    update = {"basis": effect.basis, "presumed": effect.presumed, "deemed_reason": effect.reason, "consent": consent}
    served = served_by(ServiceMethod.electronic, attempt, event_day=local_date(at), deemed=False, at=at).model_copy(update=update)
    # OLR Art. 32: the first channel to serve decides; the others running beside it are stopped.
    supersede(decision, attempt, at=at)
    return serve(decision, served, now=now)


def _not_arrived(decision: Decision, attempt: Attempt, event: NotArrived, *, now: datetime, policy: Policy) -> Decision:
    failure = event.failure
    state = decision.state
    tries = sum(1 for a in state.attempts if a.step == attempt.step)
    reason = f"{event.status}" + (f" (error {event.error_code})" if event.error_code else "")
    if failure is Failure.retry and tries <= policy.electronic.retries:
        hours = policy.working_hours
        retry_at = add_working_hours(now, policy.electronic.retry_delay_hours, day_start=hours.start, day_end=hours.end)
        fail(decision, attempt, reason=reason, at=event.at, error_code=event.error_code, record=event.record, retry_at=retry_at)
        if state.parallel:
            return retry_parallel(decision, attempt, not_before=retry_at)
        return begin(decision, state.cursor, now=now, policy=policy, not_before=retry_at)
    fail(decision, attempt, reason=reason, at=event.at, error_code=event.error_code, record=event.record)
    if failure is Failure.unusable and attempt.target:
        decision.state = decision.state.model_copy(update={"unusable": [*decision.state.unusable, attempt.target]})
    if failure is Failure.landline and attempt.target and attempt.channel is Channel.sms:
        decision.state = _insert_call(decision.state, attempt.target)
    if state.parallel:
        return after_parallel_failure(decision, now=now, policy=policy)
    return next_step(decision, now=now, policy=policy)


# Channels that go out as e-mail through the mail server (handlers/sending.py), whose acceptance a bounce may follow.
MAILED = frozenset({Channel.email, Channel.lawyer_firm})


def _insert_call(state: RecipientState, number: str) -> RecipientState:
    """A landline cannot take SMS: call it next, unless a call to it is already planned."""
    later = state.plan[state.cursor + 1 :]
    if any(s.channel is Channel.voice and s.target == number for s in later):
        return state
    call = Step(tier=Tier.electronic, channel=Channel.voice, target=number)
    return state.model_copy(update={"plan": [*state.plan[: state.cursor + 1], call, *later]})


def _reported(decision: Decision, attempt: Attempt, event: TaskReported, *, now: datetime, policy: Policy) -> Decision:
    if attempt.window_start is not None and event.at < attempt.window_start:
        # Accepted, but marked: a supervisor sees a visit reported as made before its window opened.
        attempt = attempt.model_copy(update={"remarks": [*attempt.remarks, law.REPORTED_BEFORE_WINDOW]})
        decision.state = replace_attempt(decision.state, attempt)
    state = decision.state
    kind = state.recipient.kind
    day = local_date(event.at)
    if event.outcome is TaskOutcome.not_found:
        fail(decision, attempt, reason=event.note or "recipient not found at the address", at=event.at)
        return next_step(decision, now=now, policy=policy)
    if event.outcome is TaskOutcome.moved:
        fail(decision, attempt, reason="recipient moved", at=event.at)
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
        return next_step(decision, now=now, policy=policy)
    if event.outcome is TaskOutcome.served:
        assert event.signer is not None
        if not law.may_sign(event.signer.role, kind=kind):
            fail(decision, attempt, reason=f"{event.signer.role} may not sign for the recipient (CPL 88)", at=event.at)
            return next_step(decision, now=now, policy=policy)
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
        kinds=dict(event.kinds),
    )
    reported = attempt.model_copy(update={"status": AttemptStatus.reported, "finished_at": event.at, "detail": event.outcome.value})
    decision.state = replace_attempt(state, reported).model_copy(update={"claim": claim, "status": RecipientStatus.awaiting_evidence})
    return _settle(decision, now=now, policy=policy)


def _move_to(state: RecipientState, place: Place, *, policy: Policy) -> RecipientState:
    """Points the rest of the physical plan at `place`, from the current physical tier on (visits start afresh)."""
    here = state.step.tier if state.step.place is not None else Tier.direct
    fresh = [s for s in physical_steps(place, visits=len(policy.direct.visits)) if TIER_ORDER[s.tier] >= TIER_ORDER[here]]
    later = [s for s in state.plan[state.cursor + 1 :] if s.tier is Tier.electronic]
    return state.model_copy(update={"plan": [*state.plan[: state.cursor + 1], *later, *fresh, PUBLIC_NOTICE]})


def _evidence(decision: Decision, event: EvidenceChecked, *, now: datetime, policy: Policy) -> Decision:
    claim = decision.state.claim
    if decision.state.status is not RecipientStatus.awaiting_evidence or claim is None or event.evidence_id not in claim.evidence_ids:
        return decision
    kinds = {**claim.kinds, event.evidence_id: event.kind} if event.kind is not None else claim.kinds
    claim = claim.model_copy(update={"checked": {**claim.checked, event.evidence_id: list(event.flags)}, "kinds": kinds})
    decision.state = decision.state.model_copy(update={"claim": claim})
    return _settle(decision, now=now, policy=policy)


def blocking(claim: Claim, policy: Policy) -> dict[str, list[str]]:
    """Returns each recorded item's flags that the policy calls blocking, for the items that have any."""
    found = {item: sorted(f for f in flags if f in policy.evidence.blocking_flags) for item, flags in claim.checked.items()}
    return {item: flags for item, flags in sorted(found.items()) if flags}


def _settle(decision: Decision, *, now: datetime, policy: Policy) -> Decision:
    """Counts a reported service once all its evidence is recorded unflagged; a blocking flag holds it for a supervisor's review."""
    claim = decision.state.claim
    assert claim is not None
    if set(claim.evidence_ids) - set(claim.checked):
        return decision
    if claim.method is ServiceMethod.direct and law.lacks_signature(TaskOutcome.served, {item: claim.kinds.get(item) for item in claim.evidence_ids}):
        # Evidence named before it was recorded turned out to carry no signature: the service is not proved.
        return _again(decision, reason="service reported without the signature on the 送达回证 (CPL 87, 88)", at=now, now=now, policy=policy)
    if blocking(claim, policy):
        # Held until a supervisor accepts the evidence or orders a new visit; the attempt stays reported meanwhile.
        decision.state = decision.state.model_copy(update={"status": RecipientStatus.held})
        return decision
    return _count(decision, now=now, policy=policy)


def _again(decision: Decision, *, reason: str, at: datetime, now: datetime, policy: Policy) -> Decision:
    """Fails the claimed attempt with `reason` and makes its step again: a new visit or posting."""
    state = decision.state
    assert state.claim is not None
    attempt = state.attempt(state.claim.attempt_id)
    assert attempt is not None
    decision.state = state.model_copy(update={"claim": None, "status": RecipientStatus.in_progress})
    fail(decision, attempt, reason=reason, at=at)
    return begin(decision, state.cursor, now=now, policy=policy)


def _count(decision: Decision, *, now: datetime, policy: Policy) -> Decision:
    """Counts the reported service: served in person or by refusal, or a posting's notice period begins."""
    state = decision.state
    claim = state.claim
    assert claim is not None
    attempt = state.attempt(claim.attempt_id)
    assert attempt is not None
    detail = {ServiceMethod.direct: "served in person", ServiceMethod.refusal: "refused; documents left (留置)", ServiceMethod.posting: "notice posted at the address"}[
        claim.method
    ]
    decision.state = state.model_copy(update={"status": RecipientStatus.in_progress})
    succeed(decision, attempt, detail=detail, at=claim.at)
    if claim.method is ServiceMethod.posting:
        ends = law.service_date(ServiceMethod.posting, claim.event_day)
        decision.state = decision.state.model_copy(update={"status": RecipientStatus.notice_period, "period_ends": ends})
        return _tick(decision, now=now, policy=policy)
    # CPL 89: documents left on a refusal are deemed served; a signed service is an actual one.
    deemed = claim.method in law.ALWAYS_DEEMED
    return serve(decision, served_by(claim.method, attempt, event_day=claim.event_day, deemed=deemed, at=claim.at, claim=claim), now=now)


def _accept(decision: Decision, event: EvidenceAccepted, *, now: datetime, policy: Policy) -> Decision:
    """A supervisor accepted held evidence: the service counts as an unflagged one would, and says who set which flags aside and why."""
    state = decision.state
    if state.status is not RecipientStatus.held or state.claim is None:
        return decision
    review = Review(by=event.by, at=event.at, reason=event.reason, flags=blocking(state.claim, policy))
    decision.state = state.model_copy(update={"claim": state.claim.model_copy(update={"review": review})})
    return _count(decision, now=now, policy=policy)


def _revisit(decision: Decision, event: RevisitOrdered, *, now: datetime, policy: Policy) -> Decision:
    """A supervisor refused held evidence: the attempt fails with its flags and the reason, and the step begins again."""
    state = decision.state
    if state.status is not RecipientStatus.held or state.claim is None:
        return decision
    flags = sorted({f for item in blocking(state.claim, policy).values() for f in item})
    return _again(decision, reason=f"evidence flagged: {', '.join(flags)}; revisit ordered by {event.by}: {event.reason}", at=event.at, now=now, policy=policy)


def _end_period(decision: Decision, *, now: datetime) -> Decision:
    """A posting or public notice ran its thirty days (CPL 95): deemed served."""
    state = decision.state
    attempt = state.attempts[-1]
    claim = state.claim
    method = ServiceMethod.public_notice if attempt.channel is Channel.publication else ServiceMethod.posting
    assert state.period_ends is not None
    served = served_by(method, attempt, event_day=state.period_ends - law.NOTICE_PERIOD, deemed=True, at=now, claim=claim)
    return serve(decision, served, now=now)


def _published(decision: Decision, event: PublicationRecorded, *, policy: Policy) -> Decision:
    state = decision.state
    if state.status is not RecipientStatus.awaiting_publication:
        return decision
    attempt = Attempt(
        attempt_id=new_attempt_id(state),
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
    # Started and succeeded at once: the report lists the publication among the attempts, and its price is counted.
    decision.events.append(
        AttemptStarted(
            **about(state, attempt),
            started_at=event.at,
            cost_fen=policy.prices.of(Channel.publication),
        )
    )
    decision.events.append(
        AttemptSucceeded(
            **about(state, attempt),
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
        return next_step(decision, now=now, policy=policy)
    return decision


def _trace(decision: Decision, attempt: Attempt, event: PostalTrace, *, now: datetime, policy: Policy) -> Decision:
    state = decision.state
    if event.status is PostalStatus.refused:
        decision.state = state.model_copy(update={"mail_refused": True})
        return decision
    if event.status is not PostalStatus.returned:
        decision.state = replace_attempt(state, attempt.model_copy(update={"detail": event.status.value}))
        return decision
    return_day = local_date(event.at)
    reason = event.return_reason or ReturnReason.other
    step = state.step
    if law.deemed_on_return(reason, refused_before=state.mail_refused, confirmed_address=step.place is not None and step.place.confirmed_by_party):
        succeed(decision, attempt, detail=f"returned ({reason.value}); deemed served", at=event.at)
        # An item the recipient refused before it came back counts as refused, whatever the carrier wrote on the return.
        why = ReturnReason.refused if state.mail_refused else reason
        return serve(decision, served_by(ServiceMethod.postal, attempt, event_day=return_day, deemed=True, at=event.at, returned=why), now=now)
    fail(decision, attempt, reason=f"returned: {reason.value}", at=event.at)
    if reason in law.ONLY_PUBLIC_NOTICE_AFTER:
        return begin(decision, len(state.plan) - 1, now=now, policy=policy)
    return next_step(decision, now=now, policy=policy)


def _receipt(decision: Decision, attempt: Attempt, event: PostalReceipt, *, now: datetime, policy: Policy) -> Decision:
    state = decision.state
    if not law.may_sign(event.signer.role, kind=state.recipient.kind):
        # 专递规定 Art. 9: a signer who may not sign (e.g. the opposing party) does not make the item served.
        fail(decision, attempt, reason=f"return receipt signed by {event.signer.role}, who may not sign", at=event.at)
        return next_step(decision, now=now, policy=policy)
    succeed(decision, attempt, detail=f"return receipt signed by {event.signer.role}", at=event.at)
    claim = Claim(
        attempt_id=attempt.attempt_id,
        method=ServiceMethod.postal,
        event_day=event.signed_on,
        at=event.at,
        signature=event.signer,
        evidence_ids=[],
    )
    # CPL 91: the date on the return receipt is the service date.
    return serve(decision, served_by(ServiceMethod.postal, attempt, event_day=event.signed_on, deemed=False, at=event.at, claim=claim), now=now)
