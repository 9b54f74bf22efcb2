"""Twilio's error JSON, and the error codes with the texts Twilio gives them."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

# Carrier outcomes a sent or queued message can end in; reported as ErrorCode in callbacks and resources.
CARRIER_ERRORS: dict[int, str] = {
    30001: "Queue overflow",
    30002: "Account suspended",
    30003: "Unreachable destination handset",
    30004: "Message blocked",
    30005: "Unknown destination handset",
    30006: "Landline or unreachable carrier",
    30007: "Message filtered",
    30008: "Unknown error",
}

# Refusals Twilio answers at create time with HTTP 400; `{to}` is the number as the request gave it.
REFUSALS: dict[int, str] = {
    21211: "The 'To' number {to} is not a valid phone number.",
    21408: "Permission to send an SMS has not been enabled for the region indicated by the 'To' number: {to}.",
    21610: "Attempt to send to unsubscribed recipient",
    21612: "The 'To' phone number: {to}, is not currently reachable via SMS.",
    21614: "'To' number is not a valid mobile number",
    21635: "'To' number cannot be a landline",
}


class TwilioError(Exception):
    """A request Twilio refuses, answered with its error JSON."""

    def __init__(self, code: int, message: str, *, status: int = 400, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.headers = headers or {}

    @classmethod
    def refusal(cls, code: int, *, to: str) -> TwilioError:
        """Returns the 400 Twilio gives for a refused 'To' number."""
        return cls(code, REFUSALS[code].format(to=to))

    @classmethod
    def authenticate(cls) -> TwilioError:
        """Returns the 401 Twilio gives for missing or wrong credentials."""
        return cls(20003, "Authenticate", status=401, headers={"WWW-Authenticate": 'Basic realm="Twilio API"'})

    @classmethod
    def not_found(cls, path: str) -> TwilioError:
        """Returns the 404 Twilio gives for an unknown resource."""
        return cls(20404, f"The requested resource {path} was not found", status=404)

    def body(self) -> dict[str, Any]:
        """Returns Twilio's error document."""
        return {"code": self.code, "message": self.message, "more_info": f"https://www.twilio.com/docs/errors/{self.code}", "status": self.status}


def install(app: FastAPI) -> None:
    """Makes TwilioError answer with Twilio's error JSON."""

    async def on_twilio_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, TwilioError)
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)

    app.add_exception_handler(TwilioError, on_twilio_error)
