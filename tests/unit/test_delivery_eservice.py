"""Electronic service by the Online Litigation Rules, table by table: what serves at a confirmed or unconfirmed address (Art. 31)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from services.delivery.domain import law
from services.delivery.domain.decision import Decision
from services.delivery.domain.inputs import Acknowledged, Arrived, Read, Tick
from services.delivery.domain.machine import apply
from services.delivery.domain.moves import start
from services.delivery.domain.state import AttemptStatus, Case, RecipientState, RecipientStatus, wake_at
from services.delivery.policy import Policy, ServiceTime, load_policy
from shared.contracts.events import (
    AttemptFailed,
    CandidateAddress,
    Channel,
    Consent,
    ConsentForm,
    EDeliveryChannel,
    Provenance,
    Recipient,
    RecipientServed,
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
        (True, law.Signal.read, None),
        (False, law.Signal.arrival, None),
        (False, law.Signal.acknowledgement, law.EService(basis=OLR_BASIS)),
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
        (True, ACK_POLICY, Read, None, None, False),
        # OLR 31(2): an unconfirmed address is not served on arrival, but on acknowledgement, or presumed on reading.
        (False, POLICY, None, None, None, False),
        (False, POLICY, Acknowledged, LATER, OLR_BASIS, False),
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
