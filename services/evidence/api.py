"""Evidence's HTTP API: uploads, items and their proofs, the log's checkpoints, reports, a notice's timeline, the courts' webhooks and the KPIs; every read of an item or report is audited."""

from __future__ import annotations

import asyncio
import base64
import mimetypes
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field

from services.evidence import access, handlers, items, kpi_sheets
from services.evidence.deps import DepsDep, EvidenceDeps
from services.evidence.domain import kpis
from services.evidence.models import EvidenceItem
from services.evidence.rendering import render_html
from services.evidence.signer import present
from services.evidence.sniffing import ALLOWED, HEAD_BYTES
from services.evidence.uploads import receive
from shared.contracts import checkpoints
from shared.contracts.events import ServiceMethod, Tier
from shared.contracts.report import Checkpoint, DeliveryReport
from shared.plumbing.auth import Principal, Role, require
from shared.plumbing.headers import PAGE_CSP
from shared.plumbing.openapi import problems
from shared.plumbing.problems import Problem

router = APIRouter(prefix="/v1", tags=["evidence"])
courts = APIRouter(prefix="/v1", tags=["courts"])

Readers = Annotated[Principal, Depends(require(Role.court, Role.supervisor, Role.auditor, Role.service))]
ItemReaders = Annotated[Principal, Depends(require(Role.court, Role.supervisor, Role.auditor, Role.service, Role.agent))]
Uploaders = Annotated[Principal, Depends(require(Role.agent, Role.supervisor, Role.service))]
Anyone = Annotated[Principal, Depends(require(*Role))]
Registrars = Annotated[Principal, Depends(require(Role.court, Role.supervisor))]
Id = Annotated[str, Path(max_length=64)]
CourtId = Annotated[str, Path(pattern=r"^[A-Z0-9]{2,16}$")]
# Upper bounds of what a number can name: log sizes are int64, report versions int32 columns.
MAX_COUNT = 2**53
MAX_VERSION = 2**31 - 1


class TimelineEntry(BaseModel):
    position: int
    log_index: int
    event_id: str
    event_type: str
    source: str
    event_time: datetime
    sha256: str
    recorded_at: datetime


class Timeline(BaseModel):
    notice_id: str
    entries: list[TimelineEntry]


class EvidenceOut(BaseModel):
    """An item as the API shows it; the content is at `content_url`."""

    id: str
    notice_id: str
    recipient_id: str | None
    attempt_id: str | None
    task_id: str | None
    kind: str
    scene: str | None
    sha256: str
    size: int
    content_type: str
    filename: str | None
    flags: list[str]
    facts: dict[str, Any] | None
    details: dict[str, Any]
    uploaded_by: str
    leaf_index: int
    recorded_at: datetime
    content_url: str
    proof_url: str


class ProofOut(BaseModel):
    """An item's inclusion proof to a checkpoint (RFC 9162)."""

    leaf_index: int
    entry: str
    leaf_hash: str
    tree_size: int
    path: list[str]
    checkpoint: Checkpoint | None


class CheckpointOut(Checkpoint):
    """The latest signed checkpoint, with its signed-note text."""

    note: str


class ConsistencyOut(BaseModel):
    """Proof that the log at `first` is a prefix of the log at `second` (RFC 9162 §2.1.4)."""

    first: int
    second: int
    first_root: str
    second_root: str
    path: list[str]


class ReportVersionOut(BaseModel):
    """One issued version of a notice's report: `sha256` is the hash its seal carries."""

    version: int
    sha256: str
    issued_at: datetime


class WebhookIn(BaseModel):
    """Where the court wants its reports pushed."""

    model_config = ConfigDict(extra="forbid")

    url: AnyHttpUrl = Field(max_length=2000)


class WebhookOut(BaseModel):
    """A court's registered webhook; the secret is shown only when it is made."""

    court_id: str
    url: str
    registered_at: datetime
    secret: str | None = None


def _client(request: Request) -> str | None:
    return request.client.host if request.client else None


def _out(item: EvidenceItem) -> EvidenceOut:
    return EvidenceOut(**item.model_dump(exclude={"idempotency_key"}), content_url=f"/v1/evidence/{item.id}/content", proof_url=f"/v1/evidence/{item.id}/proof")


