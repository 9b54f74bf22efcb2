"""Delivery's handlers against the fakes of their ports (telephony, mail) on an embedded SQLite database: the workflow's paths in milliseconds."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select

from services.delivery import consumers, receipts
from services.delivery.adapters.mail import FakeMailer
from services.delivery.adapters.twilio import FakeTelephony, ProviderResult
from services.delivery.deps import DeliveryDeps
from services.delivery.domain.inputs import Arrived
from services.delivery.domain.state import RecipientState, RecipientStatus
from services.delivery.handlers import due, edelivery, holds, notices, roster, sending, team
from services.delivery.models import TABLES, DeliveryCallback, DeliveryNotice, DeliveryOutgoing, DeliveryRecipient, DeliveryTask, NoticeStatus, SendStatus, TaskStatus
from services.delivery.policy import Policy, load_policy
from services.delivery.requests import AgentIn, NoticePage, OutcomeIn, ReassignIn, SignerIn
from services.delivery.search import NoticeFilter
from services.delivery.workers import Dispatcher, Sweeper
from services.delivery.workflow import Setup, advance
from shared.contracts.events import (
    AddressConfirmed,
    CandidateAddress,
    Channel,
    Disposition,
    EDeliveryChannel,
    EvidenceRecorded,
    GeoPoint,
    MatchMethod,
    NoticeRegistered,
    PartyMatch,
    Provenance,
    ReceiptReturned,
    ServiceMethod,
    SignerRole,
    WaybillCreated,
)
from shared.contracts.registry import Event
from shared.contracts.topics import CARRIER_GATEWAY_COMMANDS, DELIVERY_EVENTS
from shared.plumbing.audit import AuditEntry
from shared.plumbing.auth import Principal, Role
from shared.plumbing.consumer import BatchWork, MessageContext
from shared.plumbing.db import Database, create_tables
from shared.plumbing.documents import DocumentStore
from shared.plumbing.outbox import OutboxMessage
from shared.plumbing.problems import Problem
from shared.plumbing.runtime import PLUMBING_TABLES
from tests.support import EXAMPLES, MOBILE, registered_notice

# Monday 23 November 2026, 09:00 in Beijing: a working day.
START = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
SUPERVISOR = Principal(sub="sup-1", role=Role.supervisor, jti="t-1")


@dataclass
class ManualClock:
    """A clock the test moves by hand."""

    at: datetime = START

    def now(self) -> datetime:
        return self.at


@dataclass
class World:
    deps: DeliveryDeps
    clock: ManualClock
    telephony: FakeTelephony
    mailer: FakeMailer

    async def consume(self, event: Event, *, notice_id: str) -> None:
        """Hands an event to the handler consumers.py names for it, in one transaction, as the consumer runner does."""
        envelope = event.envelope(source="test", subject=notice_id, time=self.clock.now(), correlationid=notice_id)
        handler = consumers.HANDLERS[event.type]
        async with self.deps.db.transaction() as session:
            context = MessageContext(session=session, envelope=envelope, raw=b"", clock=self.clock, source="test")
            await handler(self.deps, message=context, event=event)
            await context.batch.flush(session)

    async def consume_together(self, events: list[Event], *, notice_id: str) -> None:
        """Hands events to their handlers in one transaction, each as its own message, as the runner applies a batch."""
        async with self.deps.db.transaction() as session:
            batch = BatchWork()
            for event in events:
                envelope = event.envelope(source="test", subject=notice_id, time=self.clock.now(), correlationid=notice_id)
                context = MessageContext(session=session, envelope=envelope, raw=b"", clock=self.clock, source="test", batch=batch)
                await consumers.HANDLERS[event.type](self.deps, message=context, event=event)
            await batch.flush(session)

    async def staged(self, topic: str = DELIVERY_EVENTS) -> list[dict]:
        """Returns the envelopes staged in the outbox for `topic`, oldest first."""
        async with self.deps.db.sessions() as session:
            rows = (await session.exec(select(OutboxMessage).where(OutboxMessage.topic == topic).order_by(col(OutboxMessage.id)))).all()
        return [json.loads(r.payload) for r in rows]

    async def types(self, topic: str = DELIVERY_EVENTS) -> list[str]:
        return [e["type"] for e in await self.staged(topic)]

    async def outgoing(self) -> list[DeliveryOutgoing]:
        async with self.deps.db.sessions() as session:
            return list((await session.exec(select(DeliveryOutgoing))).all())

    async def open_task(self) -> DeliveryTask:
        async with self.deps.db.sessions() as session:
            return (await session.exec(select(DeliveryTask).where(DeliveryTask.status == TaskStatus.open))).one()


@asynccontextmanager
async def a_world(tmp_path: Path, policy: Policy | None = None) -> AsyncIterator[World]:
    """Delivery's handlers on SQLite with a manual clock and fake providers, under `policy` (the shipped one by default)."""
    db = Database(f"sqlite:///{tmp_path / 'delivery.db'}")
    await create_tables(db.engine, [*PLUMBING_TABLES, *TABLES])
    clock, telephony, mailer = ManualClock(), FakeTelephony(), FakeMailer()
    setup = Setup(policy=policy or load_policy(), public_url="http://delivery.test")
    deps = DeliveryDeps(
        db=db,
        clock=clock,
        setup=setup,
        telephony=telephony,
        mailer=mailer,
        sender_address="法院送达中心 <songda@court.example>",
        twilio_auth_token="t",
        documents=DocumentStore(tmp_path / "documents"),
    )
    await roster.seed_agents(deps, agents=setup.policy.agents)
    try:
        yield World(deps=deps, clock=clock, telephony=telephony, mailer=mailer)
    finally:
        await db.dispose()


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with a_world(tmp_path) as running:
        yield running


def evidence_recorded(registered: NoticeRegistered, evidence_id: str, *, kind: str, flags: tuple[str, ...] = ()) -> EvidenceRecorded:
    """Returns evidence's word that it recorded an item of the notice."""
    return EvidenceRecorded(evidence_id=evidence_id, notice_id=registered.notice_id, kind=kind, sha256="0" * 64, leaf_index=1, flags=list(flags))


def notice(*, consent: bool = True, phones: tuple[str, ...] = (MOBILE,), whereabouts_unknown: bool = False) -> NoticeRegistered:
    channels = [(EDeliveryChannel.sms, MOBILE)] if consent else []
    return registered_notice(consent=channels, phones=phones, whereabouts_unknown=whereabouts_unknown, registered_at=START)


async def test_an_sms_sent_once_and_its_delivered_callback_serves_the_recipient(world: World) -> None:
    registered = notice()
    await world.consume(registered, notice_id=registered.notice_id)
    [queued] = await world.outgoing()
    assert (queued.status, queued.channel, queued.target) == (SendStatus.pending, "sms", MOBILE)

    assert await Dispatcher(world.deps).run_once() == 1
    assert await Dispatcher(world.deps).run_once() == 0, "a sent message is not sent again"
    [sms] = world.telephony.messages
    assert sms.to == MOBILE and "http://delivery.test/e/" in sms.body
    [sent] = await world.outgoing()
    assert sent.status == SendStatus.sent and sent.provider_ref == sms.result.provider_ref

    params = {"MessageSid": sent.provider_ref or "", "MessageStatus": "delivered", "To": MOBILE}
    assert await sending.apply_callback(world.deps, attempt_id=sent.attempt_id, params=params, sid=params["MessageSid"], status="delivered") is True
    assert await sending.apply_callback(world.deps, attempt_id=sent.attempt_id, params=params, sid=params["MessageSid"], status="delivered") is None, (
        "a repeated callback is a no-op"
    )
    assert await world.types() == ["delivery.AttemptStarted", "delivery.AttemptSucceeded", "delivery.RecipientServed", "delivery.NoticeCompleted"]


