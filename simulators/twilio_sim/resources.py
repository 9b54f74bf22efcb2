"""Messages and calls as the simulator keeps them, in the JSON and callback forms Twilio gives them."""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from shared.plumbing.clock import Clock
from simulators.twilio_sim.errors import CARRIER_ERRORS

API_VERSION = "2010-04-01"
CALL_FINAL = frozenset({"completed", "no-answer", "busy", "failed"})
# Twilio names the in-progress status "answered" when it is asked for in StatusCallbackEvent.
_CALL_EVENTS = {"initiated": "initiated", "ringing": "ringing", "in-progress": "answered"}

# GSM 03.38: the default alphabet takes one septet a character, its extension table two.
_GSM_BASIC = frozenset("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
_GSM_EXTENSION = frozenset("^{}\\[~]|€\f")


def new_sid(prefix: str) -> str:
    """Returns a Twilio SID: a two-letter prefix and 32 hex digits."""
    return prefix + secrets.token_hex(16)


def stamp(clock: Clock) -> datetime:
    """Returns domain "now" to the second, the precision Twilio keeps."""
    return clock.now().replace(microsecond=0)


def rfc2822(moment: datetime) -> str:
    """Formats a time as the 2010 API does: `Mon, 23 Nov 2026 08:00:00 +0000`."""
    return format_datetime(moment.astimezone(UTC))


def _rfc2822_or_null(moment: datetime | None) -> str | None:
    return None if moment is None else rfc2822(moment)


def segments(body: str) -> int:
    """Counts the SMS segments a body is billed as: 160/153 GSM-7 septets, otherwise 70/67 UCS-2 units."""
    if all(char in _GSM_BASIC or char in _GSM_EXTENSION for char in body):
        units = len(body) + sum(char in _GSM_EXTENSION for char in body)
        single, part = 160, 153
    else:
        units = len(body.encode("utf-16-le")) // 2
        single, part = 70, 67
    return 1 if units <= single else math.ceil(units / part)


@dataclass
class Message:
    """An outbound SMS and where it has got to."""

    sid: str
    account_sid: str
    to: str
    from_: str | None
    body: str
    messaging_service_sid: str | None
    status_callback: str | None
    status: str
    date_created: datetime
    date_updated: datetime
    date_sent: datetime | None = None
    error_code: int | None = None

    @property
    def path(self) -> str:
        """Returns the resource's path without the .json suffix."""
        return f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{self.sid}"

    def reach(self, status: str, *, now: datetime, error_code: int | None) -> None:
        """Moves the message to `status`; it counts as sent from the moment it reaches "sent"."""
        self.status = status
        self.date_updated = now
        if status == "sent":
            self.date_sent = now
        if error_code is not None:
            self.error_code = error_code

    def json(self) -> dict[str, Any]:
        """Returns the message resource."""
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": self.body,
            "date_created": rfc2822(self.date_created),
            "date_sent": _rfc2822_or_null(self.date_sent),
            "date_updated": rfc2822(self.date_updated),
            "direction": "outbound-api",
            "error_code": self.error_code,
            "error_message": CARRIER_ERRORS[self.error_code] if self.error_code else None,
            "from": self.from_,
            "messaging_service_sid": self.messaging_service_sid,
            "num_media": "0",
            "num_segments": str(segments(self.body)),
            "price": None,
            "price_unit": "USD",
            "sid": self.sid,
            "status": self.status,
            "subresource_uris": {"media": f"{self.path}/Media.json", "feedback": f"{self.path}/Feedback.json"},
            "to": self.to,
            "uri": f"{self.path}.json",
        }

    def callback_params(self) -> dict[str, str]:
        """Returns the form a status callback carries for the message's current status."""
        params = {
            "AccountSid": self.account_sid,
            "ApiVersion": API_VERSION,
            "MessageSid": self.sid,
            "MessageStatus": self.status,
            "SmsSid": self.sid,
            "SmsStatus": self.status,
            "To": self.to,
        }
        if self.from_:
            params["From"] = self.from_
        if self.messaging_service_sid:
            params["MessagingServiceSid"] = self.messaging_service_sid
        if self.error_code:
            params["ErrorCode"] = str(self.error_code)
            params["ErrorMessage"] = CARRIER_ERRORS[self.error_code]
        return params


