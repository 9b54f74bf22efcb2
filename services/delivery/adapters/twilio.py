"""Text messages and voice calls through Twilio's official SDK, with a port and a fake for tests."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal, Protocol, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
import structlog
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http import AsyncHttpClient
from twilio.http.request import Request as TwilioRequest
from twilio.http.response import Response as TwilioResponse
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from twilio.twiml.voice_response import VoiceResponse

from shared.contracts.values import mask_phone
from shared.plumbing.masking import mask_text

log = structlog.get_logger(__name__)

TWILIO_API = "https://api.twilio.com"
# Only the final status: initiated, ringing and answered decide nothing (twilio_mapper.is_final), and each was a signed
# callback for delivery to verify and answer, three per call.
CALL_EVENTS = ("completed",)
# Twilio decided nothing about the message with these: our credentials were refused (fix the
# configuration, then retry), a timeout or a rate limit. None of them says the number is bad.
_TRANSIENT_STATUSES = frozenset({401, 403, 408, 429})
# A DateSent filter would miss a message still queued (its date_sent is empty until it leaves), the
# very case a crash right after sending leaves; the attempt token in the body picks the message among
# the number's latest ones instead.
RECENT_MESSAGES = 100


class ProviderUnavailable(RuntimeError):
    """Twilio could not be asked or did not answer: whether the message or call went out is unknown."""


@dataclass(frozen=True)
class ProviderResult:
    """Twilio's answer to a message or call request, kept as JSON in the side-effect ledger."""

    accepted: bool
    provider_ref: str | None
    status: str
    error_code: int | None = None
    error_message: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Returns the result as plain JSON values."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ProviderResult:
        """Reads a result back from its JSON form."""
        return cls(
            accepted=bool(data["accepted"]),
            provider_ref=data.get("provider_ref"),
            status=str(data["status"]),
            error_code=data.get("error_code"),
            error_message=data.get("error_message"),
        )


@dataclass(frozen=True)
class ProviderStatus:
    """Where a message or call stands at Twilio now, in the words of its status callbacks, and since when."""

    params: dict[str, str]
    at: datetime | None


class Telephony(Protocol):
    """Sends text messages and places voice calls; a refusal is a result, an unknown outcome raises."""

    async def send_sms(self, *, to: str, body: str, status_callback: str) -> ProviderResult: ...

    async def place_call(self, *, to: str, twiml: str, status_callback: str, recording_callback: str | None = None) -> ProviderResult: ...

    async def find_sms(self, *, to: str, containing: str) -> ProviderResult | None: ...

    async def status(self, *, channel: Literal["sms", "voice"], sid: str) -> ProviderStatus: ...

    async def close(self) -> None: ...


class HttpxTwilioClient(AsyncHttpClient):
    """The Twilio SDK's asynchronous HTTP client on httpx, optionally sending to another origin."""

    def __init__(self, *, timeout: float = 10.0, origin: str | None = None) -> None:
        super().__init__(logging.getLogger("twilio.async_http_client"), True, timeout)
        self._origin = origin.rstrip("/") if origin else None
        self._client = httpx.AsyncClient()

    def _route(self, url: str) -> str:
        if self._origin is None or not url.startswith(TWILIO_API + "/"):
            return url
        return self._origin + url.removeprefix(TWILIO_API)

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> TwilioResponse:
        """Makes one request for the SDK; list values in `data` become repeated form fields."""
        if timeout is not None and timeout <= 0:
            raise ValueError(timeout)
        kwargs: dict[str, Any] = {
            "method": method.upper(),
            "url": self._route(url),
            "params": params,
            "data": data,
            "headers": headers,
            "auth": auth,
            "timeout": timeout if timeout is not None else self.timeout,
            "allow_redirects": allow_redirects,
        }
        self.log_request(kwargs)
        self._test_only_last_response = None
        self._test_only_last_request = TwilioRequest(**kwargs)
        response = await self._client.request(
            kwargs["method"],
            kwargs["url"],
            params=params,  # type: ignore[arg-type]
            data=data,
            headers=headers,
            auth=auth,
            timeout=kwargs["timeout"],
            follow_redirects=allow_redirects,
        )
        self.log_response(response.status_code, response)
        self._test_only_last_response = TwilioResponse(response.status_code, response.text, response.headers)
        return self._test_only_last_response

    def log_request(self, kwargs: dict[str, Any]) -> None:
        """Logs the request as the SDK does, with the phone numbers in its query masked."""
        params = kwargs["params"]
        masked = {key: mask_text(str(value)) for key, value in params.items()} if params else params
        super().log_request({**kwargs, "url": _masked_url(kwargs["url"]), "params": masked})

    async def close(self) -> None:
        """Closes the connection pool."""
        await self._client.aclose()


