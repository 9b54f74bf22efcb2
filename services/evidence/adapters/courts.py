"""Pushing a report to a court's webhook: the port, the httpx adapter that checks the address and signs the body, and a fake for tests."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import httpx

from services.evidence.targets import TargetPolicy, TargetRefused

SIGNATURE_HEADER = "X-Songda-Signature"


@dataclass(frozen=True)
class Push:
    """One report version for one court: where it goes, the secret that signs it, the body and the key the court keeps it under."""

    url: str
    secret: str
    body: bytes
    idempotency_key: str


def signature(secret: str, *, timestamp: int, body: bytes) -> str:
    """Returns the signature header of a push: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t." + body>`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


class CourtWebhooks(Protocol):
    """Delivers pushes to courts; the answer is None when the court took the push (2xx), else why it did not."""

    async def push(self, push: Push, *, now: datetime) -> str | None: ...

    async def close(self) -> None: ...


class HttpCourtWebhooks:
    """Posts each push signed, to the address the URL's host was just checked at."""

    def __init__(self, *, http: httpx.AsyncClient, policy: TargetPolicy, timeout_s: float) -> None:
        self._http = http
        self._policy = policy
        self._timeout_s = timeout_s

    async def push(self, push: Push, *, now: datetime) -> str | None:
        """Checks the URL again, posts the body and returns None on a 2xx, else the refusal, the error's name or the status."""
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature(push.secret, timestamp=int(now.timestamp()), body=push.body),
            # The court keeps each (report, version) once, however often it is pushed.
            "Idempotency-Key": push.idempotency_key,
            "X-Songda-Event": "evidence.ReportIssued",
        }
        try:
            # Checked again at every push: the name may point elsewhere since it was registered.
            target = await self._policy.vet(push.url)
        except TargetRefused as exc:
            return f"refused: {exc}"
        url, host, extensions = target.request()
        try:
            response = await self._http.post(url, content=push.body, headers={**headers, **host}, timeout=self._timeout_s, extensions=extensions)
        except httpx.HTTPError as exc:
            return type(exc).__name__
        return None if response.is_success else f"HTTP {response.status_code}"

    async def close(self) -> None:
        """Closes the HTTP client."""
        await self._http.aclose()


class FakeCourtWebhooks:
    """Keeps every push and answers from a script (None for a 2xx, else the error), then with None."""

    def __init__(self, answers: Iterable[str | None] = ()) -> None:
        self._answers = list(answers)
        self.pushes: list[tuple[Push, datetime]] = []

    async def push(self, push: Push, *, now: datetime) -> str | None:
        """Records the push and returns the next scripted answer."""
        self.pushes.append((push, now))
        return self._answers.pop(0) if self._answers else None

    async def close(self) -> None:
        """Has nothing to close."""
