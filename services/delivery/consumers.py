"""Messages delivery handles, by event type."""

from services.delivery import handlers
from shared.consumer import EventHandler
from shared.topics import CARRIER_GATEWAY_EVENTS, EVIDENCE_EVENTS, INTAKE_EVENTS

TOPICS = (INTAKE_EVENTS, CARRIER_GATEWAY_EVENTS, EVIDENCE_EVENTS)
HANDLERS: dict[str, EventHandler] = {
    "intake.NoticeRegistered": handlers.record_notice,
}
