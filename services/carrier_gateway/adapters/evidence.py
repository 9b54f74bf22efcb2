"""Evidence's intake: the port the scanner's handler calls, the client over HTTP (a receipt's scan uploaded once per item, however often it is sent) and a fake."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

import httpx

from shared.contracts.evidence import EvidenceKind
from shared.plumbing.auth import Role, mint

SUBJECT = "carrier_gateway"
TOKEN_TTL = timedelta(minutes=5)


class EvidenceUnavailable(RuntimeError):
    """Evidence did not take the upload this time (unreachable, a 5xx, a 409 race); sending it again is safe."""


class EvidenceRefused(RuntimeError):
    """Evidence refused the upload (a 4xx other than 409): sending the same again would be refused again."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"evidence refused the upload: HTTP {status} {detail}")
        self.status = status
        self.detail = detail


class Evidence(Protocol):
    """Evidence's intake as the handlers use it; raises EvidenceUnavailable when sending again may work, EvidenceRefused when it will not."""

    async def upload_receipt_scan(self, image: bytes, *, content_type: str, notice_id: str, attempt_id: str, recipient_id: str, waybill_no: str) -> str: ...


def _wall_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class EvidenceClient:
    """Posts items to `POST {url}/v1/evidence` as the carrier gateway, with a short-lived service token per call."""

    url: str
    secret: str
    issuer: str
    http: httpx.AsyncClient
    timeout_s: float = 10.0
    # Evidence checks a token's expiry against the wall clock, never the scaled domain clock.
    now: Callable[[], datetime] = field(default=_wall_clock)

    async def upload_receipt_scan(self, image: bytes, *, content_type: str, notice_id: str, attempt_id: str, recipient_id: str, waybill_no: str) -> str:
        """Uploads the scan of an item's return receipt and returns its evidence id; the attempt id keys it, so a repeat gets the same id."""
        metadata = {
            "notice_id": notice_id,
            "kind": EvidenceKind.return_receipt_scan.value,
            "attempt_id": attempt_id,
            "recipient_id": recipient_id,
            "details": {"waybill_no": waybill_no},
        }
        token = mint(secret=self.secret, role=Role.service, sub=SUBJECT, issuer=self.issuer, now=self.now(), ttl=TOKEN_TTL)
        extension = content_type.rpartition("/")[2] or "bin"
        files: dict[str, tuple[str | None, bytes | str, str]] = {
            "file": (f"receipt-{waybill_no}.{extension}", image, content_type),
            "metadata": (None, json.dumps(metadata), "application/json"),
        }
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": f"receipt-scan:{attempt_id}"}
        try:
            response = await self.http.post(self.url.rstrip("/") + "/v1/evidence", files=files, headers=headers, timeout=self.timeout_s)
        except httpx.TransportError as exc:
            raise EvidenceUnavailable(type(exc).__name__) from exc
        if response.status_code in (200, 201):
            try:
                return str(response.json()["id"])
            except (ValueError, KeyError, TypeError) as exc:
                raise EvidenceUnavailable(f"unreadable answer (HTTP {response.status_code})") from exc
        if response.status_code >= 500 or response.status_code in (409, 429):
            raise EvidenceUnavailable(f"HTTP {response.status_code}")
        raise EvidenceRefused(response.status_code, _detail(response))


def _detail(response: httpx.Response) -> str:
    """Returns a problem's detail, or the start of whatever else the answer said."""
    try:
        return str(response.json().get("detail", ""))[:300]
    except (ValueError, AttributeError):
        return response.text[:300]


class FakeEvidence:
    """Evidence in memory: one id per attempt however often its scan is sent, failing as told."""

    def __init__(self) -> None:
        self.uploads: list[tuple[str, bytes]] = []
        self.ids: dict[str, str] = {}
        self._failures: list[Exception] = []

    def fail_next(self, *errors: Exception) -> None:
        """Makes the next uploads raise these errors, one each, in order."""
        self._failures.extend(errors)

    async def upload_receipt_scan(self, image: bytes, *, content_type: str, notice_id: str, attempt_id: str, recipient_id: str, waybill_no: str) -> str:
        """Records the upload and answers the attempt's evidence id, the same on a repeat."""
        if self._failures:
            raise self._failures.pop(0)
        self.uploads.append((attempt_id, image))
        return self.ids.setdefault(attempt_id, f"ev-{len(self.ids) + 1}")
