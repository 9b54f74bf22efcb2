"""Messages intake handles, by event type: delivery.events, from which the address book will learn."""

from shared.consumer import EventHandler
from shared.topics import DELIVERY_EVENTS

TOPICS = (DELIVERY_EVENTS,)
HANDLERS: dict[str, EventHandler] = {}
