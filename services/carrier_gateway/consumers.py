"""Messages the carrier gateway handles, by type: delivery's commands to book court mail."""

from __future__ import annotations

from services.carrier_gateway.booking import PENDING
from services.carrier_gateway.models import CarrierItem
from shared.contracts.events import DispatchPostalItem
from shared.contracts.topics import CARRIER_GATEWAY_COMMANDS
from shared.plumbing.consumer import EventHandler, MessageContext
from shared.plumbing.db import insert_ignoring_duplicates, table_of

TOPICS = (CARRIER_GATEWAY_COMMANDS,)


async def dispatch_postal_item(ctx: MessageContext, command: DispatchPostalItem) -> None:
    """Queues the item for booking; a redelivered command finds it queued already and adds nothing."""
    now = ctx.clock.now()
    queued = insert_ignoring_duplicates(ctx.session, table_of(CarrierItem)).values(
        attempt_id=command.attempt_id,
        notice_id=command.notice_id,
        recipient_id=command.recipient_id,
        correlation_id=ctx.envelope.correlationid,
        command_id=str(ctx.envelope.id),
        command=command.model_dump(mode="json"),
        booking=PENDING,
        tries=0,
        next_try_at=now,
        closed=False,
        created_at=now,
        updated_at=now,
    )
    await ctx.session.exec(queued)


HANDLERS: dict[str, EventHandler] = {DispatchPostalItem.type: dispatch_postal_item}