async def test_a_recipient_the_transaction_loaded_before_advance_reads_the_new_state_and_is_not_written_back(world: World) -> None:
    registered = notice()
    await world.consume(registered, notice_id=registered.notice_id)
    await Dispatcher(world.deps).run_once()
    [sent] = await world.outgoing()
    recipient_id = registered.recipients[0].recipient_id
    async with world.deps.db.transaction() as session:
        loaded = await session.get(DeliveryRecipient, recipient_id)
        assert loaded is not None and loaded.status != RecipientStatus.served
        decision = await advance(
            session, recipient_id=recipient_id, event=Arrived(attempt_id=sent.attempt_id, at=world.clock.now()), now=world.clock.now(), setup=world.deps.setup, causation=None
        )
        assert decision is not None and decision.changed
        assert loaded.status == RecipientStatus.served and RecipientState.model_validate(loaded.state).served is not None, "the loaded object shows what advance wrote"
        assert loaded not in session.dirty, "and flushing it writes nothing over the new state"
    async with world.deps.db.sessions() as session:
        stored = await session.get(DeliveryRecipient, recipient_id)
        assert stored is not None and stored.status == RecipientStatus.served
    assert await world.types() == ["delivery.AttemptStarted", "delivery.AttemptSucceeded", "delivery.RecipientServed", "delivery.NoticeCompleted"]


@pytest.mark.parametrize("status", ["queued", "sent", "initiated", "ringing", "in-progress"])
async def test_an_intermediate_status_changes_nothing_and_claims_nothing(world: World, status: str) -> None:
    registered = notice()
    await world.consume(registered, notice_id=registered.notice_id)
    await Dispatcher(world.deps).run_once()
    [sent] = await world.outgoing()
    params = {"MessageSid": sent.provider_ref or "", "MessageStatus": status, "To": MOBILE}

    for _ in range(2):
        assert await sending.apply_callback(world.deps, attempt_id=sent.attempt_id, params=params, sid=params["MessageSid"], status=status) is False
    async with world.deps.db.sessions() as session:
        assert (await session.exec(select(DeliveryCallback))).all() == [], "no claim row for a status that decides nothing"
    assert await world.types() == ["delivery.AttemptStarted"]
    with pytest.raises(sending.NoSuchCall):
        await sending.apply_callback(world.deps, attempt_id="no-such-attempt", params=params, sid=params["MessageSid"], status=status)
    delivered = params | {"MessageStatus": "delivered"}
    assert await sending.apply_callback(world.deps, attempt_id=sent.attempt_id, params=delivered, sid=params["MessageSid"], status="delivered") is True


async def test_a_notice_registered_again_under_another_message_is_recorded_once_in_a_batch_and_after_it(world: World) -> None:
    registered = notice()
    await world.consume_together([registered, registered], notice_id=registered.notice_id)
    await world.consume(registered, notice_id=registered.notice_id)
    async with world.deps.db.sessions() as session:
        assert len((await session.exec(select(DeliveryNotice))).all()) == 1
        assert len((await session.exec(select(DeliveryRecipient))).all()) == 1
    assert len(await world.outgoing()) == 1
    assert await world.types() == ["delivery.AttemptStarted"]


async def test_an_event_after_a_notice_in_its_batch_finds_the_notice_taken_on(world: World) -> None:
    registered = notice()
    recipient = registered.recipients[0]
    moved = CandidateAddress(text="山东省威海市环翠区新威路 8 号", rank=1, provenance=[Provenance(kind="confirmation")], city="威海市", district="环翠区")
    confirmed = AddressConfirmed(
        notice_id=registered.notice_id,
        recipient_id=recipient.recipient_id,
        party_id="P-1",
        confirmation_id="K-1",
        case_number=registered.case_number,
        stage=registered.stage,
        address=moved,
        confirmed_on=date(2026, 11, 20),
    )
    # The notices of a batch are taken on together, after its last handler; the confirmation needs its notice first.
    await world.consume_together([registered, confirmed], notice_id=registered.notice_id)
    async with world.deps.db.sessions() as session:
        stored = await session.get(DeliveryRecipient, recipient.recipient_id)
    assert stored is not None
    assert RecipientState.model_validate(stored.state).recipient.candidates[0].text == moved.text


async def test_a_send_the_provider_never_answered_waits_for_its_retry_time_and_then_goes_out_once(world: World) -> None:
    registered = notice()
    await world.consume(registered, notice_id=registered.notice_id)
    world.telephony.fail_next(delivered=False)
    assert await Dispatcher(world.deps).run_once() == 1
    [waiting] = await world.outgoing()
    assert (waiting.status, waiting.tries, waiting.next_try_at) == (SendStatus.pending, 1, world.clock.now() + timedelta(seconds=2))
    assert waiting.last_error
    assert await Dispatcher(world.deps).run_once() == 0, "nothing before its retry time"

    world.clock.at = waiting.next_try_at
    assert await Dispatcher(world.deps).run_once() == 1
    [sent] = await world.outgoing()
    assert (sent.status, sent.tries) == (SendStatus.sent, 1)
    assert len(world.telephony.messages) == 1


async def test_an_unreachable_handset_is_retried_later_and_then_reached(world: World) -> None:
    registered = notice()
    await world.consume(registered, notice_id=registered.notice_id)
    world.telephony.script(MOBILE, ProviderResult(accepted=False, provider_ref=None, status="failed", error_code=30003))
    await Dispatcher(world.deps).run_once()
    assert await world.types() == ["delivery.AttemptStarted", "delivery.AttemptFailed"]
    [failed] = [e for e in await world.staged() if e["type"] == "delivery.AttemptFailed"]
    retry_at = datetime.fromisoformat(failed["data"]["retry_at"])

    world.clock.at = retry_at
    assert await Sweeper(world.deps).run_once() == 1
    assert [o.status for o in await world.outgoing()] == [SendStatus.settled, SendStatus.pending]