_MULTIPART = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["metadata"],
                    "properties": {
                        "file": {"type": "string", "format": "binary", "description": "The photo, video, recording or scan; its type is judged by its content"},
                        "metadata": {"type": "string", "contentMediaType": "application/json", "description": "UploadMetadata as JSON", "x-schema": "UploadMetadata"},
                    },
                },
                "encoding": {"metadata": {"contentType": "application/json"}},
            }
        },
    }
}


@router.post(
    "/evidence",
    status_code=201,
    response_model=EvidenceOut,
    summary="Upload an item of evidence (multipart: file + metadata)",
    responses=problems(400, 409, 413, 415, 422) | {200: {"description": "This caller uploaded with this Idempotency-Key before; the first item is returned"}},
    openapi_extra=_MULTIPART,
)
async def upload(
    request: Request,
    response: Response,
    principal: Uploaders,
    deps: DepsDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", min_length=1, max_length=200)] = None,
) -> EvidenceOut:
    """Stores the file under its sha256, checks it, logs it and publishes evidence.EvidenceRecorded; a bad upload writes nothing."""
    received = await receive(request, store=deps.blobs, limit=deps.max_upload_bytes, head_size=HEAD_BYTES)
    try:
        meta = items.parse_metadata(received.metadata, has_file=received.file is not None)
        item, new = await handlers.record_upload(deps, principal=principal, upload=received, meta=meta, key=access.scoped_key(principal, idempotency_key))
    except BaseException:
        received.discard()
        raise
    if not new:
        response.status_code = 200
    return _out(item)


@router.get("/evidence/{evidence_id}", response_model=EvidenceOut, summary="An item of evidence, its checks and flags")
async def read(evidence_id: Id, request: Request, principal: ItemReaders, deps: DepsDep) -> EvidenceOut:
    """Returns the item's record; the read is audited."""
    return _out(await handlers.read_item(deps, principal=principal, evidence_id=evidence_id, action="evidence.read", client=_client(request)))


# The bytes keep the type sniffed at upload, one a kind of evidence may be; an item without a file is its details as JSON.
_CONTENT_TYPES: dict[str, Any] = {media_type: {} for media_type in sorted(frozenset().union(*ALLOWED.values()))}


@router.get("/evidence/{evidence_id}/content", summary="The item's content, byte for byte", response_class=FileResponse, responses={200: {"content": _CONTENT_TYPES}})
async def content(evidence_id: Id, request: Request, principal: ItemReaders, deps: DepsDep) -> FileResponse:
    """Returns the stored bytes as an attachment of their sniffed type with their sha256 as the ETag; the read is audited."""
    item = await handlers.read_item(deps, principal=principal, evidence_id=evidence_id, action="evidence.content", client=_client(request))
    # An attachment, never rendered in our origin: an uploaded page or script cannot run as if we served it.
    return FileResponse(
        deps.blobs.path(item.sha256),
        media_type=item.content_type,
        filename=f"{item.id}{_suffix(item.content_type)}",
        content_disposition_type="attachment",
        headers={"ETag": f'"{item.sha256}"', "Digest": f"sha-256={_b64(item.sha256)}", "Content-Security-Policy": "default-src 'none'; sandbox"},
    )


@router.get(
    "/evidence/{evidence_id}/thumbnail",
    summary="A small preview of a picture: JPEG, at most 320 px on its long side, upright, without EXIF",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}},
)
async def thumbnail(evidence_id: Id, request: Request, principal: ItemReaders, deps: DepsDep) -> Response:
    """Returns the preview of a photo, signature or photographed receipt to whoever reaches the item (404 for any other kind); the read is audited."""
    data = await handlers.read_thumbnail(deps, principal=principal, evidence_id=evidence_id, client=_client(request))
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"})


def _suffix(content_type: str) -> str:
    return mimetypes.guess_extension(content_type) or ".bin"


def _b64(sha256: str) -> str:
    return base64.b64encode(bytes.fromhex(sha256)).decode()


