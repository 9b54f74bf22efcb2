"""Evidence as the console uses it: the upload and what its checks found, an item's stored bytes, the KPIs and their files, the port, the HTTP client and a fake."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict

from services.console.adapters.calls import ServiceApi, ServiceRefused, ServiceUnavailable
from shared.plumbing.auth import Principal, Role


class EvidenceOut(BaseModel):
    """An uploaded item as evidence recorded it: its id and what its checks flagged."""

    model_config = ConfigDict(extra="ignore")

    id: str
    kind: str
    scene: str | None = None
    content_type: str
    flags: list[str] = []


@dataclass(frozen=True)
class Content:
    """An item's stored bytes and the type evidence sniffed when it was uploaded."""

    data: bytes
    content_type: str


class Evidence(Protocol):
    """Evidence's intake and its items' content, called as the signed-in person."""

    async def upload(self, caller: Principal, *, content: bytes, filename: str, content_type: str, metadata: Mapping[str, Any], key: str) -> EvidenceOut: ...

    async def content(self, caller: Principal, evidence_id: str) -> Content: ...

    async def report_pdf(self, caller: Principal, notice_id: str) -> Content: ...

    async def kpis(self, caller: Principal, params: Mapping[str, str]) -> dict[str, Any]: ...

    async def kpi_file(self, caller: Principal, path: str, params: Mapping[str, str]) -> Content: ...


# The KPI files the console passes on: the CSV, and a court's monthly report.
KPI_FILE = re.compile(r"kpis\.csv|kpis/monthly/[A-Z0-9]{2,16}/20\d{2}-(0[1-9]|1[0-2])\.(pdf|xlsx)")


@dataclass(frozen=True)
class EvidenceClient:
    """Evidence over HTTP: uploads (`POST /v1/evidence`, multipart, under the caller's idempotency key) and items' content."""

    api: ServiceApi
    # Evidence answers 409 for a task it has not heard of yet (delivery.TaskAssigned is on its way); it asks for a
    # retry in moments, so the agent is spared one: the waits before each try again, in seconds.
    unheard_waits: tuple[float, ...] = (1.0, 2.0, 3.0)

    async def upload(self, caller: Principal, *, content: bytes, filename: str, content_type: str, metadata: Mapping[str, Any], key: str) -> EvidenceOut:
        """Uploads one file with its metadata; the same key returns the item recorded first."""
        files: dict[str, tuple[str | None, bytes | str, str]] = {
            "file": (filename, content, content_type),
            "metadata": (None, json.dumps(dict(metadata)), "application/json"),
        }
        for wait in self.unheard_waits:
            try:
                return await self._send(caller, files=files, key=key)
            except ServiceRefused as refused:
                if refused.status != 409:
                    raise
            await asyncio.sleep(wait)
        return await self._send(caller, files=files, key=key)

    async def _send(self, caller: Principal, *, files: dict[str, tuple[str | None, bytes | str, str]], key: str) -> EvidenceOut:
        response = await self.api.call("POST", "/v1/evidence", caller, files=files, headers={"Idempotency-Key": key})
        return EvidenceOut.model_validate(response.json())

    async def content(self, caller: Principal, evidence_id: str) -> Content:
        """Returns an item's stored bytes and their type (evidence audits the read; 404 for an item the caller does not reach)."""
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", evidence_id):
            raise ServiceRefused(404, {"detail": "no such item"})
        response = await self.api.call("GET", f"/v1/evidence/{evidence_id}/content", caller)
        return Content(data=response.content, content_type=response.headers.get("content-type", "application/octet-stream"))

    async def report_pdf(self, caller: Principal, notice_id: str) -> Content:
        """Returns a notice's latest delivery report as PDF (evidence audits the read; 404 before it is issued or for another court's notice)."""
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", notice_id):
            raise ServiceRefused(404, {"detail": "no such report"})
        response = await self.api.call("GET", f"/v1/reports/{notice_id}.pdf", caller)
        return Content(data=response.content, content_type="application/pdf")

    async def kpis(self, caller: Principal, params: Mapping[str, str]) -> dict[str, Any]:
        """Returns evidence's `GET /v1/kpis` answer for the query (a court's token reads its own court)."""
        response = await self.api.call("GET", "/v1/kpis", caller, params=dict(params))
        body: dict[str, Any] = response.json()
        return body

    async def kpi_file(self, caller: Principal, path: str, params: Mapping[str, str]) -> Content:
        """Returns one of evidence's KPI files: `kpis.csv` or `kpis/monthly/{court_id}/{month}.pdf|.xlsx` (404 for another court's)."""
        if not KPI_FILE.fullmatch(path):
            raise ServiceRefused(404, {"detail": "no such file"})
        response = await self.api.call("GET", f"/v1/{path}", caller, params=dict(params))
        return Content(data=response.content, content_type=response.headers.get("content-type", "application/octet-stream"))