async def test_a_visit_reported_served_with_a_signer_serves_and_one_without_is_refused_naming_the_field(world: World) -> None:
    registered = notice(consent=False, phones=())
    await world.consume(registered, notice_id=registered.notice_id)
    task = await world.open_task()
    agent = Principal(sub=task.agent_id, role=Role.agent, jti="t-2")

    with pytest.raises(Problem) as refused:
        await team.report_outcome(world.deps, task_id=task.id, report=OutcomeIn(outcome="served"), principal=agent)
    assert refused.value.status == 422 and refused.value.errors[0]["field"] == "signer"
    assert (await world.open_task()).id == task.id, "a refused report writes nothing"

    other = Principal(sub="someone-else", role=Role.agent, jti="t-3")
    with pytest.raises(Problem) as hidden:
        await team.report_outcome(world.deps, task_id=task.id, report=OutcomeIn(outcome="not_found"), principal=other)
    assert hidden.value.status == 404

    signed = SignerIn(name="张三", role=SignerRole.recipient)
    with pytest.raises(Problem) as unproved:
        await team.report_outcome(world.deps, task_id=task.id, report=OutcomeIn(outcome="served", signer=signed), principal=agent)
    assert unproved.value.status == 422 and unproved.value.errors[0]["field"] == "evidence_ids"

    await world.consume(evidence_recorded(registered, "sig-1", kind="signature"), notice_id=registered.notice_id)
    served = OutcomeIn(outcome="served", signer=signed, evidence_ids=["sig-1"])
    out = await team.report_outcome(world.deps, task_id=task.id, report=served, principal=agent)
    assert (out.status, out.recipient_status, out.waiting_for_evidence) == (TaskStatus.reported, RecipientStatus.served, [])
    [event] = [e for e in await world.staged() if e["type"] == "delivery.RecipientServed"]
    assert (event["data"]["method"], event["data"]["signer_name"], event["data"]["legal_basis"]) == ("direct", "张三", "民事诉讼法第87条、第88条")
    assert event["data"]["evidence_ids"] == ["sig-1"]


async def test_a_service_naming_only_a_scene_photo_is_refused_and_one_with_the_signed_receipt_waits_for_it(world: World) -> None:
    registered = notice(consent=False, phones=())
    await world.consume(registered, notice_id=registered.notice_id)
    task = await world.open_task()
    agent = Principal(sub=task.agent_id, role=Role.agent, jti="t-2")
    await world.consume(evidence_recorded(registered, "ph-1", kind="photo"), notice_id=registered.notice_id)
    signed = SignerIn(name="张三", role=SignerRole.recipient)

    with pytest.raises(Problem) as photo_only:
        await team.report_outcome(world.deps, task_id=task.id, report=OutcomeIn(outcome="served", signer=signed, evidence_ids=["ph-1"]), principal=agent)
    assert photo_only.value.status == 422 and photo_only.value.errors[0]["field"] == "evidence_ids"
    assert (await world.open_task()).id == task.id, "a refused report writes nothing"

    report = OutcomeIn(outcome="served", signer=signed, evidence_ids=["ph-1", "rc-1"])
    out = await team.report_outcome(world.deps, task_id=task.id, report=report, principal=agent)
    assert (out.recipient_status, out.waiting_for_evidence) == (RecipientStatus.awaiting_evidence, ["rc-1"])
    await world.consume(evidence_recorded(registered, "rc-1", kind="signed_receipt"), notice_id=registered.notice_id)
    [event] = [e for e in await world.staged() if e["type"] == "delivery.RecipientServed"]
    assert (event["data"]["method"], event["data"]["evidence_ids"]) == ("direct", ["ph-1", "rc-1"])


async def test_a_refusal_with_a_photo_waits_for_the_evidence_and_then_counts(world: World) -> None:
    registered = notice(consent=False, phones=())
    await world.consume(registered, notice_id=registered.notice_id)
    task = await world.open_task()
    agent = Principal(sub=task.agent_id, role=Role.agent, jti="t-2")
    out = await team.report_outcome(world.deps, task_id=task.id, report=OutcomeIn(outcome="refused", evidence_ids=["ev-1"]), principal=agent)
    assert out.recipient_status is RecipientStatus.awaiting_evidence and out.waiting_for_evidence == ["ev-1"]
    await world.consume(evidence_recorded(registered, "ev-1", kind="photo"), notice_id=registered.notice_id)
    [event] = [e for e in await world.staged() if e["type"] == "delivery.RecipientServed"]
    assert (event["data"]["method"], event["data"]["evidence_ids"]) == ("refusal", ["ev-1"])


async def held_refusal(world: World) -> tuple[NoticeRegistered, DeliveryTask]:
    """A refusal reported with a photo that evidence recorded far from the address: the recipient is held."""
    registered = notice(consent=False, phones=())
    await world.consume(registered, notice_id=registered.notice_id)
    task = await world.open_task()
    agent = Principal(sub=task.agent_id, role=Role.agent, jti="t-2")
    await team.report_outcome(world.deps, task_id=task.id, report=OutcomeIn(outcome="refused", evidence_ids=["ev-1"]), principal=agent)
    world.clock.at = START + timedelta(minutes=20)
    recorded = EvidenceRecorded(evidence_id="ev-1", notice_id=registered.notice_id, kind="photo", sha256="0" * 64, leaf_index=1, flags=["far_from_address"])
    await world.consume(recorded, notice_id=registered.notice_id)
    return registered, task


async def audit_log(world: World) -> list[AuditEntry]:
    async with world.deps.db.sessions() as session:
        return list((await session.exec(select(AuditEntry).order_by(col(AuditEntry.at)))).all())


async def test_flagged_evidence_holds_the_refusal_for_a_supervisor_who_accepts_it(world: World) -> None:
    registered, task = await held_refusal(world)
    recipient_id = registered.recipients[0].recipient_id
    assert await world.types() == ["delivery.AttemptStarted", "delivery.TaskAssigned"], "no automatic revisit, nothing served"
    [hold] = await holds.holds(world.deps, principal=SUPERVISOR)
    assert (hold.recipient_id, hold.notice_id, hold.court_id, hold.case_number, hold.recipient_name) == (
        recipient_id,
        registered.notice_id,
        "C371002",
        registered.case_number,
        "张三",
    )
    assert (hold.task_id, hold.agent_id, hold.outcome, hold.reported_at, hold.flags) == (task.id, task.agent_id, "refused", START, {"ev-1": ["far_from_address"]})
    assert [(e.action, e.actor_sub) for e in await audit_log(world)] == [("holds.read", "sup-1")]

    world.clock.at = START + timedelta(hours=2)
    view = await holds.accept(world.deps, recipient_id=recipient_id, reason="电话回访确认已留置", principal=SUPERVISOR)
    assert view.status is RecipientStatus.served and view.served is not None and view.served.method is ServiceMethod.refusal
    review = {"by": "sup-1", "at": world.clock.at.isoformat().replace("+00:00", "Z"), "reason": "电话回访确认已留置", "flags": {"ev-1": ["far_from_address"]}}
    [event] = [e for e in await world.staged() if e["type"] == "delivery.RecipientServed"]
    assert (event["data"]["method"], event["data"]["service_date"], event["data"]["evidence_ids"], event["data"]["review"]) == ("refusal", "2026-11-23", ["ev-1"], review)
    assert (await world.types())[-3:] == ["delivery.AttemptSucceeded", "delivery.RecipientServed", "delivery.NoticeCompleted"]
    [*_, accepted] = await audit_log(world)
    assert (accepted.action, accepted.target, accepted.purpose, accepted.actor_sub) == ("hold.accept", recipient_id, "电话回访确认已留置", "sup-1")
    assert await holds.holds(world.deps, principal=SUPERVISOR) == []

    with pytest.raises(Problem) as again:
        await holds.accept(world.deps, recipient_id=recipient_id, reason="再次确认", principal=SUPERVISOR)
    assert again.value.status == 409
    with pytest.raises(Problem) as unknown:
        await holds.revisit(world.deps, recipient_id="no-such-recipient", reason="重新上门", principal=SUPERVISOR)
    assert unknown.value.status == 404
    assert [e.action for e in await audit_log(world)] == ["holds.read", "hold.accept", "holds.read"], "a refused decision writes nothing"


