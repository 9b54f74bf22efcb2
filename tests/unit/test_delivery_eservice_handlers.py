"""Parallel e-service through delivery's handlers on SQLite with the fake ports: a superseded message never goes out (OLR Art. 32)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.delivery.adapters.mail import FakeMailer
from services.delivery.adapters.twilio import FakeTelephony
from services.delivery.deps import DeliveryDeps
from services.delivery.handlers import roster, sending
from services.delivery.models import TABLES, SendStatus
from services.delivery.policy import load_policy
from services.delivery.workers import Dispatcher
from services.delivery.workflow import Setup
from shared.contracts.events import EDeliveryChannel
from shared.plumbing.db import Database, create_tables
from shared.plumbing.documents import DocumentStore
from shared.plumbing.runtime import PLUMBING_TABLES
from tests.support import MOBILE, registered_notice
from tests.unit.test_delivery_handlers import START, ManualClock, World

MAILBOX = "zhangsan@example.com"


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    db = Database(f"sqlite:///{tmp_path / 'delivery.db'}")
    await create_tables(db.engine, [*PLUMBING_TABLES, *TABLES])
    clock, telephony, mailer = ManualClock(), FakeTelephony(), FakeMailer()
    policy = load_policy()
    setup = Setup(policy=policy.model_copy(update={"electronic": policy.electronic.model_copy(update={"parallel": True})}), public_url="http://delivery.test")
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
    yield World(deps=deps, clock=clock, telephony=telephony, mailer=mailer)
    await db.dispose()


async def test_the_first_channel_to_serve_withdraws_the_others_unsent_message(world: World) -> None:
    registered = registered_notice(consent=[(EDeliveryChannel.sms, MOBILE), (EDeliveryChannel.email, MAILBOX)], registered_at=START)
    await world.consume(registered, notice_id=registered.notice_id)
    queued = {o.channel: o for o in await world.outgoing()}
    assert {channel: o.status for channel, o in queued.items()} == {"sms": SendStatus.pending, "email": SendStatus.pending}, "both channels start at once"

    # The e-mail goes out first and the receiving server accepts it: served; the SMS, picked up just before, must not go out.
    await sending.dispatch(world.deps, outgoing=queued["email"])
    await sending.dispatch(world.deps, outgoing=queued["sms"])
    assert [m.to for m in world.mailer.sent] == [MAILBOX] and world.telephony.messages == []
    assert {o.channel: o.status for o in await world.outgoing()} == {"sms": SendStatus.withdrawn, "email": SendStatus.settled}
    assert await Dispatcher(world.deps).run_once() == 0
    types = await world.types()
    assert types.count("delivery.AttemptStarted") == 2 and types[-3:] == ["delivery.AttemptSuperseded", "delivery.RecipientServed", "delivery.NoticeCompleted"]
    [superseded] = [e["data"] for e in await world.staged() if e["type"] == "delivery.AttemptSuperseded"]
    assert (superseded["attempt_id"], superseded["by_attempt_id"]) == (queued["sms"].attempt_id, queued["email"].attempt_id)