@router.get("/evidence/{evidence_id}/proof", response_model=ProofOut, summary="The item's inclusion proof in the evidence log")
async def proof(evidence_id: Id, principal: ItemReaders, deps: DepsDep, size: Annotated[int | None, Query(ge=1, le=MAX_COUNT)] = None) -> ProofOut:
    """Returns the proof to the latest checkpoint, or to the log at `size`."""
    proved = await handlers.prove_item(deps, principal=principal, evidence_id=evidence_id, size=size)
    return ProofOut(
        leaf_index=proved.item.leaf_index,
        entry=proved.entry.entry,
        leaf_hash=proved.entry.leaf_hash,
        tree_size=proved.tree_size,
        path=[p.hex() for p in proved.path],
        checkpoint=present(proved.checkpoint) if proved.checkpoint else None,
    )


@router.get("/log/checkpoint", response_model=CheckpointOut, summary="The evidence log's latest signed checkpoint", responses=problems(404))
async def checkpoint(principal: Anyone, deps: DepsDep) -> CheckpointOut:
    """Returns the latest checkpoint and its signed note."""
    shown = present(await handlers.latest_checkpoint(deps))
    note = checkpoints.note(
        origin=shown.origin,
        size=shown.size,
        root=bytes.fromhex(shown.root),
        issued_at=shown.issued_at,
        key_hash=bytes.fromhex(shown.key_id),
        signature=base64.b64decode(shown.signature),
    )
    return CheckpointOut(**shown.model_dump(), note=note)


@router.get("/log/consistency", response_model=ConsistencyOut, summary="Proof that an older log is a prefix of a newer one")
async def consistency(principal: Anyone, deps: DepsDep, first: Annotated[int, Query(ge=1, le=MAX_COUNT)], second: Annotated[int, Query(ge=1, le=MAX_COUNT)]) -> ConsistencyOut:
    """Returns the consistency proof between two sizes of the log."""
    proved = await handlers.prove_consistency(deps, first=first, second=second)
    return ConsistencyOut(first=first, second=second, first_root=proved.first_root.hex(), second_root=proved.second_root.hex(), path=[p.hex() for p in proved.path])


Version = Annotated[int | None, Query(ge=1, le=MAX_VERSION, description="a version; the newest by default")]


@router.get("/reports/{notice_id}.html", response_class=HTMLResponse, summary="The delivery report as a page, laid out like a 送达回证")
async def report_html(notice_id: Id, request: Request, principal: Readers, deps: DepsDep, version: Version = None) -> HTMLResponse:
    """Returns the report rendered in Chinese; the read is audited."""
    report = await handlers.read_report(deps, principal=principal, notice_id=notice_id, version=version, action="report.html", client=_client(request))
    return HTMLResponse(render_html(DeliveryReport.model_validate(report.document)), headers={"Content-Security-Policy": PAGE_CSP})


@router.get(
    "/reports/{notice_id}.pdf",
    response_class=FileResponse,
    summary="The delivery report as a PDF, laid out like a 送达回证",
    responses={
        200: {"content": {"application/pdf": {}}, "description": "The version's PDF, rendered once and then served as stored; the ETag is its sha256"},
        304: {"description": "If-None-Match named the version's ETag: the copy the caller holds is this version"},
    },
)
async def report_pdf(notice_id: Id, request: Request, principal: Readers, deps: DepsDep, version: Version = None) -> Response:
    """Returns the report as a PDF, typeset when the version was issued (or on its first request) and stored, or 304 for the copy the caller holds; the read is audited."""
    pdf = await handlers.report_pdf(deps, principal=principal, notice_id=notice_id, version=version, client=_client(request))
    # Revalidated on every use: the newest version may be superseded, and each read goes through the access check and the audit.
    headers = {"ETag": f'"{pdf.sha256}"', "Cache-Control": "private, no-cache"}
    if _holds(request, pdf.sha256):
        return Response(status_code=304, headers=headers)
    response = FileResponse(
        deps.blobs.path(pdf.sha256),
        media_type="application/pdf",
        filename=f"delivery-report-{notice_id}-v{pdf.version}.pdf",
        content_disposition_type="inline",
        headers=headers,
    )
    # A report's PDF (half a megabyte, mostly its fonts) in one read rather than a thread hop per 64 KiB.
    response.chunk_size = 1 << 20
    return response


