"""Messages delivery handles, by event type: notices from intake, court mail from the gateway, evidence recorded."""

from services.delivery.handlers import messages
from shared.contracts.topics import CARRIER_GATEWAY_EVENTS, EVIDENCE_EVENTS, INTAKE_EVENTS
from shared.plumbing.runtime import MessageHandler

TOPICS = (INTAKE_EVENTS, CARRIER_GATEWAY_EVENTS, EVIDENCE_EVENTS)
# These act on notices, which may have been registered earlier in their batch.
_ON_NOTICES: dict[str, MessageHandler] = {
    "intake.AddressConfirmed": messages.address_confirmed,
    "carrier_gateway.WaybillCreated": messages.waybill_created,
    "carrier_gateway.TrackingUpdated": messages.tracking_updated,
    "carrier_gateway.ReceiptReturned": messages.receipt_returned,
    "carrier_gateway.DispatchFailed": messages.dispatch_failed,
    "evidence.EvidenceRecorded": messages.evidence_recorded,
}
HANDLERS: dict[str, MessageHandler] = {
    "intake.NoticeRegistered": messages.record_notice,
    **{event_type: messages.after_notices(handler) for event_type, handler in _ON_NOTICES.items()},
}