async def test_a_supervisors_revisit_fails_the_held_visit_and_assigns_a_new_one(world: World) -> None:
    registered, task = await held_refusal(world)
    recipient_id = registered.recipients[0].recipient_id
    # The deadline runs on while the service is held.
    world.clock.at = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)
    await due.raise_deadlines(world.deps)
    [overdue] = [e for e in await world.staged() if e["type"] == "delivery.NoticeOverdue"]
    assert overdue["data"]["pending"] == [recipient_id]
    before = len(await world.staged())
    view = await holds.revisit(world.deps, recipient_id=recipient_id, reason="照片位置不符，重新上门", principal=SUPERVISOR)
    assert view.status is RecipientStatus.in_progress and view.served is None
    failed, fresh = view.attempts[-2], view.attempts[-1]
    assert (failed.attempt_id, failed.status, failed.detail) == (task.attempt_id, "failed", "evidence flagged: far_from_address; revisit ordered by sup-1: 照片位置不符，重新上门")
    assert (fresh.channel, fresh.status, fresh.step) == (Channel.visit, "open", failed.step)
    assert [e["type"] for e in (await world.staged())[before:]] == ["delivery.AttemptFailed", "delivery.AttemptStarted", "delivery.TaskAssigned"]
    new_task = await world.open_task()
    assert new_task.attempt_id == fresh.attempt_id and new_task.id != task.id
    [*_, revisited] = await audit_log(world)
    assert (revisited.action, revisited.purpose) == ("hold.revisit", "照片位置不符，重新上门")
    with pytest.raises(Problem) as again:
        await holds.revisit(world.deps, recipient_id=recipient_id, reason="重新上门", principal=SUPERVISOR)
    assert again.value.status == 409


async def test_court_mail_goes_out_as_a_command_and_its_signed_receipt_serves(world: World) -> None:
    registered = notice(consent=False, phones=())
    await world.consume(registered, notice_id=registered.notice_id)
    for _ in world.deps.setup.policy.direct.visits:
        task = await world.open_task()
        agent = Principal(sub=task.agent_id, role=Role.agent, jti="t-2")
        await team.report_outcome(world.deps, task_id=task.id, report=OutcomeIn(outcome="not_found"), principal=agent)
    [command] = await world.staged(CARRIER_GATEWAY_COMMANDS)
    assert command["type"] == "carrier_gateway.DispatchPostalItem" and "carrier_gateway.DispatchPostalItem" not in await world.types()
    attempt_id = command["data"]["attempt_id"]

    await world.consume(WaybillCreated(notice_id=registered.notice_id, attempt_id=attempt_id, waybill_no="1100000000001", created_at=START), notice_id=registered.notice_id)
    receipt = ReceiptReturned(
        notice_id=registered.notice_id,
        attempt_id=attempt_id,
        waybill_no="1100000000001",
        signer_name="张母",
        signer_role=SignerRole.family_member,
        relation="母亲",
        signed_on=date(2026, 11, 27),
        returned_at=START + timedelta(days=5),
    )
    await world.consume(receipt, notice_id=registered.notice_id)
    [event] = [e for e in await world.staged() if e["type"] == "delivery.RecipientServed"]
    assert (event["data"]["method"], event["data"]["service_date"], event["data"]["signer_role"]) == ("postal", "2026-11-27", "family_member")


async def test_the_deadline_warning_and_the_overdue_alert_are_raised_once(world: World) -> None:
    registered = notice(consent=False, phones=())
    await world.consume(registered, notice_id=registered.notice_id)
    # Due Thursday 26 November: warned from 13:30 in Beijing that day, overdue from midnight.
    for at, warnings, alerts in (
        (datetime(2026, 11, 26, 5, 29, tzinfo=UTC), 0, 0),
        (datetime(2026, 11, 26, 5, 30, tzinfo=UTC), 1, 0),
        (datetime(2026, 11, 27, 1, 0, tzinfo=UTC), 1, 1),
    ):
        world.clock.at = at
        await due.raise_deadlines(world.deps)
        await due.raise_deadlines(world.deps)
        types = await world.types()
        assert (types.count("delivery.DeadlineApproaching"), types.count("delivery.NoticeOverdue")) == (warnings, alerts), at


async def test_a_public_notice_is_recorded_once_by_the_notices_court_and_runs_thirty_days(world: World) -> None:
    registered = notice(consent=False, phones=(), whereabouts_unknown=True)
    await world.consume(registered, notice_id=registered.notice_id)
    recipient_id = registered.recipients[0].recipient_id
    court = Principal(sub="C371002", role=Role.court, jti="t-4")
    other_court = Principal(sub="C110105", role=Role.court, jti="t-5")
    record = notices.record_publication

    with pytest.raises(Problem) as hidden:
        await record(world.deps, notice_id=registered.notice_id, recipient_id=recipient_id, published_on=date(2026, 11, 23), principal=other_court)
    assert hidden.value.status == 404
    with pytest.raises(Problem) as future:
        await record(world.deps, notice_id=registered.notice_id, recipient_id=recipient_id, published_on=date(2026, 11, 24), principal=court)
    assert future.value.status == 422 and future.value.errors[0]["field"] == "published_on"

    view = await record(world.deps, notice_id=registered.notice_id, recipient_id=recipient_id, published_on=date(2026, 11, 23), principal=court)
    assert (view.status, view.public_notice_ends) == (RecipientStatus.notice_period, date(2026, 12, 23))
    with pytest.raises(Problem) as again:
        await record(world.deps, notice_id=registered.notice_id, recipient_id=recipient_id, published_on=date(2026, 11, 23), principal=court)
    assert again.value.status == 409


async def test_the_link_opens_once_noted_acknowledges_once_and_expires(world: World) -> None:
    registered = notice()
    await world.consume(registered, notice_id=registered.notice_id)
    await Dispatcher(world.deps).run_once()
    token = world.telephony.messages[0].body.split("http://delivery.test/e/")[1].split()[0]

    assert await edelivery.open_page(world.deps, token="x" * 32) == edelivery.Refused(404)
    page = await edelivery.open_page(world.deps, token=token)
    assert isinstance(page, edelivery.Page) and page.recipient_name == "张三" and page.link.opened_at == START
    assert await edelivery.open_document(world.deps, token=token, number=3, disposition=Disposition.view, ip=None, user_agent="") == edelivery.Refused(404, no_document=True)

    assert await edelivery.acknowledge(world.deps, token=token, ip="203.0.113.7", user_agent="Mozilla/5.0") is None
    assert await edelivery.acknowledge(world.deps, token=token, ip="203.0.113.8", user_agent="curl") is None
    [acknowledged] = [e for e in await world.staged() if e["type"] == "delivery.DocumentsAcknowledged"]
    assert (acknowledged["data"]["ip"], acknowledged["data"]["user_agent"]) == ("203.0.113.7", "Mozilla/5.0")

    world.clock.at = START + timedelta(days=world.deps.setup.policy.electronic.link_valid_days)
    assert await edelivery.open_page(world.deps, token=token) == edelivery.Refused(410)


