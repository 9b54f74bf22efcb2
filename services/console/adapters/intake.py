"""Intake as the console uses it: the court registry (to name courts), a notice as registered with its documents, the documents' bytes, uploading a document and submitting a notice; the port, the client and a fake."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Protocol

from services.console.adapters.calls import ServiceApi, ServiceRefused, ServiceUnavailable, segment
from services.console.adapters.delivery import Shape
from services.console.adapters.evidence import Content
from shared.plumbing.auth import Principal, Role

SHA256 = re.compile(r"[0-9a-f]{64}")
# Who intake lets submit notices and upload their documents.
SUBMITTERS = frozenset({Role.court, Role.supervisor, Role.service})


class Court(Shape):
    """A court Songda serves."""

    id: str
    name: str
    active: bool


class DocumentRef(Shape):
    """A document of a notice: its title and kind, and the file by its sha256 (older notices named titles only)."""

    title: str
    kind: str
    pages: int | None = None
    sha256: str | None = None
    content_type: str | None = None


class RecipientRecord(Shape):
    """A recipient as intake registered them (the identity the court gave; the addresses are not shown here)."""

    recipient_id: str
    name: str
    kind: str
    role: str


class NoticeRecord(Shape):
    """A notice as intake registered it (`GET /v1/notices/{id}`)."""

    id: str
    court_id: str
    court_reference: str
    case_number: str
    cause: str
    stage: str
    due_date: date
    received_at: datetime
    documents: list[DocumentRef]
    recipients: list[RecipientRecord]


class StoredDocument(Shape):
    """A file intake stored for a notice to name (`POST /v1/documents`)."""

    sha256: str
    content_type: str
    size: int
    pages: int | None = None
    filename: str | None = None


class Intake(Protocol):
    """Intake, called as the signed-in person."""

    async def courts(self, caller: Principal) -> list[Court]: ...

    async def notice(self, caller: Principal, notice_id: str) -> NoticeRecord: ...

    async def document(self, caller: Principal, sha256: str) -> Content: ...

    async def upload(self, caller: Principal, *, court_id: str, content: bytes, filename: str, content_type: str) -> StoredDocument: ...

    async def submit(self, caller: Principal, body: Mapping[str, Any]) -> NoticeRecord: ...


def _sha256(value: str) -> str:
    if not SHA256.fullmatch(value):
        raise ServiceRefused(404, {"title": "Not found", "detail": "no such document"})
    return value


@dataclass(frozen=True)
class IntakeClient:
    """Intake over HTTP."""

    api: ServiceApi

    async def courts(self, caller: Principal) -> list[Court]:
        """Returns every registered court."""
        return [Court.model_validate(court) for court in (await self.api.call("GET", "/v1/courts", caller)).json()]

    async def notice(self, caller: Principal, notice_id: str) -> NoticeRecord:
        """Returns a notice as registered (404 for one intake does not show the caller)."""
        return NoticeRecord.model_validate((await self.api.call("GET", f"/v1/notices/{segment(notice_id)}", caller)).json())

    async def document(self, caller: Principal, sha256: str) -> Content:
        """Returns a document's bytes and type (404 for one the caller does not reach)."""
        response = await self.api.call("GET", f"/v1/documents/{_sha256(sha256)}", caller)
        return Content(data=response.content, content_type=response.headers.get("content-type", "application/octet-stream"))

    async def upload(self, caller: Principal, *, court_id: str, content: bytes, filename: str, content_type: str) -> StoredDocument:
        """Stores a file for a court (multipart `file` and `court_id`) and returns its sha256, sniffed type and pages; the same bytes again answer the same."""
        response = await self.api.call("POST", "/v1/documents", caller, files={"file": (filename, content, content_type)}, data={"court_id": court_id})
        return StoredDocument.model_validate(response.json())

    async def submit(self, caller: Principal, body: Mapping[str, Any]) -> NoticeRecord:
        """Submits a notice (the same court reference again answers the notice registered first)."""
        return NoticeRecord.model_validate((await self.api.call("POST", "/v1/notices", caller, json=dict(body))).json())


