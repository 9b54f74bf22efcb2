"""Parallel e-service through delivery's handlers on SQLite with the fake ports: a superseded message never goes out (OLR Art. 32)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.delivery.handlers import sending
from services.delivery.models import SendStatus
from services.delivery.policy import load_policy
from services.delivery.workers import Dispatcher
from shared.contracts.events import EDeliveryChannel
from tests.support import MOBILE, registered_notice
from tests.unit.test_delivery_handlers import START, World, a_world

MAILBOX = "zhangsan@example.com"


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    policy = load_policy()
    async with a_world(tmp_path, policy.model_copy(update={"electronic": policy.electronic.model_copy(update={"parallel": True})})) as running:
        yield running


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
