"""Evidence as the console uses it: the upload and what its checks found, an item's bytes and thumbnail, a notice's items and timeline, its report's versions, the KPIs and their files, the port, the HTTP client and a fake."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict

from services.console.adapters.calls import ServiceApi, ServiceRefused, ServiceUnavailable, segment
from shared.plumbing.auth import Principal, Role


class EvidenceOut(BaseModel):
    """An uploaded item as evidence recorded it: its id and what its checks flagged."""

    model_config = ConfigDict(extra="ignore")

    id: str
    kind: str
    scene: str | None = None
    content_type: str
    flags: list[str] = []


class Item(BaseModel):
    """An item of a notice's evidence as the courts' pages list it."""

    model_config = ConfigDict(extra="ignore")

    id: str
    notice_id: str
    recipient_id: str | None
    kind: str
    scene: str | None
    content_type: str
    flags: list[str]
    recorded_at: datetime

    @property
    def picture(self) -> bool:
        """Tells whether evidence makes a thumbnail of it: a photo, signature or photographed receipt stored as an image."""
        return self.kind in PICTURE_KINDS and self.content_type in PICTURE_TYPES


class TimelineEntry(BaseModel):
    """One event logged about a notice: its type, who sent it and when it happened and was logged."""

    model_config = ConfigDict(extra="ignore")

    position: int
    event_type: str
    source: str
    event_time: datetime
    recorded_at: datetime
    sha256: str


class Timeline(BaseModel):
    """Every event evidence logged about a notice, in log order."""

    model_config = ConfigDict(extra="ignore")

    notice_id: str
    entries: list[TimelineEntry]


class ReportVersion(BaseModel):
    """One issued version of a notice's delivery report."""

    model_config = ConfigDict(extra="ignore")

    version: int
    sha256: str
    issued_at: datetime


# Evidence makes thumbnails of these kinds, when stored as one of these types (services/evidence/thumbnails.py).
PICTURE_KINDS = frozenset({"photo", "signature", "signed_receipt", "return_receipt_scan"})
PICTURE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})
REPORT_FORMATS = {"pdf": "application/pdf", "html": "text/html"}


@dataclass(frozen=True)
class Content:
    """An item's stored bytes and the type evidence sniffed when it was uploaded."""

    data: bytes
    content_type: str