@dataclass
class FakeIntake:
    """Intake in memory for unit tests: the courts, the notices (shown to their court and the overseers), the documents (to their uploader's court) and what was submitted."""

    registry: list[Court] = field(default_factory=list)
    notices: dict[str, NoticeRecord] = field(default_factory=dict)
    # Stored documents by sha256: the court they were uploaded for, their bytes and type.
    documents: dict[str, tuple[str, bytes, str]] = field(default_factory=dict)
    submitted: list[dict[str, Any]] = field(default_factory=list)
    # The refusal of the next submission (a 422 with its errors, say), then none.
    refusal: ServiceRefused | None = None
    down: bool = False

    def _up(self) -> None:
        if self.down:
            raise ServiceUnavailable("intake")

    async def courts(self, caller: Principal) -> list[Court]:
        """Returns the courts a test registered."""
        self._up()
        return list(self.registry)

    async def notice(self, caller: Principal, notice_id: str) -> NoticeRecord:
        """Returns a notice to its court and the overseers; others are told it is missing."""
        self._up()
        found = self.notices.get(notice_id)
        if found is None or not caller.reaches_court(found.court_id):
            raise ServiceRefused(404, {"title": "Not found", "detail": f"No notice {notice_id}."})
        return found

    async def document(self, caller: Principal, sha256: str) -> Content:
        """Returns a stored document to the court that uploaded it or whose notice names it, and to the overseers."""
        self._up()
        owner, data, content_type = self.documents.get(sha256, ("", b"", ""))
        named = any(caller.is_court(n.court_id) and any(d.sha256 == sha256 for d in n.documents) for n in self.notices.values())
        if not data or not (caller.reaches_court(owner) or named):
            raise ServiceRefused(404, {"title": "Not found", "detail": f"No document {sha256}."})
        return Content(data=data, content_type=content_type)

    async def upload(self, caller: Principal, *, court_id: str, content: bytes, filename: str, content_type: str) -> StoredDocument:
        """Stores a PDF for a court (one page per `/Type /Page` it holds) or refuses anything else (415), as intake sniffs it; a court uploads for itself only."""
        self._up()
        if caller.role not in SUBMITTERS or (caller.role is Role.court and court_id != caller.sub):
            raise ServiceRefused(403, {"title": "Forbidden", "detail": f"The role {caller.role.value!r} may not do this."})
        if not content.startswith(b"%PDF-"):
            raise ServiceRefused(415, {"title": "Unsupported media type", "detail": "file: neither PDF nor OFD"})
        sha256 = hashlib.sha256(content).hexdigest()
        self.documents.setdefault(sha256, (court_id, content, "application/pdf"))
        pages = max(1, content.count(b"/Type /Page") - content.count(b"/Type /Pages"))
        return StoredDocument(sha256=sha256, content_type="application/pdf", size=len(content), pages=pages, filename=filename)

    async def submit(self, caller: Principal, body: Mapping[str, Any]) -> NoticeRecord:
        """Registers the notice as sent (after a refusal a test set), with ids for it and its recipients."""
        self._up()
        if caller.role not in SUBMITTERS:
            raise ServiceRefused(403, {"title": "Forbidden", "detail": f"The role {caller.role.value!r} may not do this."})
        self.submitted.append(dict(body))
        if self.refusal is not None:
            refusal, self.refusal = self.refusal, None
            raise refusal
        notice_id = f"n-{uuid.uuid4().hex[:8]}"
        recipients = [{"recipient_id": f"{notice_id}-r{i}", **r} for i, r in enumerate(body["recipients"])]
        record = NoticeRecord.model_validate(
            dict(body) | {"id": notice_id, "received_at": datetime(2026, 11, 23, 1, 0, tzinfo=UTC), "due_date": body.get("due_date") or "2026-12-03", "recipients": recipients}
        )
        self.notices[notice_id] = record
        return record
