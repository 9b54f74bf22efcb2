"""Intake's workbook batches as the console uses them: the template, an upload passed on as it came, a batch's progress; the port, the client and a fake."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Protocol

from services.console.adapters.calls import ServiceApi, ServiceRefused, ServiceUnavailable
from services.console.adapters.delivery import Shape
from shared.plumbing.auth import Principal, Role

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Who intake lets upload a workbook.
SUBMITTERS = frozenset({Role.court, Role.supervisor, Role.service})


class CellError(Shape):
    """A refused value of the workbook: where it sits and why, in Chinese."""

    sheet: str
    row: int
    column: str
    field: str
    message: str


class BatchRow(Shape):
    """One notice of the workbook, named by its first row, and what became of it."""

    sheet: str
    row: int
    court_reference: str
    status: str
    notice_id: str | None
    errors: list[CellError]


class Batch(Shape):
    """A workbook's progress: how many of its notices were registered, were duplicates or refused, and each of them."""

    id: str
    court_id: str
    filename: str
    status: str
    total: int
    done: int
    registered: int
    duplicates: int
    refused: int
    created_at: datetime
    finished_at: datetime | None
    rows: list[BatchRow]

    @property
    def finished(self) -> bool:
        """Tells whether every notice of the workbook has its outcome."""
        return self.status == "done"

    @property
    def refusals(self) -> list[CellError]:
        """Returns every refused cell of the workbook, by sheet and row."""
        return sorted((e for r in self.rows if r.status == "refused" for e in r.errors), key=lambda e: (e.sheet != "送达任务", e.row))


@dataclass(frozen=True)
class Upload:
    """A workbook and its documents as the browser sent them (open files, passed on without being read into memory), and the court a supervisor chose."""

    workbook: tuple[str, IO[bytes]]
    files: Sequence[tuple[str, IO[bytes], str]]
    court_id: str | None


class Batches(Protocol):
    """Intake's batch API, called as the signed-in person."""

    async def template(self, caller: Principal) -> bytes: ...

    async def submit(self, caller: Principal, upload: Upload) -> str: ...

    async def batch(self, caller: Principal, batch_id: str) -> Batch: ...


@dataclass(frozen=True)
class BatchesClient:
    """Intake's batches over HTTP; the upload has its own, longer timeout (a workbook with its PDFs)."""

    api: ServiceApi
    upload_api: ServiceApi

    async def template(self, caller: Principal) -> bytes:
        """Returns the template workbook."""
        return (await self.api.call("GET", "/v1/notice-batches/template.xlsx", caller)).content

    async def submit(self, caller: Principal, upload: Upload) -> str:
        """Uploads the workbook with its files; returns the batch id."""
        name, workbook = upload.workbook
        files = [("workbook", (name, workbook, XLSX)), *(("files", part) for part in upload.files)]
        data = {"court_id": upload.court_id} if upload.court_id else None
        return str((await self.upload_api.call("POST", "/v1/notice-batches", caller, files=files, data=data)).json()["batch_id"])

    async def batch(self, caller: Principal, batch_id: str) -> Batch:
        """Returns a batch's progress and rows."""
        return Batch.model_validate((await self.api.call("GET", f"/v1/notice-batches/{batch_id}", caller)).json())


@dataclass
class FakeBatches:
    """Intake's batches in memory for unit tests: it keeps what was uploaded, answers a refusal set by the test once, and shows a court its own batches only."""

    batches: dict[str, Batch] = field(default_factory=dict)
    uploads: list[tuple[Principal, str, list[str], str | None]] = field(default_factory=list)
    refusal: ServiceRefused | None = None
    down: bool = False

    async def template(self, caller: Principal) -> bytes:
        """Returns a stand-in for the template."""
        self._check()
        return b"PK\x03\x04 template"

    async def submit(self, caller: Principal, upload: Upload) -> str:
        """Records the upload; returns the id of a new batch with nothing registered yet."""
        self._check()
        if caller.role not in SUBMITTERS:
            raise ServiceRefused(403, {"title": "Forbidden", "detail": f"The role {caller.role.value!r} may not do this."})
        if self.refusal is not None:
            refusal, self.refusal = self.refusal, None
            raise refusal
        self.uploads.append((caller, upload.workbook[0], [name for name, _, _ in upload.files], upload.court_id))
        batch_id = f"b-{len(self.uploads)}"
        court = caller.sub if caller.role is Role.court else upload.court_id or ""
        self.batches[batch_id] = Batch(
            id=batch_id,
            court_id=court,
            filename=upload.workbook[0],
            status="registering",
            total=1,
            done=0,
            registered=0,
            duplicates=0,
            refused=0,
            created_at=datetime(2026, 11, 23, 1, 0),
            finished_at=None,
            rows=[],
        )
        return batch_id

    async def batch(self, caller: Principal, batch_id: str) -> Batch:
        """Returns the batch, or 404 for another court's or an unknown one."""
        self._check()
        found = self.batches.get(batch_id)
        if found is None or (caller.role is Role.court and found.court_id != caller.sub):
            raise ServiceRefused(404, {"title": "Not found", "detail": f"No notice batch {batch_id}."})
        return found

    def _check(self) -> None:
        if self.down:
            raise ServiceUnavailable("intake")