@dataclass
class FakeEvidence:
    """Evidence in memory: one item per key, with the flags a test sets for the next uploads."""

    items: dict[str, tuple[EvidenceOut, dict[str, Any], bytes]] = field(default_factory=dict)
    # Issued reports by notice id, with the court whose they are.
    reports: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)
    down: bool = False
    # The KPIs by court id (None: every court's); a court reads only its own, as evidence answers it.
    figures: dict[str | None, dict[str, Any]] = field(default_factory=dict)
    # The queries asked of the KPIs, as (role, params).
    asked: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    async def upload(self, caller: Principal, *, content: bytes, filename: str, content_type: str, metadata: Mapping[str, Any], key: str) -> EvidenceOut:
        """Records the upload once per key and answers its item."""
        if self.down:
            raise ServiceUnavailable("evidence")
        if key not in self.items:
            item = EvidenceOut(id=f"ev-{len(self.items) + 1}", kind=str(metadata["kind"]), scene=metadata.get("scene"), content_type=content_type, flags=list(self.flags))
            self.items[key] = (item, dict(metadata), content)
        return self.items[key][0]

    async def content(self, caller: Principal, evidence_id: str) -> Content:
        """Returns an uploaded item's bytes to the roles that read every court's evidence; any other answers as missing."""
        if self.down:
            raise ServiceUnavailable("evidence")
        found = [(item, data) for item, _, data in self.items.values() if item.id == evidence_id]
        if not found or caller.role not in (Role.supervisor, Role.auditor, Role.service):
            raise ServiceRefused(404, {"title": "Not found", "detail": f"No evidence {evidence_id}."})
        item, data = found[0]
        return Content(data=data, content_type=item.content_type)

    async def report_pdf(self, caller: Principal, notice_id: str) -> Content:
        """Returns an issued report to its court and to the roles that read every court's; any other answers as missing."""
        if self.down:
            raise ServiceUnavailable("evidence")
        court_id, data = self.reports.get(notice_id, ("", b""))
        if not data or not (caller.role in (Role.supervisor, Role.auditor, Role.service) or caller.is_court(court_id)):
            raise ServiceRefused(404, {"title": "Not found", "detail": f"No report for notice {notice_id}."})
        return Content(data=data, content_type="application/pdf")

    async def kpis(self, caller: Principal, params: Mapping[str, str]) -> dict[str, Any]:
        """Returns the KPIs set for the court asked (a court's own whatever it asks), or a court's without notices."""
        if self.down:
            raise ServiceUnavailable("evidence")
        self.asked.append((caller.role.value, dict(params)))
        court = caller.sub if caller.role is Role.court else params.get("court_id")
        foreign = caller.role is Role.court and params.get("court_id") not in (None, caller.sub)
        return self.figures.get(court, {}) if not foreign else self.figures.get("", {})

    async def kpi_file(self, caller: Principal, path: str, params: Mapping[str, str]) -> Content:
        """Returns a small stand-in of the file, refusing another court's monthly report as missing."""
        if self.down:
            raise ServiceUnavailable("evidence")
        self.asked.append((caller.role.value, {"path": path, **params}))
        if caller.role is Role.court and path.startswith("kpis/monthly/") and not path.startswith(f"kpis/monthly/{caller.sub}/"):
            raise ServiceRefused(404, {"title": "Not found", "detail": "No notices of that court."})
        types = {".csv": "text/csv; charset=utf-8", ".pdf": "application/pdf", ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
        suffix = path[path.rindex(".") :]
        return Content(data=f"{path}".encode(), content_type=types[suffix])