def _holds(request: Request, sha256: str) -> bool:
    """Tells whether the request's If-None-Match names this ETag (weakly compared, RFC 9110 §13.1.2) or is `*`."""
    tags = {tag.strip().removeprefix("W/") for tag in request.headers.get("if-none-match", "").split(",")}
    return f'"{sha256}"' in tags or "*" in tags


@router.get("/reports/{notice_id}/versions", response_model=list[ReportVersionOut], summary="Every issued version of the delivery report, oldest first")
async def report_versions(notice_id: Id, request: Request, principal: Readers, deps: DepsDep) -> list[ReportVersionOut]:
    """Returns each version's number, seal hash and issue time (any of them readable with `?version=N`); the read is audited."""
    versions = await handlers.report_versions(deps, principal=principal, notice_id=notice_id, client=_client(request))
    return [ReportVersionOut(version=v.version, sha256=v.sha256, issued_at=v.issued_at) for v in versions]


@router.get("/reports/{notice_id}", summary="The delivery report (DeliveryReport v1 JSON)")
async def report_json(notice_id: Id, request: Request, principal: Readers, deps: DepsDep, version: Version = None) -> JSONResponse:
    """Returns the report exactly as sealed; the read is audited."""
    report = await handlers.read_report(deps, principal=principal, notice_id=notice_id, version=version, action="report.json", client=_client(request))
    return JSONResponse(report.document, headers={"ETag": f'"{report.sha256}"'})


@router.get("/notices/{notice_id}/timeline", response_model=Timeline, summary="Every event recorded for a notice, in order")
async def timeline(notice_id: Id, principal: Readers, deps: DepsDep) -> Timeline:
    """Returns the notice's timeline; a court sees only its own notices (others answer 404)."""
    entries = await handlers.read_timeline(deps, principal=principal, notice_id=notice_id)
    return Timeline(
        notice_id=notice_id,
        entries=[
            TimelineEntry(
                position=position,
                log_index=e.log_index,
                event_id=e.event_id,
                event_type=e.event_type,
                source=e.source,
                event_time=e.event_time,
                sha256=e.sha256,
                recorded_at=e.recorded_at,
            )
            for position, e in enumerate(entries, start=1)
        ],
    )


@router.get("/notices/{notice_id}/evidence", response_model=list[EvidenceOut], summary="Every item of evidence recorded for a notice, in order")
async def notice_evidence(notice_id: Id, request: Request, principal: Readers, deps: DepsDep) -> list[EvidenceOut]:
    """Returns the notice's items with their checks and flags; a court sees only its own notices' (others answer 404); the read is audited."""
    return [_out(item) for item in await handlers.notice_items(deps, principal=principal, notice_id=notice_id, client=_client(request))]


@courts.put("/courts/{court_id}/webhook", response_model=WebhookOut, summary="Register where the court's reports are pushed")
async def register(court_id: CourtId, body: WebhookIn, principal: Registrars, deps: DepsDep) -> WebhookOut:
    """Registers (or moves) the court's webhook and returns a new signing secret, shown this once; an internal address is refused."""
    hook = await handlers.register_webhook(deps, principal=principal, court_id=court_id, url=str(body.url))
    return WebhookOut(court_id=court_id, url=hook.url, registered_at=hook.registered_at, secret=hook.secret)


@courts.get("/courts/{court_id}/webhook", response_model=WebhookOut, summary="The court's registered webhook")
async def registered(court_id: CourtId, principal: Registrars, deps: DepsDep) -> WebhookOut:
    """Returns the court's webhook without its secret."""
    hook = await handlers.read_webhook(deps, principal=principal, court_id=court_id)
    return WebhookOut(court_id=court_id, url=hook.url, registered_at=hook.registered_at)


# The numbers courts are judged by (docs/kpis.md): a court sees its own court's, overseers any court's or all.

kpis_router = APIRouter(prefix="/v1", tags=["kpis"])
KpiReaders = Annotated[Principal, Depends(require(Role.court, Role.supervisor, Role.auditor, Role.service))]
Month = Annotated[str, Path(pattern=r"^20\d{2}-(0[1-9]|1[0-2])$", description="the month (2000–2099), as 2026-11")]


