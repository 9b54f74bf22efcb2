"""EMS's open platform: the port the handlers call, the client over httpx (encrypted requests, retries with backoff and jitter, a circuit breaker) and a fake."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import httpx
import structlog
from pydantic import ValidationError
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from services.carrier_gateway.adapters.ems.mapper import CarrierRejected
from shared.contracts.ems_wire import (
    API_CANCEL_WAYBILL,
    API_CREATE_WAYBILL,
    API_RECEIPT_SCAN,
    API_TRACK,
    RET_NO_RECEIPT,
    RET_OK,
    Answer,
    ReceiptScan,
    Trace,
    WireError,
    request_form,
)

log = structlog.get_logger(__name__)

GATEWAY_PATH = "/api/gateway"
# An S-code is EMS refusing the request itself, whatever it asked for (docs/ems.md).
_REQUEST_REFUSED = "S"


class CarrierUnavailable(RuntimeError):
    """EMS did not answer usefully (a timeout, a 5xx, a garbled reply): whether it acted is unknown."""


class ScanNotReady(Exception):
    """EMS has no scan of the item's return receipt yet (B00005); asking again later may find one."""


class CircuitOpen(CarrierUnavailable):
    """Too many requests failed in a row; EMS is not asked again until the cooldown ends."""


@dataclass
class CircuitBreaker:
    """Opens after `failures` failed requests in a row, stays open `cooldown_s`, then lets one trial request through."""

    failures: int
    cooldown_s: float
    now: Callable[[], float] = time.monotonic
    failed_in_a_row: int = 0
    opened_at: float | None = None
    trial_running: bool = field(default=False)

    @property
    def state(self) -> str:
        """Returns closed, open or half-open."""
        if self.opened_at is None:
            return "closed"
        return "half-open" if self.now() - self.opened_at >= self.cooldown_s else "open"

    def admit(self) -> None:
        """Raises CircuitOpen unless a request may go to EMS now."""
        state = self.state
        if state == "open" or (state == "half-open" and self.trial_running):
            raise CircuitOpen(f"EMS failed {self.failed_in_a_row} times in a row; not asking again for {self.cooldown_s:.0f} s")
        self.trial_running = state == "half-open"

    def succeeded(self) -> None:
        """Closes the circuit."""
        self.failed_in_a_row, self.opened_at, self.trial_running = 0, None, False

    def failed(self) -> None:
        """Counts a failure; opens (or reopens) the circuit at the threshold or when the trial failed."""
        self.failed_in_a_row += 1
        if self.trial_running or self.failed_in_a_row >= self.failures:
            if self.opened_at is None or self.trial_running:
                log.warning("ems.circuit_open", failed_in_a_row=self.failed_in_a_row, cooldown_s=self.cooldown_s)
            self.opened_at = self.now()
        self.trial_running = False


class Carrier(Protocol):
    """EMS as the handlers use it; an unknown outcome raises CarrierUnavailable, a request EMS would not read CarrierRejected."""

    async def create_waybill(self, payload: dict[str, Any]) -> Answer: ...

    async def track(self, waybill_no: str) -> Answer: ...

    async def receipt_scan(self, waybill_no: str) -> tuple[bytes, str]: ...


class _Transient(Exception):
    """One request failed in a way worth trying again."""