def _masked_url(url: str) -> str:
    # A next-page URL repeats the filters, To among them, percent-encoded where mask_text cannot see it.
    parts = urlsplit(url)
    query = [(key, mask_text(value)) for key, value in parse_qsl(parts.query, keep_blank_values=True)]
    return urlunsplit(parts._replace(query=urlencode(query)))


class TwilioTelephony:
    """Telephony through Twilio's REST API with the official SDK."""

    def __init__(self, *, account_sid: str, auth_token: str, from_number: str, origin: str | None = None, timeout: float = 10.0) -> None:
        self._http = HttpxTwilioClient(timeout=timeout, origin=origin)
        self._client = Client(account_sid, auth_token, http_client=self._http)
        self._from = from_number

    async def send_sms(self, *, to: str, body: str, status_callback: str) -> ProviderResult:
        """Asks Twilio to send a text message."""
        request = self._client.messages.create_async(to=to, from_=self._from, body=body, status_callback=status_callback)
        return await _ask(request, kind="sms", to=to)

    async def place_call(self, *, to: str, twiml: str, status_callback: str, recording_callback: str | None = None) -> ProviderResult:
        """Asks Twilio to call and speak `twiml`, reporting the call's final status and recording when asked."""
        recording: dict[str, Any] = {"record": True, "recording_status_callback": recording_callback} if recording_callback else {}
        request = self._client.calls.create_async(
            to=to,
            from_=self._from,
            twiml=twiml,
            status_callback=status_callback,
            status_callback_event=list(CALL_EVENTS),
            status_callback_method="POST",
            **recording,
        )
        return await _ask(request, kind="call", to=to)

    async def find_sms(self, *, to: str, containing: str) -> ProviderResult | None:
        """Returns the message among the latest to `to` whose body holds `containing`, with its current status."""
        try:
            messages = await self._client.messages.list_async(to=to, limit=RECENT_MESSAGES)
        except (TwilioException, httpx.TransportError, json.JSONDecodeError) as exc:
            # A failed lookup proves nothing either way; answering None would send a second time.
            raise ProviderUnavailable(f"could not list messages to {mask_phone(to)}") from exc
        for message in messages:
            if containing in (message.body or ""):
                return ProviderResult(accepted=True, provider_ref=message.sid, status=str(message.status))
        return None

    async def status(self, *, channel: Literal["sms", "voice"], sid: str) -> ProviderStatus:
        """Fetches a message or call and returns its status as its callback would have carried it."""
        try:
            if channel == "sms":
                message = await self._client.messages(sid).fetch_async()
                params = {"MessageSid": sid, "MessageStatus": str(message.status), "From": message.from_, "To": message.to, "ErrorCode": message.error_code}
                return ProviderStatus(params=_present(params), at=message.date_updated)
            call = await self._client.calls(sid).fetch_async()
            params = {"CallSid": sid, "CallStatus": str(call.status), "From": call._from, "To": call.to, "CallDuration": call.duration}
            return ProviderStatus(params=_present(params), at=call.end_time or call.date_updated)
        except (TwilioException, httpx.TransportError, json.JSONDecodeError) as exc:
            raise ProviderUnavailable(f"could not fetch {channel} {sid}") from exc

    async def close(self) -> None:
        """Closes the HTTP client."""
        await self._http.close()


def _present(params: Mapping[str, object]) -> dict[str, str]:
    return {key: str(value) for key, value in params.items() if value is not None}


async def _ask(request: Awaitable[Any], *, kind: str, to: str) -> ProviderResult:
    try:
        created = await request
    except (TwilioRestException, TwilioServiceException) as exc:
        if 400 <= exc.status < 500 and exc.status not in _TRANSIENT_STATUSES:
            log.info(f"{kind}.rejected", to=mask_phone(to), error_code=exc.code)
            return ProviderResult(accepted=False, provider_ref=None, status="rejected", error_code=exc.code, error_message=_error_message(exc))
        raise ProviderUnavailable(f"{kind} to {mask_phone(to)}: Twilio answered {exc.status}") from exc
    except (httpx.TransportError, json.JSONDecodeError) as exc:
        # json: a 2xx whose body is not JSON (a proxy's page) leaves the outcome unknown too.
        raise ProviderUnavailable(f"{kind} to {mask_phone(to)}: {type(exc).__name__}") from exc
    log.info(f"{kind}.accepted", to=mask_phone(to), provider_ref=created.sid, status=created.status)
    return ProviderResult(accepted=True, provider_ref=created.sid, status=str(created.status))


