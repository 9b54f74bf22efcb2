"""Messages the carrier gateway handles, by type: delivery's commands to book court mail."""

from __future__ import annotations

from services.carrier_gateway.booking import PENDING
from services.carrier_gateway.models import CarrierItem
from shared.contracts.events import DispatchPostalItem
from shared.contracts.topics import CARRIER_GATEWAY_COMMANDS
from shared.plumbing.consumer import MessageContext
from shared.plumbing.db import insert_ignoring_duplicates, table_of
from shared.plumbing.runtime import Deps, MessageHandler

TOPICS = (CARRIER_GATEWAY_COMMANDS,)


async def dispatch_postal_item(deps: Deps, *, message: MessageContext, event: DispatchPostalItem) -> None:
    """Queues the item for booking; a redelivered command finds it queued already and adds nothing."""
    now = message.clock.now()
    queued = insert_ignoring_duplicates(message.session, table_of(CarrierItem)).values(
        attempt_id=event.attempt_id,
        notice_id=event.notice_id,
        recipient_id=event.recipient_id,
        correlation_id=message.envelope.correlationid,
        command_id=str(message.envelope.id),
        command=event.model_dump(mode="json"),
        booking=PENDING,
        tries=0,
        next_try_at=now,
        closed=False,
        created_at=now,
        updated_at=now,
    )
    await message.session.exec(queued)


HANDLERS: dict[str, MessageHandler] = {DispatchPostalItem.type: dispatch_postal_item}
