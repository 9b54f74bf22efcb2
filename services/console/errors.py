"""The console's refusals as Chinese pages (or fragments, for htmx): 403, 404, 5xx and a service that is down; the API paths keep problem+json."""

from __future__ import annotations

from urllib.parse import quote

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.console import texts
from services.console.adapters.calls import ServiceRefused, ServiceUnavailable
from services.console.pages import is_htmx, render
from shared.plumbing.problems import Problem, problem_response, validation_problem

log = structlog.get_logger(__name__)

# The JSON surfaces every service has; everything else is a page.
API_PATHS = ("/v1/", "/healthz", "/openapi.json")


class PageError(Exception):
    """A refusal shown as a Chinese page: its status, heading and what to do."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(title)
        self.status = status
        self.title = title
        self.message = message


class SignInFirst(Exception):
    """The request needs a signed-in person, and there is none (or the session ended)."""


PAGES: dict[int, tuple[str, str]] = {
    400: ("请求无效", "请求的内容无法识别。请返回上一页重新操作。"),
    403: ("无权访问", "您的账号无权查看或办理此项内容。如有疑问，请联系送达主管。"),
    404: ("找不到页面", "您要找的页面或任务不存在，或不在您的任务中。请返回今日任务。"),
    405: ("无法这样访问", "此页面不能这样打开。请返回上一页重新操作。"),
    409: ("操作未能完成", "该任务的状态已经改变（可能已记录过结果）。请返回任务列表查看。"),
    413: ("文件过大", "上传的文件过大。请压缩或重新拍摄后再试。"),
    422: ("提交的内容有误", "提交的内容无法处理。请返回上一页核对后重新提交。"),
    429: ("操作过于频繁", "操作过于频繁，请稍后再试。"),
    500: ("系统出错", "系统暂时出错，您的操作可能未完成。请稍后重试；如问题持续，请联系送达主管。"),
    503: ("服务暂时不可用", "送达服务暂时不可用，请稍后重试"),
}
CSRF_REFUSED = PageError(403, "页面已失效", "页面已过期或请求来源无法验证，操作未执行。请返回上一页，刷新后重新操作。")


def page(request: Request, status: int, title: str | None = None, message: str | None = None) -> Response:
    """Renders a refusal: the whole page, or for htmx the box that replaces the part it asked for."""
    default_title, default_message = PAGES.get(status, PAGES[500] if status >= 500 else PAGES[400])
    template = "_error.html" if is_htmx(request) else "error.html"
    return render(template, request=request, status=status, title=title or default_title, message=message or default_message)


def unavailable(request: Request, service: str) -> Response:
    """Renders the page for a service that is down: 送达服务暂时不可用，请稍后重试."""
    name = texts.SERVICE_NAMES.get(service, "送达服务")
    return page(request, 503, message=f"{name}暂时不可用，请稍后重试")


def sign_in_first(request: Request) -> Response:
    """Sends the browser to the sign-in page, then back (htmx is told to go there itself)."""
    target = "/login"
    if request.method == "GET" and request.url.path not in ("/", "/login"):
        target += "?next=" + quote(request.url.path, safe="/")
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


def install(app: FastAPI) -> None:
    """Answers every refusal on a page path as a Chinese page; the API paths keep their problem+json."""

    def api(request: Request) -> bool:
        return request.url.path.startswith(API_PATHS)

    async def on_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Problem)
        return problem_response(exc, request) if api(request) else page(request, exc.status)

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if api(request):
            title = {400: "Bad request", 404: "Not found", 405: "Method not allowed"}.get(exc.status_code, "Error")
            return problem_response(Problem(exc.status_code, title, exc.detail if isinstance(exc.detail, str) else title, headers=exc.headers), request)
        return page(request, exc.status_code)

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        # A page's path or query that does not parse names nothing the person has: as missing as a wrong id.
        return problem_response(validation_problem(exc.errors()), request) if api(request) else page(request, 404)

    async def on_page_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, PageError)
        return page(request, exc.status, exc.title, exc.message)

    async def on_sign_in_first(request: Request, exc: Exception) -> Response:
        return sign_in_first(request)

    async def on_unavailable(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ServiceUnavailable)
        return unavailable(request, exc.service)

    async def on_refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ServiceRefused)
        # A service's 401 never reaches here (the adapter counts it as unavailable); another's object is a 404 there too.
        return page(request, exc.status if exc.status in PAGES else 400)

    async def on_error(request: Request, exc: Exception) -> Response:
        log.error("console.page_failed", path=request.url.path, error=type(exc).__name__)
        return page(request, 500)

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(PageError, on_page_error)
    app.add_exception_handler(SignInFirst, on_sign_in_first)
    app.add_exception_handler(ServiceUnavailable, on_unavailable)
    app.add_exception_handler(ServiceRefused, on_refused)
    app.add_exception_handler(Exception, on_error)
