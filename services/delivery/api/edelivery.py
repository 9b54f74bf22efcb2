"""The e-delivery page `GET /e/{token}` and its acknowledgement: what a lawyer or party opens from the link."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import structlog
from fastapi import APIRouter, Depends, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from services.delivery.deps import DeliveryDeps, DepsDep
from services.delivery.handlers import edelivery
from services.delivery.handlers.edelivery import Refused
from shared.contracts.events import Disposition
from shared.plumbing.clock import SHANGHAI
from shared.plumbing.documents import OFD, PDF, served_headers
from shared.plumbing.headers import PAGE_CSP
from shared.plumbing.openapi import page, problem_or_page
from shared.plumbing.ratelimit import limited, missed

log = structlog.get_logger(__name__)

_templates = Environment(loader=FileSystemLoader(Path(__file__).parent.parent / "templates"), autoescape=select_autoescape(["html"]))

# The page is for the recipient alone: no caching by proxies, no referrer leaking the token, never inside another site's frame.
_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex", "Content-Security-Policy": PAGE_CSP}


def _page(status: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(_templates.get_template("edelivery.html").render(**context), status_code=status, headers=_HEADERS)


def _too_many() -> HTMLResponse:
    return _page(429, title="访问过于频繁", error="此网络地址访问送达链接过于频繁，请稍后再试。如需帮助，请联系送达法院。")


# Link tokens are unguessable, and guessing is stopped besides: an address that opened too many unknown links is refused for a while.
router = APIRouter(tags=["e-delivery"], dependencies=[Depends(limited("edelivery", misses="edelivery_misses", page=_too_many))], responses={429: problem_or_page(429)})

_REFUSALS: dict[int | str, dict[str, Any]] = {404: page(404, "No such link (or document)"), 410: page(410, "The link has expired")}
Token = Annotated[str, PathParam(min_length=16, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")]
_REFUSAL_PAGES = {
    404: {"title": "链接无效", "error": "该送达链接不存在。请核对短信或邮件中的链接，或联系送达法院。"},
    410: {"title": "链接已过期", "error": "该送达链接已过有效期。请联系送达法院重新送达。"},
}


def _local(dt: datetime) -> str:
    return dt.astimezone(SHANGHAI).strftime("%Y年%m月%d日 %H:%M")


def _refusal(request: Request, refused: Refused) -> HTMLResponse:
    missed(request, "edelivery_misses")
    return _page(refused.status, **_REFUSAL_PAGES[refused.status])


def browser(request: Request) -> tuple[str | None, str]:
    """Returns the browser's address (behind the console, from its X-Forwarded-For, which uvicorn applies) and its User-Agent, cut to 300 characters."""
    return (request.client.host if request.client else None), request.headers.get("user-agent", "")[:300]


@router.get("/e/{token}", response_class=HTMLResponse, summary="The e-delivery page (Chinese)", responses=_REFUSALS)
async def delivery_page(token: Token, request: Request, deps: DepsDep) -> HTMLResponse:
    """Shows the notice and its documents to the holder of an unexpired link, and notes the first opening."""
    shown = await edelivery.open_page(deps, token=token)
    if isinstance(shown, Refused):
        return _refusal(request, shown)
    notice, link = shown.notice, shown.link
    return _page(
        title=f"{notice.case_number} 电子送达",
        court_name=notice.court_name,
        recipient_name=shown.recipient_name,
        case_number=notice.case_number,
        cause=notice.cause,
        expires=_local(link.expires_at),
        documents=notice.documents,
        ofd=OFD,
        acknowledged=_local(link.acknowledged_at) if link.acknowledged_at else None,
        base=f"/e/{token}",
    )


_DOCUMENT_ANSWERS: dict[int | str, dict[str, Any]] = _REFUSALS | {
    200: {"description": "The document's file", "content": {PDF: {"schema": {"type": "string", "format": "binary"}}, OFD: {}}},
    500: page(500, "The stored file no longer matches its sha256"),
    503: page(503, "The document's file is missing from the store"),
}
Number = Annotated[int, PathParam(ge=1, le=1000)]
_UNAVAILABLE = {
    503: {"title": "文书暂时无法打开", "error": "该文书的电子文件暂时无法读取，系统已通知管理员。请稍后再试，或联系送达法院。"},
    500: {"title": "文书无法打开", "error": "该文书的电子文件校验未通过，为保证送达内容真实，系统不予显示，并已通知管理员。请联系送达法院。"},
}


@router.get("/e/{token}/documents/{number}", response_class=Response, summary="Show one document of the notice in the browser (each opening recorded)", responses=_DOCUMENT_ANSWERS)
async def view_document(token: Token, number: Number, request: Request, deps: DepsDep) -> Response:
    """Serves the listed document's file inline to the link's holder, and records the opening (time, IP address, browser) as delivery.DocumentOpened."""
    return await _document(token, number, Disposition.view, request, deps)


@router.get("/e/{token}/documents/{number}/download", response_class=Response, summary="Download one document of the notice (each download recorded)", responses=_DOCUMENT_ANSWERS)
async def download_document(token: Token, number: Number, request: Request, deps: DepsDep) -> Response:
    """Serves the listed document's file as an attachment to the link's holder, and records the download as delivery.DocumentOpened."""
    return await _document(token, number, Disposition.download, request, deps)


async def _document(token: str, number: int, disposition: Disposition, request: Request, deps: DeliveryDeps) -> Response:
    ip, user_agent = browser(request)
    found = await edelivery.open_document(deps, token=token, number=number, disposition=disposition, ip=ip, user_agent=user_agent)
    if isinstance(found, Refused):
        if found.unavailable:
            return _page(found.status, **_UNAVAILABLE[found.status])
        return _page(404, title="文书不存在", error="该文书不存在。") if found.no_document else _refusal(request, found)
    kind = "inline" if disposition is Disposition.view else "attachment"
    served = served_headers(sha256=found.sha256, title=found.title, content_type=found.content_type, disposition=kind)
    return Response(found.data, media_type=found.content_type, headers={**_HEADERS, **served})


@router.post(
    "/e/{token}/ack",
    summary="Acknowledge the documents",
    response_model=None,
    status_code=303,
    responses=_REFUSALS | {303: {"description": "Acknowledged; back to the page"}, 403: page(403, "The acknowledgement did not come from the e-delivery page itself")},
)
async def acknowledge(token: Token, request: Request, deps: DepsDep) -> RedirectResponse | HTMLResponse:
    """Records the acknowledgement once, with time, IP address and browser, then shows the page again; only from the page's own origin."""
    if not from_origin(request, deps.setup.public_url):
        log.warning("edelivery.foreign_acknowledgement", origin=request.headers.get("origin"))
        return _page(403, title="无法确认", error="确认须在送达页面上点击“确认收到”按钮完成。请重新打开短信或邮件中的链接。")
    ip, user_agent = browser(request)
    refused = await edelivery.acknowledge(deps, token=token, ip=ip, user_agent=user_agent)
    if refused is not None:
        return _refusal(request, refused)
    return RedirectResponse(f"/e/{token}", status_code=303, headers=_HEADERS)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def from_origin(request: Request, public_url: str) -> bool:
    """Tells whether a form post came from our own page: its Origin (or, failing that, its Referer) is the public URL's origin."""
    sent = request.headers.get("origin") or request.headers.get("referer")
    return sent is not None and sent != "null" and _origin(sent) == _origin(public_url)
