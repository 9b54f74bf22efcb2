"""Messages evidence handles: every event of every service, whatever its type (see handlers.recorder)."""

from shared.contracts.topics import CARRIER_GATEWAY_EVENTS, DELIVERY_EVENTS, INTAKE_EVENTS
from shared.plumbing.runtime import MessageHandler

# evidence.events is left out: evidence logs what it publishes when it publishes it.
TOPICS = (INTAKE_EVENTS, DELIVERY_EVENTS, CARRIER_GATEWAY_EVENTS)
HANDLERS: dict[str, MessageHandler] = {}
