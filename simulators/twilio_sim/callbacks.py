"""Status callbacks as Twilio sends them: form POSTs signed with the auth token, retried while refused."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import uuid
from collections.abc import Mapping

import httpx
import structlog

from shared.plumbing.backoff import Backoff
from shared.plumbing.clock import Clock

log = structlog.get_logger(__name__)

SIGNATURE_HEADER = "X-Twilio-Signature"
IDEMPOTENCY_HEADER = "I-Twilio-Idempotency-Token"
USER_AGENT = "TwilioProxy/1.1"
ATTEMPTS = 4
# Twilio counts a webhook that has not answered in 15 seconds as failed.
TIMEOUT_S = 15.0


def sign(url: str, params: Mapping[str, str], *, auth_token: str) -> str:
    """Returns X-Twilio-Signature: base64 HMAC-SHA1 of the URL and every parameter's name and value, by name."""
    payload = url + "".join(name + params[name] for name in sorted(params))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def callback_client() -> httpx.AsyncClient:
    """Returns the HTTP client callbacks go out on."""
    return httpx.AsyncClient(timeout=TIMEOUT_S)


class CallbackSender:
    """Posts signed callbacks; a refused or unreachable one is retried with backoff in domain time."""

    def __init__(self, *, client: httpx.AsyncClient, auth_token: str, clock: Clock) -> None:
        self._client = client
        self._auth_token = auth_token
        self._clock = clock
        self._in_flight: set[asyncio.Task[None]] = set()

    def post(self, url: str, params: Mapping[str, str]) -> None:
        """Sends a callback in the background: like Twilio, a message moves on whether or not its callbacks get through."""
        task = asyncio.create_task(self.send(url, dict(params)))
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)

    async def stop(self) -> None:
        """Cancels the callbacks still being retried."""
        tasks = list(self._in_flight)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def send(self, url: str, params: Mapping[str, str]) -> None:
        """Posts one callback until the receiver takes it or the attempts run out."""
        headers = {
            SIGNATURE_HEADER: sign(url, params, auth_token=self._auth_token),
            # The same token on every retry lets the receiver recognise a callback it already took.
            IDEMPOTENCY_HEADER: str(uuid.uuid4()),
            "User-Agent": USER_AGENT,
        }
        backoff = Backoff(initial=5.0, maximum=60.0)
        for attempt in range(1, ATTEMPTS + 1):
            problem = await self._post(url, params, headers)
            if problem is None:
                return
            log.warning("callback.refused", url=url, attempt=attempt, problem=problem)
            if attempt < ATTEMPTS:
                await self._clock.sleep(backoff.next())
        log.error("callback.abandoned", url=url, attempts=ATTEMPTS)

    async def post_once(self, url: str, params: Mapping[str, str]) -> int:
        """Posts a signed incoming-message webhook once, as Twilio does (it falls back, it does not retry), and returns the receiver's status."""
        headers = {SIGNATURE_HEADER: sign(url, params, auth_token=self._auth_token), "User-Agent": USER_AGENT}
        response = await self._client.post(url, data=dict(params), headers=headers)
        return response.status_code

    async def _post(self, url: str, params: Mapping[str, str], headers: Mapping[str, str]) -> str | None:
        try:
            response = await self._client.post(url, data=dict(params), headers=dict(headers))
        except httpx.HTTPError as exc:
            return type(exc).__name__
        return None if response.is_success else f"HTTP {response.status_code}"
