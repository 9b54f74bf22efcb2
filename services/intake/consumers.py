"""Messages intake handles, by event type: delivery tells it which address or channel reached a party, and where an agent found one moved to."""

from services.intake import handlers
from shared.contracts.topics import DELIVERY_EVENTS
from shared.plumbing.runtime import MessageHandler

TOPICS = (DELIVERY_EVENTS,)
HANDLERS: dict[str, MessageHandler] = {
    "delivery.RecipientServed": handlers.learn_from_service,
    "delivery.AddressReported": handlers.learn_reported_move,
}
