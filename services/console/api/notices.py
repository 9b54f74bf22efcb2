"""The notice list (a filter kept in the address, a page of notices, a link to the next), a notice's own page, and the files it links: documents, thumbnails and report versions."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from services.console import access, notice_filter
from services.console.api.guards import SignedIn
from services.console.deps import DepsDep
from services.console.handlers import notice_page, notices
from services.console.pages import render
from shared.plumbing.auth import Role

router = APIRouter(include_in_schema=False)

NoticeId = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
EvidenceId = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Sha256 = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$")]
Version = Annotated[int | None, Query(ge=1, le=2**31 - 1)]
# Personal data that must never be run as a page of ours, whatever it holds, nor kept in a cache.
FILE_HEADERS = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'none'; sandbox"}
# Evidence's report page carries its own inline style sheet; it is shown sandboxed, running nothing.
REPORT_PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'; frame-ancestors 'none'; base-uri 'none'; sandbox"
# What a document's file is called when saved, by its type; a browser shows a PDF itself, an OFD needs a reader.
SUFFIXES = {"application/pdf": ".pdf", "application/ofd": ".ofd"}


def _disposition(kind: Literal["inline", "attachment"], title: str, suffix: str) -> str:
    """Returns a Content-Disposition naming the file by its title in UTF-8 (RFC 6266), and plainly for browsers that read only ASCII."""
    plain = title if title.isascii() and title.isprintable() and '"' not in title else "document"
    return f"{kind}; filename=\"{quote(plain)}{suffix}\"; filename*=UTF-8''{quote(title + suffix)}"


@router.get("/notices", response_class=HTMLResponse)
async def notice_list(request: Request, visitor: SignedIn, deps: DepsDep) -> Response:
    """Lists the notices the filter picks by due date, with their status, 预警 and 超期, recipients and agents; the filter goes in the address (a GET form)."""
    access.admit(visitor, access.NOTICES)
    query = dict(request.query_params)
    if visitor.role is Role.court:
        # Delivery shows a court its own notices only: a court to choose is no filter for it.
        query.pop("court", None)
    wanted, errors = notice_filter.read(query)
    found = await notices.listing(deps, visitor=visitor, wanted=wanted, errors=errors)
    status = 422 if found.errors else 200
    return render("notices.html", request=request, status=status, wanted=wanted, listing=found, path="/notices", submits=access.may(visitor, access.SUBMIT))


@router.get("/notices/{notice_id}", response_class=HTMLResponse)
async def notice(notice_id: NoticeId, request: Request, visitor: SignedIn, deps: DepsDep, submitted: Annotated[bool, Query()] = False) -> Response:
    """Shows a notice: its header, each recipient's progress, the documents, the evidence with thumbnails, the report's versions and the timeline; another court's is the 404 page."""
    access.admit(visitor, access.NOTICES)
    shown = await notice_page.notice_page(deps, visitor=visitor, notice_id=notice_id)
    return render("notice.html", request=request, page=shown, submitted=submitted)


@router.get("/notices/{notice_id}/documents/{sha256}")
async def document(notice_id: NoticeId, sha256: Sha256, visitor: SignedIn, deps: DepsDep, download: Annotated[bool, Query()] = False) -> Response:
    """Hands over a document of the notice from intake: a PDF shown in the browser (or saved, with `download`), an OFD saved."""
    access.admit(visitor, access.NOTICES)
    named, content = await notice_page.document(deps, visitor=visitor, notice_id=notice_id, sha256=sha256)
    media_type = content.content_type.split(";", 1)[0].strip().lower()
    kind: Literal["inline", "attachment"] = "inline" if media_type == "application/pdf" and not download else "attachment"
    headers = FILE_HEADERS | {"Content-Disposition": _disposition(kind, named.title, SUFFIXES.get(media_type, ""))}
    return Response(content.data, media_type=media_type, headers=headers)


@router.get("/evidence/{evidence_id}/thumbnail")
async def thumbnail(evidence_id: EvidenceId, visitor: SignedIn, deps: DepsDep) -> Response:
    """Hands over a picture's thumbnail (a small JPEG without EXIF) from evidence, with the person's token."""
    access.admit(visitor, access.EVIDENCE)
    image = await notice_page.thumbnail(deps, visitor=visitor, evidence_id=evidence_id)
    return Response(image.data, media_type="image/jpeg", headers=FILE_HEADERS | {"Content-Disposition": f'inline; filename="thumbnail-{evidence_id}.jpg"'})


@router.get("/notices/{notice_id}/report")
async def report_pdf(notice_id: NoticeId, visitor: SignedIn, deps: DepsDep, version: Version = None) -> Response:
    """Opens a version of the notice's delivery report (送达报告; the newest by default) as PDF in the browser, with the person's token."""
    access.admit(visitor, access.REPORTS)
    pdf = await notice_page.report(deps, visitor=visitor, notice_id=notice_id, form="pdf", version=version)
    name = f"report-{notice_id}" + (f"-v{version}" if version else "") + ".pdf"
    return Response(pdf.data, media_type="application/pdf", headers=FILE_HEADERS | {"Content-Disposition": f'inline; filename="{name}"'})


@router.get("/notices/{notice_id}/report.html")
async def report_html(notice_id: NoticeId, visitor: SignedIn, deps: DepsDep, version: Version = None) -> Response:
    """Shows a version of the notice's delivery report as evidence lays it out as a page, sandboxed."""
    access.admit(visitor, access.REPORTS)
    page = await notice_page.report(deps, visitor=visitor, notice_id=notice_id, form="html", version=version)
    headers = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff", "Content-Security-Policy": REPORT_PAGE_CSP}
    return Response(page.data, media_type="text/html; charset=utf-8", headers=headers)