async def test_every_opening_of_a_document_is_evidence_and_a_missing_or_changed_file_is_refused(world: World) -> None:
    registered = notice()
    await world.consume(registered, notice_id=registered.notice_id)
    await Dispatcher(world.deps).run_once()
    token = world.telephony.messages[0].body.split("http://delivery.test/e/")[1].split()[0]
    complaint = (EXAMPLES / "complaint_copy.pdf").read_bytes()
    await world.deps.documents.put(complaint)

    def opening(number: int, disposition: Disposition) -> Awaitable[edelivery.Opened | edelivery.Refused]:
        return edelivery.open_document(world.deps, token=token, number=number, disposition=disposition, ip="203.0.113.7", user_agent="Mozilla/5.0")

    shown = await opening(1, Disposition.view)
    assert shown == edelivery.Opened(title="起诉状副本", sha256=hashlib.sha256(complaint).hexdigest(), content_type="application/pdf", data=complaint)
    world.clock.at = START + timedelta(minutes=5)
    assert isinstance(await opening(1, Disposition.download), edelivery.Opened)
    opened = [e["data"] for e in await world.staged() if e["type"] == "delivery.DocumentOpened"]
    assert [(o["title"], o["disposition"], o["opened_at"], o["ip"], o["user_agent"]) for o in opened] == [
        ("起诉状副本", "view", START.isoformat().replace("+00:00", "Z"), "203.0.113.7", "Mozilla/5.0"),
        ("起诉状副本", "download", (START + timedelta(minutes=5)).isoformat().replace("+00:00", "Z"), "203.0.113.7", "Mozilla/5.0"),
    ]
    assert {o["sha256"] for o in opened} == {shown.sha256} and opened[0]["recipient_id"] == registered.recipients[0].recipient_id

    # The 传票 was never stored here; the 起诉状 is changed on disk: neither is shown, and neither counts as opened.
    assert await opening(2, Disposition.view) == edelivery.Refused(503, unavailable=True)
    path = world.deps.documents.path(shown.sha256)
    path.chmod(0o644)
    path.write_bytes(complaint[:-1] + b"X")
    assert await opening(1, Disposition.download) == edelivery.Refused(500, unavailable=True)
    assert len([e for e in await world.staged() if e["type"] == "delivery.DocumentOpened"]) == 2


# --- The team's task pages: cards, a task in full, beginning a visit, retried reports, reassigning, the roster ---

OTHER_MOBILE = "+8613900139000"
PARTY = PartyMatch(party_id="party-zs", method=MatchMethod.id_number, matched_on=["id_number"], note="")


def agent_of(task: DeliveryTask) -> Principal:
    return Principal(sub=task.agent_id, role=Role.agent, jti="t-agent")


def located(registered: NoticeRegistered, *, lat: float, lon: float) -> NoticeRegistered:
    """The notice with its recipient matched to a party and the address's coordinates known."""
    recipient = registered.recipients[0]
    candidate = recipient.candidates[0].model_copy(update={"location": GeoPoint(lat=lat, lon=lon)})
    return registered.model_copy(update={"recipients": [recipient.model_copy(update={"candidates": [candidate], "party": PARTY})]})


async def calls_fail(world: World, registered: NoticeRegistered) -> None:
    """Takes the recipient past the calls to its first visit: one number does not exist, the other is busy."""
    world.telephony.script(MOBILE, ProviderResult(accepted=False, provider_ref=None, status="failed", error_code=30005))
    world.telephony.script(OTHER_MOBILE, ProviderResult(accepted=False, provider_ref=None, status="busy"))
    await world.consume(registered, notice_id=registered.notice_id)
    while await Dispatcher(world.deps).run_once():
        pass


async def audit_entries(world: World, action: str) -> list[AuditEntry]:
    return [entry for entry in await audit_log(world) if entry.action == action]


async def test_a_card_says_what_was_tried_without_the_numbers_and_late_tasks_come_first(world: World) -> None:
    registered = notice(consent=False, phones=(MOBILE, OTHER_MOBILE))
    await calls_fail(world, registered)
    task = await world.open_task()
    [card] = await team.tasks(world.deps, principal=agent_of(task), agent=None, status=TaskStatus.open)
    assert (card.task_id, card.recipient_id, card.agent_id, card.late) == (task.id, registered.recipients[0].recipient_id, task.agent_id, False)
    assert [(t.channel, t.status, t.detail, t.at) for t in card.tried] == [("voice", "failed", "failed (error 30005)", START), ("voice", "failed", "busy", START)]
    assert "13800138000" not in card.model_dump_json() and "13900139000" not in card.model_dump_json()

    second = notice(consent=False, phones=())
    await world.consume(second, notice_id=second.notice_id)
    # The second task's window began earlier but has not ended; the first one's has: it comes first.
    async with world.deps.db.transaction() as session:
        for task_id, start, end in ((task.id, START, START + timedelta(hours=1)), (None, START - timedelta(hours=1), START + timedelta(hours=9))):
            statement = select(DeliveryTask).where(DeliveryTask.id == task_id if task_id else DeliveryTask.notice_id == second.notice_id)
            row = (await session.exec(statement)).one()
            row.window_start, row.window_end = start, end
            session.add(row)
    world.clock.at = START + timedelta(hours=2)
    listed = await team.tasks(world.deps, principal=SUPERVISOR, agent=None, status=TaskStatus.open)
    assert [(c.notice_id, c.late) for c in listed] == [(registered.notice_id, True), (second.notice_id, False)]


async def test_a_task_in_full_shows_the_phones_only_once_the_visit_is_begun_and_every_showing_is_audited(world: World) -> None:
    registered = located(notice(consent=False, phones=(MOBILE, OTHER_MOBILE)), lat=37.5131, lon=122.1204)
    await calls_fail(world, registered)
    task = await world.open_task()
    agent = agent_of(task)

    before = await team.task(world.deps, task_id=task.id, principal=agent, client="198.51.100.7")
    assert (before.party_role, before.lat, before.lon, before.phones, before.begun_at, before.outcome) == ("defendant", 37.5131, 122.1204, None, None, None)
    assert before.signer_roles == [SignerRole.recipient, SignerRole.family_member, SignerRole.litigation_agent, SignerRole.statutory_agent, SignerRole.designated_proxy]
    assert await audit_entries(world, "task.contacts") == [], "nothing was shown, nothing is logged"
    with pytest.raises(Problem) as hidden:
        await team.task(world.deps, task_id=task.id, principal=Principal(sub="someone-else", role=Role.agent, jti="t-3"), client=None)
    assert hidden.value.status == 404

    begun = await team.begin(world.deps, task_id=task.id, reason="上门前电话预约", principal=agent, client="198.51.100.7")
    # The number that does not exist is left out.
    assert (begun.phones, begun.begun_at) == ([OTHER_MOBILE], START)
    world.clock.at = START + timedelta(minutes=5)
    again = await team.begin(world.deps, task_id=task.id, reason="再次联系", principal=agent, client="198.51.100.8")
    assert (again.phones, again.begun_at) == ([OTHER_MOBILE], START), "the visit began the first time"
    shown = await team.task(world.deps, task_id=task.id, principal=agent, client="198.51.100.9")
    assert shown.phones == [OTHER_MOBILE]
    entries = await audit_entries(world, "task.contacts")
    assert [(e.actor_sub, e.target, e.purpose, e.party_ids, e.client) for e in entries] == [
        (task.agent_id, task.id, "上门前电话预约", ["party-zs"], "198.51.100.7"),
        (task.agent_id, task.id, "再次联系", ["party-zs"], "198.51.100.8"),
        (task.agent_id, task.id, "上门前电话预约", ["party-zs"], "198.51.100.9"),
    ]

    await team.report_outcome(world.deps, task_id=task.id, report=OutcomeIn(outcome="not_found"), principal=agent)
    with pytest.raises(Problem) as closed:
        await team.begin(world.deps, task_id=task.id, reason="上门前电话预约", principal=agent, client=None)
    assert closed.value.status == 409
    reported = await team.task(world.deps, task_id=task.id, principal=SUPERVISOR, client=None)
    assert (reported.status, reported.phones, reported.outcome) == (TaskStatus.reported, None, OutcomeIn(outcome="not_found"))
    assert len(await audit_entries(world, "task.contacts")) == 3 and len(await audit_entries(world, "task.read")) == 1


