"""Messages delivery handles, by event type: notices from intake, court mail from the gateway, evidence recorded."""

from services.delivery import handlers
from shared.contracts.topics import CARRIER_GATEWAY_EVENTS, EVIDENCE_EVENTS, INTAKE_EVENTS
from shared.plumbing.runtime import MessageHandler

TOPICS = (INTAKE_EVENTS, CARRIER_GATEWAY_EVENTS, EVIDENCE_EVENTS)
HANDLERS: dict[str, MessageHandler] = {
    "intake.NoticeRegistered": handlers.record_notice,
    "intake.AddressConfirmed": handlers.address_confirmed,
    "carrier_gateway.WaybillCreated": handlers.waybill_created,
    "carrier_gateway.TrackingUpdated": handlers.tracking_updated,
    "carrier_gateway.ReceiptReturned": handlers.receipt_returned,
    "carrier_gateway.DispatchFailed": handlers.dispatch_failed,
    "evidence.EvidenceRecorded": handlers.evidence_recorded,
}
