"""Messages the carrier gateway handles, by type: delivery's commands to book court mail."""

from __future__ import annotations

from services.carrier_gateway import handlers
from shared.contracts.events import DispatchPostalItem
from shared.contracts.topics import CARRIER_GATEWAY_COMMANDS
from shared.plumbing.runtime import MessageHandler

TOPICS = (CARRIER_GATEWAY_COMMANDS,)
HANDLERS: dict[str, MessageHandler] = {DispatchPostalItem.type: handlers.queue_item}