async def test_a_report_retried_under_its_key_is_answered_again_and_records_nothing(world: World) -> None:
    registered = notice(consent=False, phones=())
    await world.consume(registered, notice_id=registered.notice_id)
    task = await world.open_task()
    agent = agent_of(task)
    report = OutcomeIn(outcome="refused", evidence_ids=["ev-1"])
    first = await team.report_outcome(world.deps, task_id=task.id, report=report, principal=agent, key="visit-1")
    staged = await world.staged()

    again = await team.report_outcome(world.deps, task_id=task.id, report=report, principal=agent, key="visit-1")
    assert again == first and first.waiting_for_evidence == ["ev-1"]
    assert await world.staged() == staged, "a retry records nothing"
    for key in ("visit-2", None):
        with pytest.raises(Problem) as refused:
            await team.report_outcome(world.deps, task_id=task.id, report=report, principal=agent, key=key)
        assert refused.value.status == 409

    # Answered from what is stored: the recipient as it stands now.
    await world.consume(evidence_recorded(registered, "ev-1", kind="photo"), notice_id=registered.notice_id)
    later = await team.report_outcome(world.deps, task_id=task.id, report=report, principal=agent, key="visit-1")
    assert (later.status, later.recipient_status, later.waiting_for_evidence) == (TaskStatus.reported, RecipientStatus.served, [])


async def test_a_supervisor_reassigns_an_open_task_to_an_active_agent_of_the_roster(world: World) -> None:
    registered = located(notice(consent=False, phones=()), lat=37.5131, lon=122.1204)
    await world.consume(registered, notice_id=registered.notice_id)
    task = await world.open_task()
    old = agent_of(task)
    target = "agent-weihai" if task.agent_id != "agent-weihai" else "agent-huancui-2"
    await roster.put_agent(world.deps, agent_id="agent-retired", body=AgentIn(name="退休组", areas=[], active=False), principal=SUPERVISOR)

    for agent_id in ("agent-nobody", "agent-retired"):
        with pytest.raises(Problem) as refused:
            await team.reassign(world.deps, task_id=task.id, body=ReassignIn(agent_id=agent_id, reason="人手调整"), principal=SUPERVISOR)
        assert refused.value.status == 422 and refused.value.errors[0]["field"] == "agent_id"
    assert (await world.open_task()).agent_id == task.agent_id, "a refused reassignment writes nothing"

    card = await team.reassign(world.deps, task_id=task.id, body=ReassignIn(agent_id=target, reason="原送达人休假"), principal=SUPERVISOR)
    new = Principal(sub=target, role=Role.agent, jti="t-new")
    assert (card.task_id, card.agent_id) == (task.id, target)
    assert await team.tasks(world.deps, principal=old, agent=None, status=TaskStatus.open) == []
    assert [c.task_id for c in await team.tasks(world.deps, principal=new, agent=None, status=TaskStatus.open)] == [task.id]
    with pytest.raises(Problem) as gone:
        await team.task(world.deps, task_id=task.id, principal=old, client=None)
    assert gone.value.status == 404
    # Evidence learns who may now upload for the task, and where its photos are checked against.
    assigned = [e["data"] for e in await world.staged() if e["type"] == "delivery.TaskAssigned"]
    assert [(a["task_id"], a["agent_id"]) for a in assigned] == [(task.id, task.agent_id), (task.id, target)]
    assert assigned[1]["location"] == {"lat": 37.5131, "lon": 122.1204}
    [entry] = await audit_entries(world, "task.reassign")
    assert (entry.actor_sub, entry.target, entry.purpose, entry.party_ids) == ("sup-1", task.id, "原送达人休假", ["party-zs"])

    await team.report_outcome(world.deps, task_id=task.id, report=OutcomeIn(outcome="not_found"), principal=new)
    with pytest.raises(Problem) as closed:
        await team.reassign(world.deps, task_id=task.id, body=ReassignIn(agent_id=task.agent_id, reason="人手调整"), principal=SUPERVISOR)
    assert closed.value.status == 409


async def test_the_roster_is_seeded_once_kept_by_supervisors_and_new_tasks_go_to_its_active_agents(world: World) -> None:
    policy = world.deps.setup.policy
    assert await roster.seed_agents(world.deps, agents=policy.agents) == 0, "a roster with anyone in it is the supervisors'"
    listed = await roster.agents(world.deps)
    assert [(a.id, a.active, a.open_tasks) for a in listed] == [(a.id, True, 0) for a in sorted(policy.agents, key=lambda a: a.id)]

    added, created = await roster.put_agent(world.deps, agent_id="agent-huancui-3", body=AgentIn(name="环翠组三", areas=["环翠区"], active=True), principal=SUPERVISOR)
    assert (added.id, added.areas, added.open_tasks, created) == ("agent-huancui-3", ["环翠区"], 0, True)
    # Only the new agent covers 环翠区 now; the others stay in the roster, inactive.
    for agent in policy.agents:
        _, created = await roster.put_agent(world.deps, agent_id=agent.id, body=AgentIn(name=agent.name, areas=agent.areas, active=False), principal=SUPERVISOR)
        assert created is False
    with pytest.raises(Problem) as last:
        await roster.put_agent(world.deps, agent_id="agent-huancui-3", body=AgentIn(name="环翠组三", areas=["环翠区"], active=False), principal=SUPERVISOR)
    assert last.value.status == 409 and last.value.errors[0]["field"] == "active"

    for _ in range(2):
        registered = notice(consent=False, phones=())
        await world.consume(registered, notice_id=registered.notice_id)
    async with world.deps.db.sessions() as session:
        assert set((await session.exec(select(DeliveryTask.agent_id))).all()) == {"agent-huancui-3"}
    by_id = {a.id: a for a in await roster.agents(world.deps)}
    assert (by_id["agent-huancui-3"].open_tasks, by_id["agent-huancui-1"].active) == (2, False)
    assert [e.outcome for e in await audit_entries(world, "roster.put")] == ["added", "changed", "changed", "changed"]