class RateOut(BaseModel):
    """A share: `numerator` of `denominator`, and its value (null over nothing)."""

    numerator: int
    denominator: int
    value: float | None


class DurationsOut(BaseModel):
    """How long serving took: over how many recipients, the median and the 90th percentile, in hours."""

    count: int
    median_hours: float | None
    p90_hours: float | None


class FiguresOut(BaseModel):
    """Every KPI over one group of notice recipients (each defined in docs/kpis.md)."""

    notices: int
    recipients: int
    settled: int
    served: int
    open: int
    success: RateOut
    success_by_tier: dict[Tier, RateOut]
    success_by_method: dict[ServiceMethod, RateOut]
    time_to_serve: DurationsOut
    time_to_serve_by_method: dict[ServiceMethod, DurationsOut]
    within_3_working_days: RateOut
    overdue: RateOut
    first_attempt: RateOut
    electronic: RateOut
    cost_fen: int
    cost_per_notice_fen: float | None
    cost_by_item_fen: dict[kpis.Item, int]
    cost_per_notice_by_item_fen: dict[kpis.Item, float]
    uncosted_attempts: int


class KpiGroupOut(BaseModel):
    """The figures of one court, agent ("" for none) or ISO week, and its name as the sheets show it."""

    key: str
    label: str
    figures: FiguresOut


class KpisOut(BaseModel):
    """The KPIs over the notices received (Beijing dates) from `from` to `to`, in total and per group."""

    model_config = ConfigDict(populate_by_name=True)

    court_id: str | None
    start: date | None = Field(serialization_alias="from")
    end: date | None = Field(serialization_alias="to")
    by: kpis.Grouping | None
    as_of: datetime
    total: FiguresOut
    groups: list[KpiGroupOut]


def _rate(rate: kpis.Rate) -> RateOut:
    return RateOut(numerator=rate.numerator, denominator=rate.denominator, value=None if rate.value is None else float(rate.value))


def _hours(duration: timedelta | None) -> float | None:
    return None if duration is None else duration.total_seconds() / 3600


def _durations(durations: kpis.Durations) -> DurationsOut:
    return DurationsOut(count=durations.count, median_hours=_hours(durations.median), p90_hours=_hours(durations.p90))


def _figures(f: kpis.Figures) -> FiguresOut:
    return FiguresOut(
        notices=f.notices,
        recipients=f.recipients,
        settled=f.settled,
        served=f.served,
        open=f.open,
        success=_rate(f.success),
        success_by_tier={tier: _rate(rate) for tier, rate in f.success_by_tier.items()},
        success_by_method={method: _rate(rate) for method, rate in f.success_by_method.items()},
        time_to_serve=_durations(f.time_to_serve),
        time_to_serve_by_method={method: _durations(d) for method, d in f.time_to_serve_by_method.items()},
        within_3_working_days=_rate(f.within_working_days),
        overdue=_rate(f.overdue),
        first_attempt=_rate(f.first_attempt),
        electronic=_rate(f.electronic),
        cost_fen=f.cost_fen,
        cost_per_notice_fen=None if f.cost_per_notice_fen is None else float(f.cost_per_notice_fen),
        cost_by_item_fen=f.cost_by_item_fen,
        cost_per_notice_by_item_fen={item: float(value) for item, value in f.cost_per_notice_by_item_fen.items()},
        uncosted_attempts=f.uncosted_attempts,
    )


async def _read_kpis(principal: Principal, deps: EvidenceDeps, *, court_id: str | None, start: date | None, end: date | None, by: kpis.Grouping | None) -> handlers.Kpis:
    if start and end and start > end:
        raise Problem(422, "Invalid range", "to: the range ends before it starts", kind="validation", errors=[{"field": "to", "message": "must not be before from"}])
    return await handlers.read_kpis(deps, principal=principal, court_id=court_id, start=start, end=end, by=by)