@dataclass
class EmsClient:
    """Sends one business request at a time to EMS and returns its answer envelope; I/O only, no mapping."""

    origin: str
    sender_no: str
    authorization: str
    key: bytes
    now: Callable[[], datetime]
    breaker: CircuitBreaker
    timeout_s: float = 10.0
    attempts: int = 4
    backoff_s: float = 0.5
    backoff_max_s: float = 8.0
    http: httpx.AsyncClient = field(default_factory=httpx.AsyncClient)

    async def create_waybill(self, payload: dict[str, Any]) -> Answer:
        """Books an item (020003); EMS answers the same waybill for the same logisticsOrderNo."""
        return await self._request(API_CREATE_WAYBILL, payload)

    async def cancel_waybill(self, waybill_no: str, reason: str) -> Answer:
        """Cancels an item that has not gone out for delivery (020006)."""
        return await self._request(API_CANCEL_WAYBILL, {"waybillNo": waybill_no, "cancelReason": reason})

    async def track(self, waybill_no: str) -> Answer:
        """Asks for every node of an item so far (040001)."""
        return await self._request(API_TRACK, {"waybillNo": waybill_no})

    async def receipt_scan(self, waybill_no: str) -> tuple[bytes, str]:
        """Fetches the scan of an item's return receipt card (040005): its bytes and content type; raises ScanNotReady before there is one."""
        envelope = await self._request(API_RECEIPT_SCAN, {"waybillNo": waybill_no})
        if envelope.ret_code == RET_NO_RECEIPT:
            raise ScanNotReady(f"EMS has no receipt scan for {waybill_no} yet")
        if not envelope.ok:
            raise CarrierRejected(envelope.ret_code, envelope.ret_msg)
        try:
            scan = ReceiptScan.model_validate(envelope.ret_body or {})
            return scan.content(), scan.image_type
        except (ValidationError, WireError) as exc:
            # A success envelope around an unusable scan is EMS's fault; the caller asks again later.
            raise CarrierUnavailable(f"EMS {API_RECEIPT_SCAN}: unreadable scan ({exc})") from None

    async def _request(self, api_code: str, payload: dict[str, Any]) -> Answer:
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(_Transient),
            wait=wait_random_exponential(multiplier=self.backoff_s, max=self.backoff_max_s),
            stop=stop_after_attempt(self.attempts),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    envelope = await self._once(api_code, payload)
        except _Transient as exc:
            raise CarrierUnavailable(f"EMS {api_code}: {exc} (after {self.attempts} tries)") from exc
        if envelope.ret_code.startswith(_REQUEST_REFUSED):
            raise CarrierRejected(envelope.ret_code, envelope.ret_msg)
        return envelope

    async def _once(self, api_code: str, payload: dict[str, Any]) -> Answer:
        self.breaker.admit()
        form = request_form(api_code, payload, sender_no=self.sender_no, authorization=self.authorization, key=self.key, now=self.now())
        try:
            response = await self.http.post(self.origin.rstrip("/") + GATEWAY_PATH, data=form, timeout=self.timeout_s)
        except httpx.TransportError as exc:
            self.breaker.failed()
            raise _Transient(f"{type(exc).__name__}") from exc
        if response.status_code >= 500 or response.status_code == 429:
            self.breaker.failed()
            raise _Transient(f"HTTP {response.status_code}")
        if response.status_code >= 400:
            # EMS answers every business refusal with 200; any other 4xx means our address or request is wrong.
            self.breaker.succeeded()
            raise CarrierRejected(f"HTTP {response.status_code}", response.text[:200])
        try:
            envelope = Answer.model_validate_json(response.content)
        except ValidationError as exc:
            # EMS answered, but not in its own shape: a fault on its side or a proxy's, worth another try.
            self.breaker.failed()
            raise _Transient(f"unreadable answer (HTTP {response.status_code})") from exc
        self.breaker.succeeded()
        return envelope


class FakeCarrier:
    """EMS in memory: books each order once under its own waybill, answers the traces and scans it is given, fails as told."""

    def __init__(self) -> None:
        self.waybills: dict[str, str] = {}
        self.refusals: dict[str, tuple[str, str]] = {}
        self.traces: dict[str, list[Trace]] = {}
        self.scans: dict[str, tuple[bytes, str]] = {}
        self.calls: list[tuple[str, str]] = []
        self._failures: list[Exception] = []

    def fail_next(self, *errors: Exception) -> None:
        """Makes the next calls raise these errors, one each, in order."""
        self._failures.extend(errors)

    async def create_waybill(self, payload: dict[str, Any]) -> Answer:
        """Answers the order's waybill, the same for the same logisticsOrderNo, or the refusal scripted for it."""
        order = payload["logisticsOrderNo"]
        self._call(API_CREATE_WAYBILL, order)
        if order in self.refusals:
            code, message = self.refusals[order]
            return _answer(code, message)
        waybill_no = self.waybills.setdefault(order, f"{1190000000000 + len(self.waybills) + 1}")
        return _answer(RET_OK, "成功", {"waybillNo": waybill_no, "logisticsOrderNo": order})

    async def track(self, waybill_no: str) -> Answer:
        """Answers every node given for the waybill."""
        self._call(API_TRACK, waybill_no)
        return _answer(RET_OK, "成功", {"waybillNo": waybill_no, "traces": [trace.wire() for trace in self.traces.get(waybill_no, [])]})

    async def receipt_scan(self, waybill_no: str) -> tuple[bytes, str]:
        """Answers the scan given for the waybill; raises ScanNotReady before there is one."""
        self._call(API_RECEIPT_SCAN, waybill_no)
        if waybill_no not in self.scans:
            raise ScanNotReady(f"EMS has no receipt scan for {waybill_no} yet")
        return self.scans[waybill_no]

    def _call(self, api_code: str, subject: str) -> None:
        self.calls.append((api_code, subject))
        if self._failures:
            raise self._failures.pop(0)


def _answer(code: str, message: str, body: dict[str, Any] | None = None) -> Answer:
    # As the client does: an S-code refuses the request itself and is never an answer.
    if code.startswith(_REQUEST_REFUSED):
        raise CarrierRejected(code, message)
    return Answer(serial_no="fake", ret_code=code, ret_msg=message, ret_date="2026-01-01 00:00:00", ret_body=body)