async def test_the_receipt_is_the_tasks_agents_or_a_supervisors_and_is_filled_from_the_notice_and_task(world: World) -> None:
    registered = notice(consent=False, phones=())
    await world.consume(registered, notice_id=registered.notice_id)
    task = await world.open_task()
    with pytest.raises(Problem) as hidden:
        await team.receipt(world.deps, task_id=task.id, principal=Principal(sub="someone-else", role=Role.agent, jti="t-3"), client=None)
    assert hidden.value.status == 404
    async with world.deps.db.sessions() as session:
        notice_row = await session.get(DeliveryNotice, registered.notice_id)
        recipient = await session.get(DeliveryRecipient, task.recipient_id)
    assert notice_row is not None and recipient is not None
    form = receipts.form(task, RecipientState.model_validate(recipient.state), notice=notice_row)
    assert (form.court_name, form.case_number, form.cause, form.stage, form.documents) == (
        "威海市环翠区人民法院",
        "（2026）鲁1002民初1234号",
        "民间借贷纠纷",
        "一审",
        ["起诉状副本", "传票"],
    )
    assert (form.recipient_name, form.recipient_role, form.window) == ("张三", "被告", "2026年11月23日 09:00至12:00")
    assert form.signers == "本人、同住成年家属、诉讼代理人、法定代理人、代收人"
    html = receipts.render_html(form)
    assert all(box in html for box in ("受送达人<br>签名或盖章", "代收人及与<br>受送达人关系", "签收日期", "送达人签名"))


# The notice list.


def listed(
    *, court: str = "C371002", case: str = "（2026）鲁1002民初1234号", names: tuple[str, ...] = ("张三",), due_on: date = date(2026, 11, 26), visit: bool = False
) -> NoticeRegistered:
    """A registered notice with these recipients; with `visit`, no phone, so its first step is a visit task."""
    base = registered_notice(consent=[] if visit else [(EDeliveryChannel.sms, MOBILE)], phones=() if visit else (MOBILE,), registered_at=START)
    recipients = [base.recipients[0].model_copy(update={"recipient_id": str(uuid.uuid4()), "name": name}) for name in names]
    return base.model_copy(update={"court_id": court, "case_number": case, "recipients": recipients, "due_date": due_on})


async def list_of(world: World, principal: Principal = SUPERVISOR, *, cursor: str | None = None, limit: int = 50, **wanted: object) -> NoticePage:
    return await notices.list_notices(world.deps, principal=principal, wanted=NoticeFilter(**wanted), cursor=cursor, limit=limit)  # type: ignore[arg-type]


async def test_each_filter_of_the_notice_list_narrows_it(world: World) -> None:
    made = {
        "loan": listed(names=("张三", "李四"), due_on=date(2026, 11, 24)),
        "sale": listed(case="（2026）鲁1002民初77号", names=("Zhao Liu 有限公司",), due_on=date(2026, 11, 25), visit=True),
        "other_court": listed(court="C110105", case="（2026）京0105民初5号", names=("张三丰",), due_on=date(2026, 11, 26)),
        "late": listed(case="（2026）鲁1002民初1235号", names=("王五",), due_on=date(2026, 11, 20)),
        "done": listed(case="（2025）鲁1002民初9号", names=("孙七",), due_on=date(2026, 11, 27)),
    }
    for registered in made.values():
        await world.consume(registered, notice_id=registered.notice_id)
    ids = {name: registered.notice_id for name, registered in made.items()}
    async with world.deps.db.transaction() as session:
        late, done = await session.get(DeliveryNotice, ids["late"]), await session.get(DeliveryNotice, ids["done"])
        assert late is not None and done is not None
        late.warned_at, late.overdue_at = START, START
        done.warned_at, done.completed_at, done.status = START, START, NoticeStatus.completed
        session.add_all([late, done])
    task = await world.open_task()

    async def names(principal: Principal = SUPERVISOR, **wanted: object) -> list[str]:
        page = await list_of(world, principal, **wanted)
        return [next(name for name, notice_id in ids.items() if notice_id == row.notice_id) for row in page.items]

    everything = ["late", "loan", "sale", "other_court", "done"]
    assert await names() == everything, "by due date"
    assert await names(status=NoticeStatus.completed) == ["done"]
    assert await names(status=NoticeStatus.in_progress) == ["late", "loan", "sale", "other_court"]
    assert await names(court="C110105") == ["other_court"]
    assert await names(agent=task.agent_id) == ["sale"] and await names(agent="agent-nobody") == []
    assert await names(case_number="(2026)鲁1002民初123") == ["late", "loan"], "half-width brackets find full-width ones"
    assert await names(case_number="（2026）鲁1002民初1234号") == ["loan"]
    assert await names(case_number="民初77") == ["sale"]
    assert await names(party="张三") == ["loan", "other_court"] and await names(party="李四") == ["loan"]
    assert await names(party="zhao liu") == ["sale"], "case and spaces do not matter"
    assert await names(party="三李") == [], "a search never runs across two names"
    assert await names(party="%") == [] and await names(case_number="_") == [], "wildcards are taken literally"
    assert await names(due_from=date(2026, 11, 25), due_to=date(2026, 11, 26)) == ["sale", "other_court"]
    assert await names(overdue=True) == ["late"] and await names(overdue=False) == ["loan", "sale", "other_court", "done"]
    assert await names(warning=True) == ["late"] and await names(warning=False) == ["loan", "sale", "other_court", "done"]

    [loan] = (await list_of(world, case_number="1234号")).items
    assert [(r.name, r.status) for r in loan.recipients] == [("张三", RecipientStatus.in_progress), ("李四", RecipientStatus.in_progress)]
    [sale] = (await list_of(world, agent=task.agent_id)).items
    assert (sale.agents, sale.court_id, sale.due_date) == ([task.agent_id], "C371002", date(2026, 11, 25))

    court, other = Principal(sub="C371002", role=Role.court, jti="t-6"), Principal(sub="C110105", role=Role.court, jti="t-7")
    assert await names(court) == ["late", "loan", "sale", "done"]
    assert await names(court, court="C110105") == [] and await names(court, court="C371002", party="张三") == ["loan"]
    assert await names(other) == ["other_court"] and await names(other, party="李四") == []
    assert [e.action for e in await audit_log(world)].count("notices.list") > 0, "supervisors' reads are audited"