KpiCourt = Annotated[str | None, Query(pattern=r"^[A-Z0-9]{2,16}$", description="one court; a court's token reads its own")]
From = Annotated[date | None, Query(alias="from", description="first day of receipt (Beijing), included")]
To = Annotated[date | None, Query(description="last day of receipt (Beijing), included")]
By = Annotated[kpis.Grouping | None, Query(description="split per court, agent or ISO week")]


@kpis_router.get("/kpis", response_model=KpisOut, summary="The KPIs courts are judged by, for a date range, per court, agent or week")
async def read_kpis(principal: KpiReaders, deps: DepsDep, court_id: KpiCourt = None, start: From = None, to: To = None, by: By = None) -> KpisOut:
    """Returns success rates, time to serve, the share served within 3 working days, the overdue rate, first-attempt success, the electronic share and costs."""
    return kpis_out(await _read_kpis(principal, deps, court_id=court_id, start=start, end=to, by=by))


def kpis_out(result: handlers.Kpis) -> KpisOut:
    """Returns the KPIs as the API shows them."""
    groups = [KpiGroupOut(key=key, label=kpi_sheets.group_label(key, result.by, result.court_names), figures=_figures(f)) for key, f in result.groups]
    return KpisOut(court_id=result.court_id, start=result.start, end=result.end, by=result.by, as_of=result.as_of, total=_figures(result.total), groups=groups)


_CSV: dict[int | str, dict[str, Any]] = {200: {"content": {"text/csv": {}}, "description": "The groups and their total, a row each, UTF-8 with a byte-order mark"}}


@kpis_router.get("/kpis.csv", summary="The KPIs as CSV for Excel (same query as /v1/kpis)", response_class=Response, responses=_CSV)
async def kpis_csv(principal: KpiReaders, deps: DepsDep, court_id: KpiCourt = None, start: From = None, to: To = None, by: By = None) -> Response:
    """Returns the table the dashboard shows, in Chinese, one row per group and a total row."""
    result = await _read_kpis(principal, deps, court_id=court_id, start=start, end=to, by=by)
    name = f"kpis-{court_id or result.court_id or 'all'}-{start or 'start'}-{to or 'now'}.csv"
    return Response(kpi_sheets.to_csv(result), media_type="text/csv; charset=utf-8", headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _month(month: str) -> date:
    return date.fromisoformat(f"{month}-01")


_PDF: dict[int | str, dict[str, Any]] = {200: {"content": {"application/pdf": {}}, "description": "The monthly supervision report, A4"}}
_XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_XLSX: dict[int | str, dict[str, Any]] = {200: {"content": {_XLSX_TYPE: {}}, "description": "The monthly supervision report as a workbook: 汇总, 按周, 按送达人员"}}


@kpis_router.get("/kpis/monthly/{court_id}/{month}.pdf", summary="A court's monthly supervision report (月度考核报表) as PDF", response_class=Response, responses=_PDF)
async def monthly_pdf(court_id: CourtId, month: Month, principal: KpiReaders, deps: DepsDep) -> Response:
    """Returns the month's figures, per week and per agent, in Chinese; another court's answers as a court without notices (404)."""
    monthly = await handlers.monthly_kpis(deps, principal=principal, court_id=court_id, month=_month(month))
    body = await asyncio.to_thread(kpi_sheets.render_monthly_pdf, monthly)
    return Response(body, media_type="application/pdf", headers={"Content-Disposition": f'inline; filename="monthly-{court_id}-{month}.pdf"'})


@kpis_router.get("/kpis/monthly/{court_id}/{month}.xlsx", summary="A court's monthly supervision report (月度考核报表) as Excel", response_class=Response, responses=_XLSX)
async def monthly_xlsx(court_id: CourtId, month: Month, principal: KpiReaders, deps: DepsDep) -> Response:
    """Returns the month's figures as a workbook; another court's answers as a court without notices (404)."""
    monthly = await handlers.monthly_kpis(deps, principal=principal, court_id=court_id, month=_month(month))
    body = await asyncio.to_thread(kpi_sheets.to_xlsx, monthly)
    return Response(body, media_type=_XLSX_TYPE, headers={"Content-Disposition": f'attachment; filename="monthly-{court_id}-{month}.xlsx"'})
