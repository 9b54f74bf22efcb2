"""Trace pushes as EMS sends them: one node per JSON POST, signed with X-EMS-Digest, retried while refused."""

from __future__ import annotations

import json

import httpx
import structlog

from shared.contracts.ems_wire import DIGEST_HEADER, Trace, digest
from shared.plumbing.backoff import Backoff
from shared.plumbing.clock import Clock

log = structlog.get_logger(__name__)

ATTEMPTS = 6
TIMEOUT_S = 10.0


def push_client() -> httpx.AsyncClient:
    """Returns the HTTP client pushes go out on."""
    return httpx.AsyncClient(timeout=TIMEOUT_S)


def push_body(trace: Trace) -> bytes:
    """Returns the body of a push carrying one node."""
    return json.dumps({"traces": [trace.wire()]}, ensure_ascii=False).encode()


class PushSender:
    """Posts signed pushes; a refused or unreachable one is retried with backoff in domain time."""

    def __init__(self, *, client: httpx.AsyncClient, secret: str, clock: Clock) -> None:
        self._client = client
        self._secret = secret
        self._clock = clock

    async def send(self, url: str, trace: Trace) -> bool:
        """Pushes one node until the receiver acknowledges it or the attempts run out; tells which."""
        body = push_body(trace)
        headers = {DIGEST_HEADER: digest(body, self._secret), "Content-Type": "application/json; charset=utf-8"}
        # Domain minutes, doubling to half an hour: EMS pushes again "later", not at once.
        backoff = Backoff(initial=60.0, maximum=1800.0)
        for attempt in range(1, ATTEMPTS + 1):
            problem = await self._post(url, body, headers)
            if problem is None:
                return True
            log.warning("push.refused", url=url, waybill=trace.waybill_no, op_code=trace.op_code, attempt=attempt, problem=problem)
            if attempt < ATTEMPTS:
                await self._clock.sleep(backoff.next())
        log.error("push.abandoned", url=url, waybill=trace.waybill_no, op_code=trace.op_code, attempts=ATTEMPTS)
        return False

    async def _post(self, url: str, body: bytes, headers: dict[str, str]) -> str | None:
        try:
            response = await self._client.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return type(exc).__name__
        return None if response.is_success else f"HTTP {response.status_code}"