@dataclass
class Call:
    """An outbound call and where it has got to."""

    sid: str
    account_sid: str
    to: str
    from_: str
    status_callback: str | None
    # StatusCallbackEvent names: initiated, ringing, answered, completed.
    events: frozenset[str]
    record: bool
    recording_status_callback: str | None
    status: str
    date_created: datetime
    date_updated: datetime
    start_time: datetime | None = None
    end_time: datetime | None = None
    duration: int | None = None
    recording_sid: str | None = None

    @property
    def path(self) -> str:
        """Returns the resource's path without the .json suffix."""
        return f"/{API_VERSION}/Accounts/{self.account_sid}/Calls/{self.sid}"

    def reach(self, status: str, *, now: datetime, duration: int | None) -> None:
        """Moves the call to `status`; dialling starts its clock and a final status stops it."""
        self.status = status
        self.date_updated = now
        if status == "initiated":
            self.start_time = now
        if status in CALL_FINAL:
            self.end_time = now
            self.duration = duration or 0

    def calls_back_on(self, status: str) -> bool:
        """Tells whether `status` is reported: finals always, the others when StatusCallbackEvent asked."""
        return status in CALL_FINAL or _CALL_EVENTS.get(status) in self.events

    def json(self) -> dict[str, Any]:
        """Returns the call resource."""
        return {
            "account_sid": self.account_sid,
            "annotation": None,
            "answered_by": None,
            "api_version": API_VERSION,
            "caller_name": None,
            "date_created": rfc2822(self.date_created),
            "date_updated": rfc2822(self.date_updated),
            "direction": "outbound-api",
            "duration": None if self.duration is None else str(self.duration),
            "end_time": _rfc2822_or_null(self.end_time),
            "forwarded_from": None,
            "from": self.from_,
            "from_formatted": self.from_,
            "group_sid": None,
            "parent_call_sid": None,
            "phone_number_sid": None,
            "price": None,
            "price_unit": "USD",
            "queue_time": "0",
            "sid": self.sid,
            "start_time": _rfc2822_or_null(self.start_time),
            "status": self.status,
            "subresource_uris": {
                "notifications": f"{self.path}/Notifications.json",
                "recordings": f"{self.path}/Recordings.json",
                "events": f"{self.path}/Events.json",
            },
            "to": self.to,
            "to_formatted": self.to,
            "trunk_sid": None,
            "uri": f"{self.path}.json",
        }

    def callback_params(self, *, sequence: int) -> dict[str, str]:
        """Returns the form a status callback carries for the call's current status."""
        params = {
            "AccountSid": self.account_sid,
            "ApiVersion": API_VERSION,
            "CallSid": self.sid,
            "CallStatus": self.status,
            "CallbackSource": "call-progress-events",
            "Called": self.to,
            "Caller": self.from_,
            "Direction": "outbound-api",
            "From": self.from_,
            "SequenceNumber": str(sequence),
            "Timestamp": rfc2822(self.date_updated),
            "To": self.to,
        }
        if self.status == "completed":
            params["CallDuration"] = str(self.duration)
        return params

    def recording_params(self) -> dict[str, str]:
        """Returns the form of the RecordingStatusCallback for the call's finished recording."""
        assert self.recording_sid is not None
        return {
            "AccountSid": self.account_sid,
            "CallSid": self.sid,
            "RecordingChannels": "1",
            "RecordingDuration": str(self.duration),
            "RecordingSid": self.recording_sid,
            "RecordingSource": "OutboundAPI",
            "RecordingStatus": "completed",
            "RecordingUrl": f"https://api.twilio.com/{API_VERSION}/Accounts/{self.account_sid}/Recordings/{self.recording_sid}",
        }
