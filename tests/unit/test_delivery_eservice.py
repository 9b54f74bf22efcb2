"""Electronic service by the Online Litigation Rules, table by table: what serves at a confirmed or unconfirmed address (Art. 31)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from services.delivery.domain import law
from services.delivery.domain.decision import Decision, Send, Withdraw
from services.delivery.domain.inputs import Acknowledged, Arrived, Failure, NotArrived, Read, Replied, Tick
from services.delivery.domain.machine import apply
from services.delivery.domain.moves import start
from services.delivery.domain.state import Attempt, AttemptStatus, Case, RecipientState, RecipientStatus, wake_at
from services.delivery.policy import Policy, ServiceTime, load_policy
from shared.contracts.events import (
    AttemptFailed,
    AttemptSucceeded,
    AttemptSuperseded,
    CandidateAddress,
    Channel,
    Consent,
    ConsentForm,
    EDeliveryChannel,
    Provenance,
    Recipient,
    RecipientServed,
    Transmission,
)
from shared.contracts.values import Phone

POLICY = load_policy()
ACK_POLICY = POLICY.model_copy(update={"electronic": POLICY.electronic.model_copy(update={"service_time": ServiceTime.acknowledgement})})
# Monday 23 November 2026, 09:00 in Beijing: a working day.
NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
CASE = Case(notice_id="n-1", court_id="C371002", court_name="威海市环翠区人民法院", case_number="（2026）鲁1002民初1234号", documents=["起诉状副本", "传票"])
MOBILE = "+8613800138000"
MAILBOX = "zhangsan@example.com"
CONFIRMED_BASIS = "民事诉讼法第90条；民诉法解释第135条"
OLR_BASIS = "民事诉讼法第90条；《人民法院在线诉讼规则》第31条"
PRESUMED = "系统显示受送达人已阅读，推定送达（《人民法院在线诉讼规则》第31条第2款）"


def consent(channel: EDeliveryChannel, address: str, *, confirmed: bool = True) -> Consent:
    return Consent(
        channel=channel, address=address, source_case="（2026）鲁1002民初0999号", confirmed_on=date(2026, 6, 1), form=ConsentForm.own_filing, address_confirmed=confirmed
    )


def recipient(*consents: Consent) -> Recipient:
    return Recipient(
        recipient_id="r-1",
        name="张三",
        kind="person",
        role="defendant",
        id_type=None,
        id_number=None,
        phones=[Phone.parse(MOBILE)],
        emails=[],
        candidates=[CandidateAddress(text="山东省威海市环翠区新威路17号", rank=1, provenance=[Provenance(kind="filing")])],
        consent=list(consents),
    )


def started(*consents: Consent, policy: Policy = POLICY) -> RecipientState:
    return start(case=CASE, recipient=recipient(*consents), now=NOW, policy=policy).state


def step(state: RecipientState, event: object, *, now: datetime = NOW, policy: Policy = POLICY) -> Decision:
    return apply(state, event, now=now, policy=policy)  # type: ignore[arg-type]


def current_id(state: RecipientState) -> str:
    assert state.current is not None
    return state.current.attempt_id


def served(decision: Decision) -> RecipientServed | None:
    found = [e for e in decision.events if isinstance(e, RecipientServed)]
    return found[0] if found else None


# OLR Art. 31: one row per (confirmed address, signal): whether it serves, on which basis, and whether only presumed.
@pytest.mark.parametrize(
    ("confirmed", "signal", "expected"),
    [
        (True, law.Signal.arrival, law.EService(basis=CONFIRMED_BASIS)),
        (True, law.Signal.acknowledgement, law.EService(basis=CONFIRMED_BASIS)),
        (True, law.Signal.reply, law.EService(basis=CONFIRMED_BASIS)),
        (True, law.Signal.read, None),
        (False, law.Signal.arrival, None),
        (False, law.Signal.acknowledgement, law.EService(basis=OLR_BASIS)),
        (False, law.Signal.reply, law.EService(basis=OLR_BASIS)),
        (False, law.Signal.read, law.EService(basis=OLR_BASIS, presumed=True, reason=PRESUMED)),
    ],
)
def test_what_serves_electronically(confirmed: bool, signal: law.Signal, expected: law.EService | None) -> None:
    assert law.e_service(signal, address_confirmed=confirmed) == expected


ARRIVED = datetime(2026, 11, 23, 1, 5, tzinfo=UTC)
LATER = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


# The machine, per address and policy: what arrival, then an acknowledgement or a read report, make of the attempt.
@pytest.mark.parametrize(
    ("confirmed", "policy", "then", "served_on", "basis", "presumed"),
    [
        # OLR 31(1): a confirmed address is served on arrival; what follows changes nothing.
        (True, POLICY, None, ARRIVED, CONFIRMED_BASIS, False),
        # A court may ask for the acknowledgement even at a confirmed address; a reading alone does not do.
        (True, ACK_POLICY, Acknowledged, LATER, CONFIRMED_BASIS, False),
        (True, ACK_POLICY, Replied, LATER, CONFIRMED_BASIS, False),
        (True, ACK_POLICY, Read, None, None, False),
        # OLR 31(2): an unconfirmed address is not served on arrival, but on acknowledgement, or presumed on reading.
        (False, POLICY, None, None, None, False),
        (False, POLICY, Acknowledged, LATER, OLR_BASIS, False),
        # A reply saying it received the documents serves actually, not presumed (OLR 31(2)).
        (False, POLICY, Replied, LATER, OLR_BASIS, False),
        (False, POLICY, Read, LATER, OLR_BASIS, True),
        (False, ACK_POLICY, Read, LATER, OLR_BASIS, True),
    ],
)
def test_arrival_then_acknowledgement_or_reading(confirmed: bool, policy: Policy, then: type | None, served_on: datetime | None, basis: str | None, presumed: bool) -> None:
    state = started(consent(EDeliveryChannel.email, MAILBOX, confirmed=confirmed), policy=policy)
    attempt_id = current_id(state)
    arrived = step(state, Arrived(attempt_id=attempt_id, at=ARRIVED), policy=policy)
    outcome = served(arrived)
    if then is not None and outcome is None:
        assert arrived.state.current is not None and arrived.state.current.status is AttemptStatus.open and arrived.state.current.arrived_at == ARRIVED
        outcome = served(step(arrived.state, then(attempt_id=attempt_id, at=LATER), now=LATER, policy=policy))
    if served_on is None:
        assert outcome is None
        return
    assert outcome is not None
    assert (outcome.served_at, outcome.legal_basis, outcome.presumed, outcome.deemed) == (served_on, basis, presumed, False)
    assert outcome.deemed_reason == (PRESUMED if presumed else None)
    assert outcome.consent == consent(EDeliveryChannel.email, MAILBOX, confirmed=confirmed)


def test_a_reply_to_an_sms_at_an_unconfirmed_number_serves_as_of_the_reply_and_says_so() -> None:
    state = started(consent(EDeliveryChannel.sms, MOBILE, confirmed=False))
    attempt_id = current_id(state)
    waiting = step(state, Arrived(attempt_id=attempt_id, at=ARRIVED))
    assert served(waiting) is None
    replied = step(waiting.state, Replied(attempt_id=attempt_id, at=LATER), now=LATER)
    outcome = served(replied)
    assert outcome is not None and (outcome.channel, outcome.served_at, outcome.presumed, outcome.legal_basis) == (Channel.sms, LATER, False, OLR_BASIS)
    [succeeded] = [e for e in replied.events if isinstance(e, AttemptSucceeded)]
    assert (succeeded.attempt_id, succeeded.detail) == (attempt_id, "the recipient replied to the message")
    # A second reply, once served, changes nothing.
    assert step(replied.state, Replied(attempt_id=attempt_id, at=LATER + timedelta(hours=1)), now=LATER).events == []


def test_a_reply_naming_an_attempt_that_is_not_open_changes_nothing() -> None:
    state = started(consent(EDeliveryChannel.sms, MOBILE, confirmed=False))
    assert step(state, Replied(attempt_id="no-such-attempt", at=LATER), now=LATER).events == []


def test_an_acknowledgement_after_arrival_keeps_the_arrivals_time_and_record() -> None:
    state = started(consent(EDeliveryChannel.email, MAILBOX, confirmed=False))
    attempt_id = current_id(state)
    record = Transmission(provider="smtp", receiver=MAILBOX, status="accepted", sent_at=ARRIVED, arrived_at=ARRIVED)
    waiting = step(state, Arrived(attempt_id=attempt_id, at=ARRIVED, record=record)).state
    acknowledged = step(waiting, Acknowledged(attempt_id=attempt_id, at=LATER), now=LATER)
    [succeeded] = [e for e in acknowledged.events if isinstance(e, AttemptSucceeded)]
    assert (succeeded.at, succeeded.record) == (LATER, record)
    assert acknowledged.state.attempts[0].arrived_at == ARRIVED and acknowledged.state.attempts[0].finished_at == LATER


def test_an_unconfirmed_address_that_arrived_but_was_never_acknowledged_fails_when_due_and_moves_on() -> None:
    state = started(consent(EDeliveryChannel.email, MAILBOX, confirmed=False))
    attempt_id = current_id(state)
    waiting = step(state, Arrived(attempt_id=attempt_id, at=ARRIVED)).state
    assert waiting.status is RecipientStatus.in_progress
    # Three working days to acknowledge or read, counted from arrival, not the hour the arrival receipt is waited for.
    due = wake_at(waiting)
    assert due is not None and due > NOW + timedelta(days=2)
    assert not step(waiting, Tick(), now=due - timedelta(minutes=1)).changed
    overdue = step(waiting, Tick(), now=due)
    [failed] = [e for e in overdue.events if isinstance(e, AttemptFailed)]
    assert failed.attempt_id == attempt_id and "not served (OLR Art. 31(2))" in failed.reason
    assert overdue.state.step.channel is Channel.voice and served(overdue) is None


def test_each_step_carries_the_consent_it_rests_on() -> None:
    sms, mail = consent(EDeliveryChannel.sms, "13800138000"), consent(EDeliveryChannel.email, MAILBOX, confirmed=False)
    state = started(mail, sms)
    assert [(s.channel, s.consent) for s in state.plan[:3]] == [(Channel.sms, sms), (Channel.email, mail), (Channel.visit, None)]


# --- Parallel channels (OLR Art. 32) ---

PARALLEL = POLICY.model_copy(update={"electronic": POLICY.electronic.model_copy(update={"parallel": True})})
SMS, MAIL = consent(EDeliveryChannel.sms, MOBILE), consent(EDeliveryChannel.email, MAILBOX)


def latest(state: RecipientState, channel: Channel) -> Attempt:
    return [a for a in state.attempts if a.channel is channel][-1]


def happen(state: RecipientState, channel: Channel, what: str, *, at: datetime) -> Decision:
    """Feeds the latest attempt of `channel` an input: arrived, ack, read, failed, unusable, retry; or `tick`."""
    if what == "tick":
        return step(state, Tick(), now=at, policy=PARALLEL)
    attempt_id = latest(state, channel).attempt_id
    event = {
        "arrived": Arrived(attempt_id=attempt_id, at=at),
        "ack": Acknowledged(attempt_id=attempt_id, at=at),
        "read": Read(attempt_id=attempt_id, at=at),
        "failed": NotArrived(attempt_id=attempt_id, at=at, status="undelivered"),
        "unusable": NotArrived(attempt_id=attempt_id, at=at, status="rejected", failure=Failure.unusable),
        "retry": NotArrived(attempt_id=attempt_id, at=at, status="undelivered", failure=Failure.retry, error_code=30003),
    }[what]
    return step(state, event, now=at, policy=PARALLEL)


T1, T2, T3 = NOW + timedelta(minutes=1), NOW + timedelta(minutes=2), NOW + timedelta(minutes=3)
DAYS_LATER = NOW + timedelta(days=7)


@pytest.mark.parametrize(
    ("consents", "script", "served_channel", "statuses", "next_channel"),
    [
        # The earliest effective service decides; the other channel is superseded and a late arrival changes nothing.
        ((SMS, MAIL), [(Channel.email, "arrived", T1), (Channel.sms, "arrived", T2)], Channel.email, {Channel.sms: "superseded", Channel.email: "succeeded"}, None),
        ((SMS, MAIL), [(Channel.sms, "arrived", T1), (Channel.email, "arrived", T2)], Channel.sms, {Channel.sms: "succeeded", Channel.email: "superseded"}, None),
        # One channel failing leaves the other running; it still serves.
        ((SMS, MAIL), [(Channel.sms, "failed", T1), (Channel.email, "arrived", T2)], Channel.email, {Channel.sms: "failed", Channel.email: "succeeded"}, None),
        ((SMS, MAIL), [(Channel.email, "unusable", T1)], None, {Channel.sms: "open", Channel.email: "failed"}, None),
        # All failing: the plan goes on with the next step (here a visit: the mobile was consented, so no call).
        ((SMS, MAIL), [(Channel.sms, "failed", T1), (Channel.email, "unusable", T2)], None, {Channel.sms: "failed", Channel.email: "failed"}, Channel.visit),
        ((SMS, MAIL), [(Channel.sms, "tick", DAYS_LATER)], None, {Channel.sms: "failed", Channel.email: "failed"}, Channel.visit),
        # An unreachable handset is tried again beside the e-mail; the e-mail serving first supersedes the retry.
        ((SMS, MAIL), [(Channel.sms, "retry", T1), (Channel.email, "arrived", T2)], Channel.email, {Channel.sms: "superseded", Channel.email: "succeeded"}, None),
        # At an unconfirmed address arrival serves nothing (Art. 31(2)): the confirmed channel's later arrival wins.
        (
            (SMS, consent(EDeliveryChannel.email, MAILBOX, confirmed=False)),
            [(Channel.email, "arrived", T1), (Channel.sms, "arrived", T2)],
            Channel.sms,
            {Channel.sms: "succeeded", Channel.email: "superseded"},
            None,
        ),
        (
            (SMS, consent(EDeliveryChannel.email, MAILBOX, confirmed=False)),
            [(Channel.email, "arrived", T1), (Channel.email, "read", T2), (Channel.sms, "arrived", T3)],
            Channel.email,
            {Channel.sms: "superseded", Channel.email: "succeeded"},
            None,
        ),
    ],
)
def test_parallel_channels(
    consents: tuple[Consent, ...], script: list[tuple[Channel, str, datetime]], served_channel: Channel | None, statuses: dict[Channel, str], next_channel: Channel | None
) -> None:
    state = started(*consents, policy=PARALLEL)
    outcome: RecipientServed | None = None
    for channel, what, at in script:
        decision = happen(state, channel, what, at=at)
        outcome = outcome or served(decision)
        if state.status is RecipientStatus.served:
            assert not decision.changed and decision.state == state, "an input after the service changes nothing"
        state = decision.state
    assert (outcome.channel if outcome else None) == served_channel
    assert {channel: latest(state, channel).status.value for channel in statuses} == statuses
    if next_channel is not None:
        assert state.step.channel is next_channel and state.current is not None and state.current.status is AttemptStatus.open


def test_parallel_start_sends_every_consented_written_channel_at_once() -> None:
    decision = start(case=CASE, recipient=recipient(SMS, MAIL), now=NOW, policy=PARALLEL)
    assert [(a.channel, a.target) for a in decision.actions if isinstance(a, Send)] == [(Channel.sms, MOBILE), (Channel.email, MAILBOX)]
    assert [a.status for a in decision.state.attempts] == [AttemptStatus.open, AttemptStatus.open]
    assert decision.state.parallel == [0, 1] and decision.state.cursor == 1
    # Without the policy the channels run one after another, as before.
    single = start(case=CASE, recipient=recipient(SMS, MAIL), now=NOW, policy=POLICY)
    assert [a.channel for a in single.actions if isinstance(a, Send)] == [Channel.sms] and single.state.parallel == []


def test_a_superseded_attempt_is_announced_and_its_message_withdrawn() -> None:
    state = started(SMS, MAIL, policy=PARALLEL)
    sms, mail = latest(state, Channel.sms), latest(state, Channel.email)
    decision = happen(state, Channel.email, "arrived", at=T1)
    [superseded] = [e for e in decision.events if isinstance(e, AttemptSuperseded)]
    assert (superseded.attempt_id, superseded.by_attempt_id, superseded.channel, superseded.at) == (sms.attempt_id, mail.attempt_id, Channel.sms, T1)
    assert Withdraw(attempt_id=sms.attempt_id) in decision.actions and decision.state.parallel == []
    assert [type(e).__name__ for e in decision.events] == ["AttemptSucceeded", "AttemptSuperseded", "RecipientServed"]


def test_a_parallel_retry_waits_beside_the_other_channel_and_starts_when_due() -> None:
    state = started(SMS, MAIL, policy=PARALLEL)
    retried = happen(state, Channel.sms, "retry", at=T1).state
    again = latest(retried, Channel.sms)
    assert again.status is AttemptStatus.scheduled and again.not_before is not None
    assert wake_at(retried) == min(again.not_before, latest(retried, Channel.email).due_at or again.not_before)
    assert not happen(retried, Channel.sms, "tick", at=again.not_before - timedelta(seconds=1)).changed
    opened = happen(retried, Channel.sms, "tick", at=again.not_before)
    assert [a.attempt_id for a in opened.actions if isinstance(a, Send)] == [again.attempt_id]
    assert latest(opened.state, Channel.sms).status is AttemptStatus.open and opened.state.cursor == 1
    assert [a.attempt_id for a in opened.state.attempts] == [a.attempt_id for a in retried.attempts]


# --- A bounce window for e-mail accepted by a relay ---

WAITING = POLICY.model_copy(update={"electronic": POLICY.electronic.model_copy(update={"bounce_wait_minutes": 10.0})})
ACCEPTED = NOW + timedelta(seconds=5)


@pytest.mark.parametrize(
    ("then", "at", "served_at", "status"),
    [
        # Nothing within the window: served as of the acceptance, not of the end of the wait.
        ("tick", ACCEPTED + timedelta(minutes=10), ACCEPTED, AttemptStatus.succeeded),
        ("tick", ACCEPTED + timedelta(minutes=9), None, AttemptStatus.open),
        # A bounce within the window fails the attempt with the server's reason.
        ("bounce", ACCEPTED + timedelta(minutes=2), None, AttemptStatus.failed),
        # The recipient acknowledging meanwhile proves the arrival, which stays the service time.
        ("ack", ACCEPTED + timedelta(minutes=3), ACCEPTED, AttemptStatus.succeeded),
    ],
)
def test_an_accepted_email_waits_for_a_bounce_before_its_arrival_serves(then: str, at: datetime, served_at: datetime | None, status: AttemptStatus) -> None:
    state = started(MAIL, policy=WAITING)
    attempt_id = current_id(state)
    accepted = step(state, Arrived(attempt_id=attempt_id, at=ACCEPTED), now=ACCEPTED, policy=WAITING)
    assert served(accepted) is None and wake_at(accepted.state) == ACCEPTED + timedelta(minutes=10)
    event = {
        "tick": Tick(),
        "bounce": NotArrived(attempt_id=attempt_id, at=at, status="退信：550 5.1.1 user unknown", failure=Failure.unusable),
        "ack": Acknowledged(attempt_id=attempt_id, at=at),
    }[then]
    decision = step(accepted.state, event, now=at, policy=WAITING)
    outcome = served(decision)
    assert (outcome.served_at if outcome else None) == served_at
    assert decision.state.attempts[0].status is status
    if then == "bounce":
        assert decision.state.unusable == [MAILBOX] and decision.state.exhausted[0].reason == "退信：550 5.1.1 user unknown"


def test_a_retry_scheduled_before_parallel_was_switched_on_stays_one_steps_own() -> None:
    single = started(SMS, MAIL)
    retried = happen(single, Channel.sms, "retry", at=T1)
    assert [(a.channel, a.status) for a in retried.state.attempts] == [(Channel.sms, AttemptStatus.failed), (Channel.sms, AttemptStatus.scheduled)]
    assert retried.state.parallel == [] and not [a for a in retried.actions if isinstance(a, Send)]