class Evidence(Protocol):
    """Evidence's intake and its items' content, called as the signed-in person."""

    async def upload(self, caller: Principal, *, content: bytes, filename: str, content_type: str, metadata: Mapping[str, Any], key: str) -> EvidenceOut: ...

    async def content(self, caller: Principal, evidence_id: str) -> Content: ...

    async def thumbnail(self, caller: Principal, evidence_id: str) -> Content: ...

    async def notice_items(self, caller: Principal, notice_id: str) -> list[Item]: ...

    async def timeline(self, caller: Principal, notice_id: str) -> Timeline: ...

    async def report_versions(self, caller: Principal, notice_id: str) -> list[ReportVersion]: ...

    async def report(self, caller: Principal, notice_id: str, *, form: str = "pdf", version: int | None = None) -> Content: ...

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
        response = await self.api.call("GET", f"/v1/evidence/{segment(evidence_id)}/content", caller)
        return Content(data=response.content, content_type=response.headers.get("content-type", "application/octet-stream"))

    async def thumbnail(self, caller: Principal, evidence_id: str) -> Content:
        """Returns a picture's small JPEG (evidence audits the read; 404 for an item the caller does not reach or one that is no picture)."""
        response = await self.api.call("GET", f"/v1/evidence/{segment(evidence_id)}/thumbnail", caller)
        return Content(data=response.content, content_type="image/jpeg")

    async def notice_items(self, caller: Principal, notice_id: str) -> list[Item]:
        """Returns the items recorded for a notice, in order (evidence audits the read; 404 for another court's notice)."""
        return [Item.model_validate(item) for item in (await self.api.call("GET", f"/v1/notices/{segment(notice_id)}/evidence", caller)).json()]

    async def timeline(self, caller: Principal, notice_id: str) -> Timeline:
        """Returns every event logged about a notice (404 for another court's notice)."""
        return Timeline.model_validate((await self.api.call("GET", f"/v1/notices/{segment(notice_id)}/timeline", caller)).json())

    async def report_versions(self, caller: Principal, notice_id: str) -> list[ReportVersion]:
        """Returns the issued versions of a notice's report, oldest first (404 before the first or for another court's notice)."""
        answer = (await self.api.call("GET", f"/v1/reports/{segment(notice_id)}/versions", caller)).json()
        return sorted((ReportVersion.model_validate(version) for version in answer), key=lambda v: v.version)

    async def report(self, caller: Principal, notice_id: str, *, form: str = "pdf", version: int | None = None) -> Content:
        """Returns a version of a notice's report (the newest by default) as PDF or HTML (evidence audits the read; 404 before it is issued or for another court's notice)."""
        params = {"version": str(version)} if version is not None else {}
        response = await self.api.call("GET", f"/v1/reports/{segment(notice_id)}.{form}", caller, params=params)
        return Content(data=response.content, content_type=REPORT_FORMATS[form])

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
    # Issued reports by notice id: the court whose they are, and each version's PDF, oldest first (its HTML is made from it).
    reports: dict[str, tuple[str, list[bytes]]] = field(default_factory=dict)
    # The notices evidence heard of, by id: their court, their timeline and their items (with each picture's bytes).
    notices: dict[str, str] = field(default_factory=dict)
    timelines: dict[str, list[TimelineEntry]] = field(default_factory=dict)
    listed: dict[str, list[tuple[Item, bytes]]] = field(default_factory=dict)
    # Whether the versions endpoint exists (pdf16); without it the console shows the newest version only.
    versioned: bool = True
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
        """Returns an uploaded item's bytes to the roles that read every court's evidence, and a listed item's to its notice's court too; any other answers as missing."""
        if self.down:
            raise ServiceUnavailable("evidence")
        listed = [
            (item.content_type, data) for items in self.listed.values() for item, data in items if item.id == evidence_id and caller.reaches_court(self.notices[item.notice_id])
        ]
        found = [(item.content_type, data) for item, _, data in self.items.values() if item.id == evidence_id and caller.role in (Role.supervisor, Role.auditor, Role.service)]
        if not listed + found:
            raise ServiceRefused(404, {"title": "Not found", "detail": f"No evidence {evidence_id}."})
        content_type, data = (listed + found)[0]
        return Content(data=data, content_type=content_type)

    def _notice(self, caller: Principal, notice_id: str) -> None:
        if self.down:
            raise ServiceUnavailable("evidence")
        if notice_id not in self.notices or not caller.reaches_court(self.notices[notice_id]):
            raise ServiceRefused(404, {"title": "Not found", "detail": f"Evidence has no notice {notice_id}."})

    async def thumbnail(self, caller: Principal, evidence_id: str) -> Content:
        """Returns a listed picture's bytes, marked as a thumbnail, to those who reach its notice; anything else answers as missing."""
        found = [(item, data) for listed in self.listed.values() for item, data in listed if item.id == evidence_id]
        if not found or not found[0][0].picture:
            raise ServiceRefused(404, {"title": "Not found", "detail": f"No thumbnail of {evidence_id}."})
        self._notice(caller, found[0][0].notice_id)
        return Content(data=b"thumbnail:" + found[0][1], content_type="image/jpeg")

    async def notice_items(self, caller: Principal, notice_id: str) -> list[Item]:
        """Returns a notice's items to its court and the overseers."""
        self._notice(caller, notice_id)
        return [item for item, _ in self.listed.get(notice_id, [])]

    async def timeline(self, caller: Principal, notice_id: str) -> Timeline:
        """Returns a notice's timeline to its court and the overseers."""
        self._notice(caller, notice_id)
        return Timeline(notice_id=notice_id, entries=self.timelines.get(notice_id, []))

    def _report(self, caller: Principal, notice_id: str) -> list[bytes]:
        if self.down:
            raise ServiceUnavailable("evidence")
        court_id, versions = self.reports.get(notice_id, ("", []))
        if not versions or not caller.reaches_court(court_id):
            raise ServiceRefused(404, {"title": "Not found", "detail": f"No report for notice {notice_id}."})
        return versions

    async def report_versions(self, caller: Principal, notice_id: str) -> list[ReportVersion]:
        """Returns the versions of an issued report, each issued a day after the one before, to its court and the overseers."""
        if not self.versioned:
            raise ServiceRefused(404, {"title": "Not Found", "detail": "Not Found"})
        versions = self._report(caller, notice_id)
        issued = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
        return [ReportVersion(version=n, sha256=f"{n:064x}", issued_at=issued + timedelta(days=n - 1)) for n in range(1, len(versions) + 1)]

    async def report(self, caller: Principal, notice_id: str, *, form: str = "pdf", version: int | None = None) -> Content:
        """Returns a version of an issued report (the newest by default) to its court and the overseers; a version not issued answers as missing."""
        versions = self._report(caller, notice_id)
        if version is not None and not 1 <= version <= len(versions):
            raise ServiceRefused(404, {"title": "Not found", "detail": f"No version {version}."})
        data = versions[(version or len(versions)) - 1]
        if form == "html":
            return Content(data=b"<!doctype html><title>report</title><pre>" + data + b"</pre>", content_type="text/html")
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