def _error_message(exc: TwilioRestException | TwilioServiceException) -> str:
    if isinstance(exc, TwilioServiceException):
        return exc.detail or exc.title
    return str(exc.msg)


@dataclass(frozen=True)
class SentSms:
    """A text message the fake was asked to send, with its answer."""

    to: str
    body: str
    status_callback: str
    result: ProviderResult


@dataclass(frozen=True)
class PlacedCall:
    """A call the fake was asked to place, with its answer."""

    to: str
    twiml: str
    status_callback: str
    recording_callback: str | None
    result: ProviderResult


R = TypeVar("R", SentSms, PlacedCall)


class FakeTelephony:
    """Telephony in memory: records every request, answers as scripted per number, can fail once."""

    def __init__(self) -> None:
        self.messages: list[SentSms] = []
        self.calls: list[PlacedCall] = []
        self.closed = False
        self.statuses: dict[str, ProviderStatus] = {}
        self._scripts: dict[str, ProviderResult] = {}
        self._failure: Literal["delivered", "lost"] | None = None

    def script(self, number: str, result: ProviderResult) -> None:
        """Answers every later message or call to `number` with `result`."""
        self._scripts[number] = result

    def fail_next(self, *, delivered: bool = True) -> None:
        """Makes the next message or call raise ProviderUnavailable, after going out when `delivered`."""
        self._failure = "delivered" if delivered else "lost"

    async def send_sms(self, *, to: str, body: str, status_callback: str) -> ProviderResult:
        """Records the message and answers for its number."""
        result = self._answer(to, prefix="SM", count=len(self.messages))
        return self._settle(self.messages, SentSms(to=to, body=body, status_callback=status_callback, result=result))

    async def place_call(self, *, to: str, twiml: str, status_callback: str, recording_callback: str | None = None) -> ProviderResult:
        """Records the call and answers for its number."""
        result = self._answer(to, prefix="CA", count=len(self.calls))
        call = PlacedCall(to=to, twiml=twiml, status_callback=status_callback, recording_callback=recording_callback, result=result)
        return self._settle(self.calls, call)

    async def find_sms(self, *, to: str, containing: str) -> ProviderResult | None:
        """Returns the first accepted message to `to` holding `containing`."""
        for sms in self.messages:
            if sms.to == to and sms.result.accepted and containing in sms.body:
                return sms.result
        return None

    async def status(self, *, channel: Literal["sms", "voice"], sid: str) -> ProviderStatus:
        """Returns the status a test set for `sid`, or queued."""
        key = "MessageSid" if channel == "sms" else "CallSid"
        return self.statuses.get(sid) or ProviderStatus(params={key: sid, ("MessageStatus" if channel == "sms" else "CallStatus"): "queued"}, at=None)

    async def close(self) -> None:
        """Marks the fake closed."""
        self.closed = True

    def _answer(self, to: str, *, prefix: str, count: int) -> ProviderResult:
        scripted = self._scripts.get(to)
        return scripted or ProviderResult(accepted=True, provider_ref=f"{prefix}{count + 1:032x}", status="queued")

    def _settle(self, sent: list[R], request: R) -> ProviderResult:
        failure, self._failure = self._failure, None
        if failure != "lost":
            sent.append(request)
        if failure is not None:
            raise ProviderUnavailable(f"scripted failure, request {failure}")
        return request.result


def sign(*, auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """Returns the X-Twilio-Signature Twilio would send for a POST of `params` to `url`."""
    return str(RequestValidator(auth_token).compute_signature(url, params))


def verify_signature(*, auth_token: str, url: str, params: Mapping[str, str], signature: str | None) -> bool:
    """Whether `signature` is Twilio's signature of `params` posted to exactly `url`."""
    if not signature:
        return False
    return bool(RequestValidator(auth_token).validate(url, params, signature))


def notice_twiml(*, court_name: str, case_number: str, callback_hint: str) -> str:
    """Returns TwiML that reads a short service notice in Mandarin twice and hangs up."""
    notice = f"您好，这里是{court_name}。{case_number}案件有诉讼文书需要向您送达。请尽快与本院联系，{callback_hint}。"
    response = VoiceResponse()
    # Of Twilio's voices, alice is the one documented for zh-CN; Polly's and Google's Mandarin use cmn-CN.
    response.say(notice, voice="alice", language="zh-CN", loop=2)
    response.hangup()
    return str(response.to_xml())
