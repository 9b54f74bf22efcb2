"""Messages evidence handles: every event of every service (handlers.record, given to the runtime as the catch-all), and these types besides."""

from services.evidence import handlers
from shared.contracts.topics import CARRIER_GATEWAY_EVENTS, DELIVERY_EVENTS, INTAKE_EVENTS
from shared.plumbing.runtime import MessageHandler

# evidence.events is left out: evidence logs what it publishes when it publishes it.
TOPICS = (INTAKE_EVENTS, DELIVERY_EVENTS, CARRIER_GATEWAY_EVENTS)
HANDLERS: dict[str, MessageHandler] = {
    "intake.NoticeRegistered": handlers.record_notice,
    "delivery.TaskAssigned": handlers.remember_task,
    # A visit's or posting's attempt ended: its task is over.
    "delivery.AttemptSucceeded": handlers.close_task,
    "delivery.AttemptFailed": handlers.close_task,
}