async def test_the_notice_list_pages_through_every_row_exactly_once(world: World) -> None:
    days = [date(2026, 11, 24), date(2026, 11, 25), date(2026, 11, 25), date(2026, 11, 25), date(2026, 11, 26), date(2026, 11, 27), date(2026, 11, 27)]
    made = [listed(due_on=day) for day in days]
    for registered in made:
        await world.consume(registered, notice_id=registered.notice_id)
    expected = [r.notice_id for r in sorted(made, key=lambda r: (r.due_date, r.notice_id))]
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(len(made)):
        page = await list_of(world, cursor=cursor, limit=3)
        seen += [row.notice_id for row in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == expected
    assert [len((await list_of(world, limit=limit)).items) for limit in (1, 7, 100)] == [1, 7, 7]
    assert (await list_of(world, limit=7)).next_cursor is None


@pytest.mark.parametrize(
    ("cursor", "wanted", "field"),
    [
        ("bm90LWEtY3Vyc29y", {}, "cursor"),
        ("WyIyMDI2LTEzLTAxIiwgIngiXQ", {}, "cursor"),
        ("eyIyMDI2LTExLTI0IjogMSwgIngiOiAyfQ", {}, "cursor"),
        (None, {"due_from": date(2026, 11, 27), "due_to": date(2026, 11, 26)}, "due_to"),
    ],
    ids=["not-json", "no-such-date", "an-object", "due-range-reversed"],
)
async def test_a_bad_query_of_the_notice_list_names_its_field(world: World, cursor: str | None, wanted: dict, field: str) -> None:
    with pytest.raises(Problem) as refused:
        await list_of(world, cursor=cursor, **wanted)
    assert refused.value.status == 422 and [e["field"] for e in refused.value.errors] == [field]
    assert await audit_log(world) == [], "a refused query reads nothing"


@pytest.mark.parametrize(
    ("witness", "field"),
    [
        # CPL 89: the witness's receipt records why the recipient refused (拒收事由) and the date.
        ({"name": "王五", "organisation": "新威路社区居委会"}, "witness.refusal_reason"),
        ({"name": "王五", "organisation": "新威路社区居委会", "refusal_reason": "   "}, "witness.refusal_reason"),
        ({"name": "王五", "organisation": "新威路社区居委会", "refusal_reason": "称不认识原告", "witnessed_on": "2026-11-24"}, "witness.witnessed_on"),
    ],
)
async def test_a_witnessed_refusal_without_its_reason_or_dated_after_the_report_is_refused_naming_the_field(world: World, witness: dict, field: str) -> None:
    registered = notice(consent=False, phones=())
    await world.consume(registered, notice_id=registered.notice_id)
    task = await world.open_task()
    with pytest.raises(Problem) as refused:
        await team.report_outcome(world.deps, task_id=task.id, report=OutcomeIn.model_validate({"outcome": "refused", "witness": witness}), principal=agent_of(task))
    assert refused.value.status == 422 and [e["field"] for e in refused.value.errors] == [field]
    assert (await world.open_task()).id == task.id, "a refused report writes nothing"


@pytest.mark.parametrize(("witnessed_on", "expected"), [(None, "2026-11-23"), ("2026-11-22", "2026-11-22")])
async def test_a_witnessed_refusal_is_deemed_served_with_the_witness_date_and_reason(world: World, witnessed_on: str | None, expected: str) -> None:
    registered = notice(consent=False, phones=())
    await world.consume(registered, notice_id=registered.notice_id)
    task = await world.open_task()
    witness = {"name": "王五", "organisation": "新威路社区居委会", "refusal_reason": "称与原告无借贷关系", "witnessed_on": witnessed_on}
    out = await team.report_outcome(world.deps, task_id=task.id, report=OutcomeIn.model_validate({"outcome": "refused", "witness": witness}), principal=agent_of(task))
    assert (out.recipient_status, out.standing.state, out.standing.reasons) == (RecipientStatus.served, "counted", [])
    assert out.standing.message_zh.startswith("已计入：") and "民事诉讼法第89条" in out.standing.message_zh
    [event] = [e["data"] for e in await world.staged() if e["type"] == "delivery.RecipientServed"]
    assert (event["method"], event["deemed"], event["legal_basis"]) == ("refusal", True, "民事诉讼法第89条")
    assert "即视为送达（民事诉讼法第89条）" in event["deemed_reason"]
    assert event["witness"] == {"name": "王五", "organisation": "新威路社区居委会", "witnessed_on": expected, "refusal_reason": "称与原告无借贷关系"}


@pytest.mark.parametrize(
    ("flags_at_report", "state", "says"),
    [
        # Evidence recorded the photo before the report, far from the address: held at once, and the answer says why.
        (("far_from_address",), "held", "照片拍摄地点距送达地址较远（ev-1）"),
        (("far_from_address", "edited_by_software"), "held", "照片经过编辑软件处理（ev-1）"),
        # Recorded without a blocking flag: counted.
        (("no_gps",), "counted", "已计入"),
        # Not recorded yet: the answer says it waits for it.
        (None, "awaiting_evidence", "正在等待证据登记核验（ev-1）"),
    ],
)
async def test_the_answer_to_a_report_says_where_the_service_stands(world: World, flags_at_report: tuple[str, ...] | None, state: str, says: str) -> None:
    registered = notice(consent=False, phones=())
    await world.consume(registered, notice_id=registered.notice_id)
    task = await world.open_task()
    if flags_at_report is not None:
        await world.consume(evidence_recorded(registered, "ev-1", kind="photo", flags=flags_at_report), notice_id=registered.notice_id)
    report = OutcomeIn(outcome="refused", evidence_ids=["ev-1"])
    out = await team.report_outcome(world.deps, task_id=task.id, report=report, principal=agent_of(task), key="k-1")
    assert out.standing.state == state and says in out.standing.message_zh
    if state == "held":
        assert out.standing.reasons and all(r in out.standing.message_zh for r in out.standing.reasons) and "送达主管将审核" in out.standing.message_zh
    assert await team.report_outcome(world.deps, task_id=task.id, report=report, principal=agent_of(task), key="k-1") == out, "a retry answers the same"


async def test_a_flag_arriving_after_the_report_holds_the_service_and_a_retry_says_so(world: World) -> None:
    registered = notice(consent=False, phones=())
    await world.consume(registered, notice_id=registered.notice_id)
    task = await world.open_task()
    report = OutcomeIn(outcome="refused", evidence_ids=["ev-1"])
    first = await team.report_outcome(world.deps, task_id=task.id, report=report, principal=agent_of(task), key="k-1")
    assert first.standing.state == "awaiting_evidence"
    await world.consume(evidence_recorded(registered, "ev-1", kind="photo", flags=("time_mismatch",)), notice_id=registered.notice_id)
    later = await team.report_outcome(world.deps, task_id=task.id, report=report, principal=agent_of(task), key="k-1")
    assert (later.recipient_status, later.standing.state, later.standing.reasons) == (RecipientStatus.held, "held", ["照片拍摄时间与报告时间不符（ev-1）"])


async def test_a_visit_reported_before_its_window_is_accepted_with_a_remark(world: World) -> None:
    registered = notice(consent=False, phones=())
    await world.consume(registered, notice_id=registered.notice_id)
    task = await world.open_task()
    early = task.window_start - timedelta(hours=3)
    out = await team.report_outcome(world.deps, task_id=task.id, report=OutcomeIn(outcome="not_found", at=early), principal=agent_of(task))
    assert (out.status, out.standing.state, out.standing.remarks) == (TaskStatus.reported, "counted", ["reported_before_window"])
    assert "早于本次任务的时间窗口" in out.standing.message_zh
    [failed] = [e["data"] for e in await world.staged() if e["type"] == "delivery.AttemptFailed"]
    assert failed["remarks"] == ["reported_before_window"]
    view = await notices.notice_delivery(world.deps, notice_id=registered.notice_id, principal=SUPERVISOR)
    assert [a.remarks for a in view.recipients[0].attempts if a.attempt_id == task.attempt_id] == [["reported_before_window"]]
