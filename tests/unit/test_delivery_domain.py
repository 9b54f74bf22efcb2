"""Delivery's rules, table by table: service dates and bases, signers, the plan, the postal outcomes, failures, stale inputs, deadlines."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from services.delivery.adapters.twilio_mapper import failure_of
from services.delivery.domain import deadline, law
from services.delivery.domain.decision import Decision, OpenTask, Send
from services.delivery.domain.inputs import (
    Accepted,
    AddressChanged,
    Arrived,
    EvidenceAccepted,
    EvidenceChecked,
    NotArrived,
    PostalReceipt,
    PostalTrace,
    PublicationRecorded,
    RevisitOrdered,
    TaskOutcome,
    TaskReported,
    Tick,
)
from services.delivery.domain.machine import apply
from services.delivery.domain.moves import start
from services.delivery.domain.plan import choose_agent, visit_window
from services.delivery.domain.state import Case, Place, RecipientState, RecipientStatus, wake_at
from services.delivery.policy import Assignment, load_policy
from shared.contracts.events import (
    AddressSource,
    AttemptFailed,
    AttemptStarted,
    AttemptSucceeded,
    CandidateAddress,
    Channel,
    Consent,
    DispatchPostalItem,
    EDeliveryChannel,
    Lawyer,
    PartyKind,
    PostalStatus,
    Provenance,
    Recipient,
    RecipientServed,
    RecipientUnserved,
    ReturnReason,
    Review,
    ServiceMethod,
    Signature,
    SignerRole,
    Tier,
    Witness,
)
from shared.contracts.values import Phone
from shared.plumbing.clock import SHANGHAI, local_date

POLICY = load_policy()
# Monday 23 November 2026, 09:00 in Beijing: a working day.
NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
CASE = Case(notice_id="n-1", court_id="C371002", court_name="威海市环翠区人民法院", case_number="（2026）鲁1002民初1234号", documents=["起诉状副本", "传票"])
MOBILE, LANDLINE = "+8613800138000", "+866315201234"
HOME = "山东省威海市环翠区新威路17号"
WITNESS = Witness(name="王五", organisation="新威路社区居委会", witnessed_on=date(2026, 11, 23), refusal_reason="称与原告无借贷关系，拒绝签收")


def candidate(text: str = HOME, kind: AddressSource = AddressSource.filing) -> CandidateAddress:
    return CandidateAddress(text=text, rank=1, provenance=[Provenance(kind=kind)], city="威海市", district="环翠区")


def recipient(
    *,
    phones: tuple[str, ...] = (MOBILE,),
    consent: tuple[tuple[EDeliveryChannel, str], ...] = ((EDeliveryChannel.sms, MOBILE),),
    candidates: tuple[CandidateAddress, ...] = (candidate(),),
    whereabouts_unknown: bool = False,
    lawyer: Lawyer | None = None,
    kind: PartyKind = PartyKind.person,
) -> Recipient:
    return Recipient(
        recipient_id="r-1",
        name="张三",
        kind=kind,
        role="defendant",
        id_type=None,
        id_number=None,
        phones=[Phone.parse(p) for p in phones],
        emails=[],
        candidates=list(candidates),
        whereabouts_unknown=whereabouts_unknown,
        lawyer=lawyer,
        consent=[Consent(channel=c, address=a, source_case="（2026）鲁1002民初0999号", confirmed_on=date(2026, 6, 1)) for c, a in consent],
    )


def begin(**kwargs: object) -> Decision:
    return start(case=CASE, recipient=recipient(**kwargs), now=NOW, policy=POLICY)  # type: ignore[arg-type]


def step(state: RecipientState, event: object, *, now: datetime = NOW) -> Decision:
    return apply(state, event, now=now, policy=POLICY)  # type: ignore[arg-type]


def current_id(state: RecipientState) -> str:
    assert state.current is not None
    return state.current.attempt_id


def served(decision: Decision) -> RecipientServed:
    [event] = [e for e in decision.events if isinstance(e, RecipientServed)]
    return event


def advance_to(state: RecipientState, channel: Channel) -> RecipientState:
    """Fails attempts until the current one uses `channel`."""
    for _ in range(20):
        if state.step.channel is channel:
            return state
        attempt_id = current_id(state)
        if state.step.channel in (Channel.visit, Channel.posting):
            state = step(state, TaskReported(attempt_id=attempt_id, at=NOW, outcome=TaskOutcome.not_found, agent_id="a")).state
        else:
            state = step(state, NotArrived(attempt_id=attempt_id, at=NOW, status="failed")).state
    raise AssertionError(f"never reached {channel}")


# DOMAIN.md's service-date table: one row per method, each with its date and basis.
@pytest.mark.parametrize(
    ("method", "deemed", "event_day", "expected_date", "basis"),
    [
        (ServiceMethod.direct, False, date(2026, 11, 23), date(2026, 11, 23), "民事诉讼法第87条、第88条"),
        (ServiceMethod.refusal, True, date(2026, 11, 24), date(2026, 11, 24), "民事诉讼法第89条"),
        (ServiceMethod.electronic, False, date(2026, 11, 25), date(2026, 11, 25), "民事诉讼法第90条；民诉法解释第135条"),
        (ServiceMethod.postal, False, date(2026, 11, 26), date(2026, 11, 26), "民事诉讼法第91条"),
        (ServiceMethod.postal, True, date(2026, 11, 27), date(2026, 11, 27), "法院专递规定第11条；法发〔2017〕19号"),
        (ServiceMethod.public_notice, True, date(2026, 11, 23), date(2026, 12, 23), "民事诉讼法第95条；民诉法解释第138条"),
        (ServiceMethod.posting, True, date(2026, 12, 31), date(2027, 1, 30), "民事诉讼法第95条；民诉法解释第138条"),
    ],
)
def test_service_date_and_basis_by_method(method: ServiceMethod, deemed: bool, event_day: date, expected_date: date, basis: str) -> None:
    assert law.service_date(method, event_day) == expected_date
    assert law.basis(method, deemed=deemed) == basis


@pytest.mark.parametrize(("method", "deemed"), [(ServiceMethod.direct, True), (ServiceMethod.refusal, False)])
def test_a_deemed_direct_service_or_an_actual_refusal_has_no_basis(method: ServiceMethod, deemed: bool) -> None:
    # CPL 89: documents left on a refusal are always deemed served; a signed service never is.
    with pytest.raises(KeyError):
        law.basis(method, deemed=deemed)


@pytest.mark.parametrize(
    ("role", "kind", "valid"),
    [
        (SignerRole.recipient, PartyKind.person, True),
        (SignerRole.family_member, PartyKind.person, True),
        (SignerRole.statutory_agent, PartyKind.person, True),
        (SignerRole.litigation_agent, PartyKind.person, True),
        (SignerRole.designated_proxy, PartyKind.person, True),
        (SignerRole.mail_room, PartyKind.person, False),
        (SignerRole.opposing_party, PartyKind.person, False),
        (SignerRole.other, PartyKind.person, False),
        (SignerRole.legal_representative, PartyKind.organisation, True),
        (SignerRole.principal, PartyKind.organisation, True),
        (SignerRole.mail_room, PartyKind.organisation, True),
        (SignerRole.litigation_agent, PartyKind.organisation, True),
        (SignerRole.family_member, PartyKind.organisation, False),
        (SignerRole.opposing_party, PartyKind.organisation, False),
    ],
)
def test_who_may_sign(role: SignerRole, kind: PartyKind, valid: bool) -> None:
    assert law.may_sign(role, kind=kind) is valid


# The plan: consent gates electronic channels, SMS only to mobiles, no mail when whereabouts are unknown.
@pytest.mark.parametrize(
    ("kwargs", "channels"),
    [
        ({}, ["sms", "visit", "visit", "visit", "court_mail", "posting", "publication"]),
        ({"consent": ()}, ["voice", "visit", "visit", "visit", "court_mail", "posting", "publication"]),
        ({"phones": (LANDLINE,), "consent": ((EDeliveryChannel.sms, LANDLINE),)}, ["voice", "visit", "visit", "visit", "court_mail", "posting", "publication"]),
        (
            {"consent": ((EDeliveryChannel.sms, MOBILE), (EDeliveryChannel.email, "z@example.com"))},
            ["sms", "email", "visit", "visit", "visit", "court_mail", "posting", "publication"],
        ),
        ({"whereabouts_unknown": True}, ["sms", "publication"]),
        ({"candidates": ()}, ["sms", "publication"]),
        (
            {"lawyer": Lawyer(name="李律师", firm="某律所", email="li@firm.example"), "consent": ((EDeliveryChannel.lawyer_firm, "inbox@firm.example"),)},
            ["lawyer_firm", "voice", "visit", "visit", "visit", "court_mail", "posting", "publication"],
        ),
        ({"lawyer": None, "consent": ((EDeliveryChannel.lawyer_firm, "inbox@firm.example"),)}, ["voice", "visit", "visit", "visit", "court_mail", "posting", "publication"]),
    ],
)
def test_plan(kwargs: dict, channels: list[str]) -> None:
    assert [s.channel.value for s in begin(**kwargs).state.plan] == channels


def test_start_sends_the_first_message_and_announces_the_attempt() -> None:
    decision = begin()
    [send] = decision.actions
    assert isinstance(send, Send) and send.channel is Channel.sms and send.target == MOBILE
    assert [e.type for e in decision.events] == ["delivery.AttemptStarted"]
    # It carries the price of an SMS as the policy stands now, what the KPIs' cost per notice adds up.
    assert decision.events[0].cost_fen == POLICY.prices.sms == 5


def test_sms_delivered_serves_on_the_arrival_date_in_beijing() -> None:
    state = begin().state
    # 23:30 UTC on the 23rd is 07:30 on the 24th in Beijing: the law counts the local date.
    arrival = datetime(2026, 11, 23, 23, 30, tzinfo=UTC)
    decision = step(state, Arrived(attempt_id=current_id(state), at=arrival), now=arrival)
    event = served(decision)
    assert (event.method, event.service_date, event.deemed, event.channel) == (ServiceMethod.electronic, date(2026, 11, 24), False, "sms")
    assert decision.state.status is RecipientStatus.served


# Twilio's error codes, one row each: what happens next.
@pytest.mark.parametrize(
    ("code", "next_channel", "unusable", "scheduled"),
    [
        (30003, Channel.sms, False, True),
        (30006, Channel.voice, False, False),
        (21635, Channel.voice, False, False),
        (21614, Channel.voice, False, False),
        (21211, Channel.visit, True, False),
        (30008, Channel.visit, False, False),
    ],
)
def test_sms_failures(code: int, next_channel: Channel, unusable: bool, scheduled: bool) -> None:
    state = begin().state
    decision = step(state, NotArrived(attempt_id=current_id(state), at=NOW, status="undelivered", failure=failure_of(code), error_code=code))
    after = decision.state
    assert after.step.channel is next_channel
    assert (MOBILE in after.unusable) is unusable
    assert (after.current is not None and after.current.status.value == "scheduled") is scheduled
    assert [e.type for e in decision.events][0] == "delivery.AttemptFailed"


def test_unreachable_is_retried_then_given_up() -> None:
    state = begin(phones=()).state
    for _ in range(POLICY.electronic.retries):
        state = step(state, NotArrived(attempt_id=current_id(state), at=NOW, status="undelivered", failure=failure_of(30003), error_code=30003)).state
        assert state.step.channel is Channel.sms and state.current is not None and state.current.not_before is not None
        later = state.current.not_before
        decision = step(state, Tick(), now=later)
        assert any(isinstance(a, Send) for a in decision.actions)
        state = decision.state
    state = step(state, NotArrived(attempt_id=current_id(state), at=NOW, status="undelivered", failure=failure_of(30003), error_code=30003)).state
    assert state.step.channel is Channel.visit


def test_no_receipt_in_time_moves_on() -> None:
    state = begin().state
    due = state.current.due_at if state.current else None
    assert due is not None
    assert step(state, Tick(), now=due - timedelta(seconds=1)).state == state
    assert step(state, Tick(), now=due).state.step.channel is Channel.visit


def test_an_input_about_an_earlier_attempt_is_ignored() -> None:
    state = begin().state
    first = current_id(state)
    state = step(state, NotArrived(attempt_id=first, at=NOW, status="undelivered", failure=failure_of(30006), error_code=30006)).state
    late = step(state, Arrived(attempt_id=first, at=NOW))
    assert late.state == state and not late.events
    assert step(state, Accepted(attempt_id="someone-else", provider_ref="SM1")).state == state


def test_a_call_informs_but_does_not_serve() -> None:
    state = begin(consent=()).state
    decision = step(state, Arrived(attempt_id=current_id(state), at=NOW))
    assert not any(isinstance(e, RecipientServed) for e in decision.events)
    assert decision.state.step.channel is Channel.visit


# Visits.
def at_visit(**kwargs: object) -> RecipientState:
    return advance_to(begin(**kwargs).state, Channel.visit)


@pytest.mark.parametrize(
    ("report", "method", "basis"),
    [
        (
            {"outcome": TaskOutcome.served, "signer": Signature(name="张三", role=SignerRole.recipient), "evidence": {"sig-1": []}},
            ServiceMethod.direct,
            "民事诉讼法第87条、第88条",
        ),
        (
            {"outcome": TaskOutcome.served, "signer": Signature(name="张母", role=SignerRole.family_member, relation="母亲"), "evidence": {"rc-1": []}},
            ServiceMethod.direct,
            "民事诉讼法第87条、第88条",
        ),
        # CPL 89: documents left on a refusal before a witness, or photographed, are deemed served ("即视为送达").
        ({"outcome": TaskOutcome.refused, "witness": WITNESS}, ServiceMethod.refusal, "民事诉讼法第89条"),
        ({"outcome": TaskOutcome.refused, "evidence": {"ph-1": []}}, ServiceMethod.refusal, "民事诉讼法第89条"),
    ],
)
def test_visit_served_or_refused_with_witness(report: dict, method: ServiceMethod, basis: str) -> None:
    state = at_visit()
    left = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)
    decision = step(state, TaskReported(attempt_id=current_id(state), at=left, agent_id="a", **report))
    event = served(decision)
    deemed = method is ServiceMethod.refusal
    assert (event.method, event.service_date, event.legal_basis, event.deemed) == (method, date(2026, 11, 23), basis, deemed)
    assert event.deemed_reason == (law.DEEMED_REASONS[(ServiceMethod.refusal, None)] if deemed else None)
    assert decision.state.served is not None and decision.state.served.deemed_reason == event.deemed_reason
    # The witness's date and reason travel into the event for the report.
    assert event.witness == report.get("witness")


@pytest.mark.parametrize(
    ("hours_before_window", "remarks"),
    [(2.0, ["reported_before_window"]), (0.0, []), (-1.0, [])],
)
@pytest.mark.parametrize("outcome", [TaskOutcome.not_found, TaskOutcome.refused])
def test_a_visit_reported_before_its_window_opened_is_kept_with_a_remark(hours_before_window: float, remarks: list[str], outcome: TaskOutcome) -> None:
    state = at_visit()
    attempt = state.current
    assert attempt is not None and attempt.window_start is not None
    at = attempt.window_start - timedelta(hours=hours_before_window)
    decision = step(state, TaskReported(attempt_id=attempt.attempt_id, at=at, agent_id="a", outcome=outcome, witness=WITNESS))
    [closed] = [e for e in decision.events if isinstance(e, AttemptSucceeded | AttemptFailed)]
    assert closed.remarks == remarks
    kept = decision.state.attempt(attempt.attempt_id)
    assert kept is not None and kept.remarks == remarks


def test_an_invalid_signer_does_not_serve() -> None:
    state = at_visit()
    decision = step(
        state,
        TaskReported(
            attempt_id=current_id(state), at=NOW, agent_id="a", outcome=TaskOutcome.served, signer=Signature(name="李四", role=SignerRole.opposing_party), evidence={"sig-1": []}
        ),
    )
    assert not any(isinstance(e, RecipientServed) for e in decision.events)
    assert decision.state.step.channel is Channel.visit and decision.state.cursor == state.cursor + 1


def test_refusal_with_a_photo_counts_once_evidence_is_recorded_unflagged() -> None:
    state = at_visit()
    reported = step(state, TaskReported(attempt_id=current_id(state), at=NOW, agent_id="a", outcome=TaskOutcome.refused, evidence={"ev-1": None}))
    assert reported.state.status is RecipientStatus.awaiting_evidence and not reported.events
    decision = step(reported.state, EvidenceChecked(evidence_id="ev-1", flags=["no_gps"]))
    event = served(decision)
    assert event.method is ServiceMethod.refusal and event.evidence_ids == ["ev-1"]


@pytest.mark.parametrize(
    ("recorded", "kinds_at_report", "counts"),
    [
        pytest.param({"ev-1": "signature"}, {}, True, id="signature-recorded-later"),
        pytest.param({"ev-1": "signed_receipt"}, {}, True, id="signed-receipt-recorded-later"),
        pytest.param({"ev-1": "photo", "ev-2": "signature"}, {}, True, id="photo-and-signature"),
        pytest.param({"ev-1": "photo"}, {}, False, id="only-a-photo"),
        pytest.param({"ev-2": "photo"}, {"ev-1": "video"}, False, id="a-video-known-and-a-photo-later"),
        pytest.param({"ev-2": "signature"}, {"ev-1": "photo"}, True, id="a-photo-known-and-the-signature-later"),
    ],
)
def test_a_service_counts_only_when_its_recorded_evidence_carries_the_signature(recorded: dict[str, str], kinds_at_report: dict[str, str], counts: bool) -> None:
    """CPL 87, 88: evidence named before it was recorded is checked for the signature once it is; without one the visit is made again."""
    state = at_visit()
    evidence: dict[str, list[str] | None] = {**{item: [] for item in kinds_at_report}, **{item: None for item in recorded}}
    signer = Signature(name="张三", role=SignerRole.recipient)
    report = TaskReported(attempt_id=current_id(state), at=NOW, agent_id="a", outcome=TaskOutcome.served, signer=signer, evidence=evidence, kinds=kinds_at_report)
    decision = step(state, report)
    for item, kind in recorded.items():
        assert decision.state.status is RecipientStatus.awaiting_evidence
        decision = step(decision.state, EvidenceChecked(evidence_id=item, flags=[], kind=kind))
    if counts:
        assert served(decision).method is ServiceMethod.direct
    else:
        assert not any(isinstance(e, RecipientServed) for e in decision.events)
        failed = decision.state.attempt(current_id(state))
        assert failed is not None and failed.status.value == "failed" and "signature" in (failed.detail or "")
        assert decision.state.step.channel is Channel.visit and decision.state.cursor == state.cursor and decision.state.current is not None
        assert decision.state.current.attempt_id != current_id(state), "the visit is made again"


# Held evidence: a blocking flag waits for a supervisor, who accepts the evidence or orders the step made again.
REVIEWED_AT = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
ACCEPT = EvidenceAccepted(by="sup-1", reason="现场照片经电话核实", at=REVIEWED_AT)
REVISIT = RevisitOrdered(by="sup-1", reason="照片地点不符，重新上门", at=REVIEWED_AT)
WITNESS = Witness(name="王五", organisation="新威路社区居委会")


def reported_at(channel: Channel, outcome: TaskOutcome, evidence: dict[str, list[str] | None], **report: object) -> tuple[RecipientState, Decision]:
    """The state at a visit (or a posting) and the decision on its report naming `evidence`."""
    state = at_visit() if channel is Channel.visit else advance_to(at_mail(), Channel.posting)
    return state, step(state, TaskReported(attempt_id=current_id(state), at=NOW, agent_id="a", outcome=outcome, evidence=evidence, **report))  # type: ignore[arg-type]


def held(channel: Channel = Channel.visit, outcome: TaskOutcome = TaskOutcome.refused, **report: object) -> tuple[RecipientState, RecipientState]:
    """The state before a report and the state once its photo came back far from the address (held)."""
    before, reported = reported_at(channel, outcome, {"ev-1": None, "ev-2": None}, **report)
    state = step(reported.state, EvidenceChecked(evidence_id="ev-1", flags=["no_gps"])).state
    decision = step(state, EvidenceChecked(evidence_id="ev-2", flags=["far_from_address", "time_mismatch"]))
    assert not decision.events and not decision.actions
    return before, decision.state


def test_a_flagged_item_holds_the_service_once_every_item_is_recorded() -> None:
    before, reported = reported_at(Channel.visit, TaskOutcome.refused, {"ev-1": None, "ev-2": None})
    flagged = step(reported.state, EvidenceChecked(evidence_id="ev-2", flags=["far_from_address"]))
    assert flagged.state.status is RecipientStatus.awaiting_evidence and not flagged.events, "the other item is still to come"
    decision = step(flagged.state, EvidenceChecked(evidence_id="ev-1", flags=[]))
    state = decision.state
    assert state.status is RecipientStatus.held and not decision.events and not decision.actions
    assert state.claim is not None and state.claim.checked == {"ev-1": [], "ev-2": ["far_from_address"]}
    assert state.current is not None and state.current.attempt_id == current_id(before) and state.current.status.value == "reported"
    assert wake_at(state) is None


@pytest.mark.parametrize(
    ("channel", "outcome", "report", "status", "events", "method"),
    [
        (Channel.visit, TaskOutcome.refused, {"witness": WITNESS}, RecipientStatus.served, ["delivery.AttemptSucceeded", "delivery.RecipientServed"], ServiceMethod.refusal),
        (
            Channel.visit,
            TaskOutcome.served,
            {"signer": Signature(name="张三", role=SignerRole.recipient)},
            RecipientStatus.served,
            ["delivery.AttemptSucceeded", "delivery.RecipientServed"],
            ServiceMethod.direct,
        ),
        (Channel.posting, TaskOutcome.posted, {}, RecipientStatus.notice_period, ["delivery.AttemptSucceeded"], None),
    ],
)
def test_accepted_evidence_counts_as_unflagged_evidence_would_and_records_the_review(
    channel: Channel, outcome: TaskOutcome, report: dict, status: RecipientStatus, events: list[str], method: ServiceMethod | None
) -> None:
    _, state = held(channel, outcome, **report)
    decision = step(state, ACCEPT, now=REVIEWED_AT)
    _, unflagged = reported_at(channel, outcome, {"ev-1": [], "ev-2": []}, **report)
    assert decision.state.status is status and [e.type for e in decision.events] == events
    assert [type(a) for a in decision.actions] == [type(a) for a in unflagged.actions]
    review = Review(by="sup-1", at=REVIEWED_AT, reason="现场照片经电话核实", flags={"ev-2": ["far_from_address", "time_mismatch"]})
    if method is not None:
        event = served(decision)
        assert event.review == review and decision.state.served is not None and decision.state.served.review == review
        # Apart from the review, exactly what the same report with clean evidence would have served.
        assert event.model_copy(update={"review": None}) == served(unflagged)
        assert event.method is method and event.service_date == date(2026, 11, 23) and event.evidence_ids == ["ev-1", "ev-2"]
    else:
        assert decision.state.period_ends == unflagged.state.period_ends == law.service_date(ServiceMethod.posting, local_date(NOW))
        ended = served(step(decision.state, Tick(), now=datetime.combine(decision.state.period_ends, time.min, SHANGHAI)))
        assert (ended.method, ended.deemed, ended.review) == (ServiceMethod.posting, True, review)


@pytest.mark.parametrize("channel", [Channel.visit, Channel.posting])
def test_a_revisit_fails_the_attempt_with_its_flags_and_the_reason_and_makes_the_step_again(channel: Channel) -> None:
    outcome = TaskOutcome.refused if channel is Channel.visit else TaskOutcome.posted
    before, state = held(channel, outcome)
    decision = step(state, REVISIT, now=REVIEWED_AT)
    after = decision.state
    assert after.status is RecipientStatus.in_progress and after.claim is None and after.cursor == before.cursor
    assert [e.type for e in decision.events] == ["delivery.AttemptFailed", "delivery.AttemptStarted"]
    failed = after.attempt(current_id(before))
    assert failed is not None and failed.status.value == "failed"
    assert failed.detail == "evidence flagged: far_from_address, time_mismatch; revisit ordered by sup-1: 照片地点不符，重新上门"
    assert after.exhausted[-1].reason == failed.detail
    assert current_id(after) != current_id(before) and after.step.channel is channel
    [task] = [a for a in decision.actions if isinstance(a, OpenTask)]
    assert task.kind is channel and task.attempt_id == current_id(after)
    assert not any(isinstance(e, RecipientServed) for e in decision.events)


def _awaiting() -> RecipientState:
    return reported_at(Channel.visit, TaskOutcome.refused, {"ev-1": None})[1].state


def _in_progress() -> RecipientState:
    return at_visit()


def _held() -> RecipientState:
    return held()[1]


def _served() -> RecipientState:
    return step(_held(), ACCEPT, now=REVIEWED_AT).state


# Only a held recipient takes a supervisor's decision, and a held one waits for nothing but that decision.
@pytest.mark.parametrize(
    ("make", "event"),
    [
        pytest.param(_awaiting, ACCEPT, id="accept-awaiting-evidence"),
        pytest.param(_awaiting, REVISIT, id="revisit-awaiting-evidence"),
        pytest.param(_in_progress, ACCEPT, id="accept-in-progress"),
        pytest.param(_in_progress, REVISIT, id="revisit-in-progress"),
        pytest.param(_served, ACCEPT, id="accept-served"),
        pytest.param(_served, REVISIT, id="revisit-served"),
        pytest.param(_held, Tick(), id="tick-held"),
        pytest.param(_held, EvidenceChecked(evidence_id="ev-2", flags=[]), id="evidence-again-held"),
    ],
)
def test_inputs_that_change_nothing(make: object, event: object) -> None:
    state = make()  # type: ignore[operator]
    decision = step(state, event, now=REVIEWED_AT + timedelta(days=40))
    assert decision.state == state and not decision.changed


def test_already_recorded_evidence_counts_at_once() -> None:
    state = at_visit()
    decision = step(state, TaskReported(attempt_id=current_id(state), at=NOW, agent_id="a", outcome=TaskOutcome.refused, evidence={"ev-1": []}))
    assert served(decision).method is ServiceMethod.refusal


def test_visits_fall_on_different_days_at_varied_times() -> None:
    state = at_visit()
    windows = []
    for _ in POLICY.direct.visits:
        current = state.current
        assert current is not None and current.window_start is not None and current.window_end is not None
        windows.append((current.window_start.astimezone(SHANGHAI), current.window_end.astimezone(SHANGHAI)))
        state = step(state, TaskReported(attempt_id=current.attempt_id, at=current.window_start, agent_id="a", outcome=TaskOutcome.not_found)).state
    days = [start.date() for start, _ in windows]
    assert len(set(days)) == len(days)
    assert [w[1].time() for w in windows] == [slot.end for slot in POLICY.direct.visits]
    assert state.step.channel is Channel.court_mail


def test_a_move_reports_the_address_and_visits_there() -> None:
    state = at_visit()
    new = Place(text="山东省威海市环翠区文化中路88号")
    decision = step(state, TaskReported(attempt_id=current_id(state), at=NOW, agent_id="a", outcome=TaskOutcome.moved, new_place=new))
    assert "delivery.AddressReported" in [e.type for e in decision.events]
    assert decision.state.step.channel is Channel.visit and decision.state.step.place == new


# Court mail: every outcome of DOMAIN.md, one row each.
def at_mail(kind: AddressSource = AddressSource.filing) -> RecipientState:
    return advance_to(begin(candidates=(candidate(kind=kind),)).state, Channel.court_mail)


RETURNED = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


def test_booking_court_mail_commands_the_gateway() -> None:
    state = advance_to(begin().state, Channel.visit)
    for _ in POLICY.direct.visits:
        decision = step(state, TaskReported(attempt_id=current_id(state), at=NOW, agent_id="a", outcome=TaskOutcome.not_found))
        state = decision.state
    [command] = decision.commands
    assert isinstance(command, DispatchPostalItem) and not any(isinstance(e, DispatchPostalItem) for e in decision.events)
    assert (command.address, command.attempt_id, command.receiver_name) == (HOME, current_id(state), "张三")


@pytest.mark.parametrize(
    ("kind", "events", "outcome"),
    [
        # 回执 back signed by someone who may sign → served on the receipt date (CPL 91).
        (AddressSource.filing, [PostalStatus.delivered, ("receipt", SignerRole.family_member)], (ServiceMethod.postal, date(2026, 11, 27), False)),
        # Signed by the opposing party → not served; the next step (a posting) follows.
        (AddressSource.filing, [PostalStatus.delivered, ("receipt", SignerRole.opposing_party)], Channel.posting),
        # Refused → deemed served on the return date (专递 Art. 11).
        (AddressSource.filing, [PostalStatus.refused, (PostalStatus.returned, ReturnReason.refused)], (ServiceMethod.postal, date(2026, 11, 30), True)),
        (AddressSource.filing, [(PostalStatus.returned, ReturnReason.refused)], (ServiceMethod.postal, date(2026, 11, 30), True)),
        # Unclaimed or wrong at an address the party itself confirmed → deemed served on the return date.
        (AddressSource.confirmation, [(PostalStatus.returned, ReturnReason.unclaimed)], (ServiceMethod.postal, date(2026, 11, 30), True)),
        (AddressSource.confirmation, [(PostalStatus.returned, ReturnReason.address_wrong)], (ServiceMethod.postal, date(2026, 11, 30), True)),
        # …at an address nobody confirmed → a posting task at the address.
        (AddressSource.filing, [(PostalStatus.returned, ReturnReason.unclaimed)], Channel.posting),
        (AddressSource.household, [(PostalStatus.returned, ReturnReason.address_wrong)], Channel.posting),
        # Whereabouts unknown → public notice.
        (AddressSource.confirmation, [(PostalStatus.returned, ReturnReason.whereabouts_unknown)], Channel.publication),
    ],
)
def test_postal_outcomes(kind: AddressSource, events: list, outcome: object) -> None:
    state = at_mail(kind)
    attempt_id = current_id(state)
    decision = Decision(state)
    for item in events:
        if isinstance(item, PostalStatus):
            decision = step(decision.state, PostalTrace(attempt_id=attempt_id, at=RETURNED - timedelta(days=3), status=item))
        elif item[0] == "receipt":
            decision = step(decision.state, PostalReceipt(attempt_id=attempt_id, at=RETURNED, signer=Signature(name="某人", role=item[1]), signed_on=date(2026, 11, 27)))
        else:
            decision = step(decision.state, PostalTrace(attempt_id=attempt_id, at=RETURNED, status=item[0], return_reason=item[1]))
    if isinstance(outcome, Channel):
        assert not any(isinstance(e, RecipientServed) for e in decision.events)
        assert decision.state.step.channel is outcome
    else:
        event = served(decision)
        assert (event.method, event.service_date, event.deemed) == outcome
        assert event.legal_basis == law.basis(event.method, deemed=event.deemed)
        # A deemed return says why, by the return's reason (a refusal before the return counts as a refusal); an actual one does not.
        returned = next((item[1] for item in events if isinstance(item, tuple) and isinstance(item[1], ReturnReason)), None)
        assert event.deemed_reason == (law.DEEMED_REASONS[(ServiceMethod.postal, returned)] if event.deemed else None)


def test_posting_with_a_photo_is_deemed_served_thirty_days_later() -> None:
    state = advance_to(at_mail(), Channel.posting)
    posted_at = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    decision = step(state, TaskReported(attempt_id=current_id(state), at=posted_at, agent_id="a", outcome=TaskOutcome.posted, evidence={"ph-1": []}))
    assert decision.state.status is RecipientStatus.notice_period and decision.state.period_ends == date(2026, 12, 31)
    assert not any(isinstance(e, RecipientServed) for e in decision.events)
    assert step(decision.state, Tick(), now=datetime(2026, 12, 30, 15, 59, tzinfo=UTC)).state == decision.state
    event = served(step(decision.state, Tick(), now=datetime(2026, 12, 30, 16, 0, tzinfo=UTC)))
    assert (event.method, event.service_date, event.deemed) == (ServiceMethod.posting, date(2026, 12, 31), True)
    assert event.deemed_reason is not None and "经过三十日，即视为送达" in event.deemed_reason


def test_public_notice_lists_exhausted_methods_and_serves_thirty_days_after_publication() -> None:
    state = begin(whereabouts_unknown=True).state
    decision = step(state, NotArrived(attempt_id=current_id(state), at=NOW, status="undelivered", failure=failure_of(30008), error_code=30008))
    [unserved] = [e for e in decision.events if isinstance(e, RecipientUnserved)]
    assert [(x.channel, x.target) for x in unserved.exhausted] == [(Channel.sms, MOBILE)]
    assert decision.state.status is RecipientStatus.awaiting_publication
    published = step(decision.state, PublicationRecorded(published_on=date(2026, 11, 25), at=NOW))
    assert published.state.period_ends == date(2026, 12, 25)
    # The publication is an attempt like any other: started (at the policy's price) and succeeded at once.
    [started] = [e for e in published.events if isinstance(e, AttemptStarted)]
    assert (started.channel, started.cost_fen) == (Channel.publication, POLICY.prices.public_notice)
    event = served(step(published.state, Tick(), now=datetime(2026, 12, 25, 0, 0, tzinfo=SHANGHAI)))
    assert (event.method, event.service_date, event.legal_basis) == (ServiceMethod.public_notice, date(2026, 12, 25), "民事诉讼法第95条；民诉法解释第138条")


def test_publication_is_refused_before_other_methods_failed() -> None:
    state = begin().state
    assert step(state, PublicationRecorded(published_on=date(2026, 11, 25), at=NOW)).state == state


def test_a_confirmation_sends_later_steps_to_the_confirmed_address() -> None:
    state = begin().state
    confirmed = CandidateAddress(text="山东省威海市环翠区文化中路88号", rank=1, provenance=[Provenance(kind=AddressSource.confirmation)])
    after = step(state, AddressChanged(address=confirmed, consent=[])).state
    places = {s.place.text for s in after.plan if s.place}
    assert places == {confirmed.text} and all(s.place.confirmed_by_party for s in after.plan if s.place)


def test_served_recipients_ignore_everything() -> None:
    state = begin().state
    done = step(state, Arrived(attempt_id=current_id(state), at=NOW)).state
    assert step(done, Tick(), now=NOW + timedelta(days=90)).state == done
    assert step(done, AddressChanged(address=candidate("别处"), consent=[])).state == done


# Visit windows and assignment.
def test_visit_window_skips_to_the_right_kind_of_day() -> None:
    weekend = POLICY.direct.visits[2]
    start_, end = visit_window(weekend, after=NOW)
    assert start_.date() == date(2026, 11, 28) and start_.time() == weekend.start and end.time() == weekend.end
    evening = POLICY.direct.visits[1]
    assert visit_window(evening, after=NOW, not_on=date(2026, 11, 23))[0].date() == date(2026, 11, 24)


@pytest.mark.parametrize(
    ("district", "city", "assignment", "turn", "agent"),
    [
        ("环翠区", "威海市", Assignment.area, 0, "agent-huancui-1"),
        ("环翠区", "威海市", Assignment.area, 1, "agent-huancui-2"),
        ("高区", "威海市", Assignment.area, 0, "agent-huancui-2"),
        ("文登区", "威海市", Assignment.area, 5, "agent-weihai"),
        ("历下区", "济南市", Assignment.area, 4, "agent-huancui-2"),
        ("环翠区", "威海市", Assignment.round_robin, 2, "agent-weihai"),
    ],
)
def test_choose_agent(district: str, city: str, assignment: Assignment, turn: int, agent: str) -> None:
    place = Place(text="x", district=district, city=city)
    assert choose_agent(POLICY.agents, place=place, assignment=assignment, turn=turn).id == agent


# Deadlines on the working calendar.
@pytest.mark.parametrize(
    ("now", "warned", "overdue", "expected"),
    [
        (datetime(2026, 11, 25, 13, 29, tzinfo=SHANGHAI), False, False, (False, False)),
        (datetime(2026, 11, 25, 13, 30, tzinfo=SHANGHAI), False, False, (True, False)),
        (datetime(2026, 11, 25, 20, 0, tzinfo=SHANGHAI), True, False, (False, False)),
        (datetime(2026, 11, 26, 0, 0, tzinfo=SHANGHAI), True, False, (False, True)),
        (datetime(2026, 11, 26, 0, 0, tzinfo=SHANGHAI), False, False, (False, True)),
        (datetime(2026, 11, 27, 9, 0, tzinfo=SHANGHAI), True, True, (False, False)),
    ],
)
def test_deadline_alerts(now: datetime, warned: bool, overdue: bool, expected: tuple[bool, bool]) -> None:
    assert deadline.alerts(date(2026, 11, 25), now=now, policy=POLICY, warned=warned, overdue=overdue) == expected


@pytest.mark.parametrize(
    ("now", "late_until", "warn_until"),
    [
        # Wednesday 25 November: the warning for that day comes at 13:30.
        (datetime(2026, 11, 25, 13, 29, tzinfo=SHANGHAI), date(2026, 11, 24), date(2026, 11, 24)),
        (datetime(2026, 11, 25, 13, 30, tzinfo=SHANGHAI), date(2026, 11, 24), date(2026, 11, 25)),
        (datetime(2026, 11, 26, 0, 0, tzinfo=SHANGHAI), date(2026, 11, 25), date(2026, 11, 25)),
        # Friday evening: Saturday's and Sunday's due dates are warned with Friday's (no working hours left before them).
        (datetime(2026, 11, 27, 18, 0, tzinfo=SHANGHAI), date(2026, 11, 26), date(2026, 11, 29)),
    ],
)
def test_last_due_dates_alerted(now: datetime, late_until: date, warn_until: date) -> None:
    assert deadline.last_due_dates(now, POLICY) == (late_until, warn_until)
    # Every due date up to them alerts, the next one does not: the sweeper reads only those notices.
    for offset in range(-3, 1):
        assert any(deadline.alerts(warn_until + timedelta(days=offset), now=now, policy=POLICY, warned=False, overdue=False))
    assert deadline.alerts(warn_until + timedelta(days=1), now=now, policy=POLICY, warned=False, overdue=False) == (False, False)
    assert deadline.alerts(late_until, now=now, policy=POLICY, warned=True, overdue=False) == (False, True)
    assert deadline.alerts(late_until + timedelta(days=1), now=now, policy=POLICY, warned=True, overdue=False) == (False, False)


def test_tiers_are_tried_in_order() -> None:
    assert [t.value for t in Tier] == ["electronic", "direct", "postal", "posting", "public_notice"]
