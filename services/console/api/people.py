"""Signing in and out, and where each role lands: `/login`, `/logout`, `/` and `/welcome`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.console import csrf
from services.console.api.guards import Acting, Current, SignedIn, client
from services.console.deps import ConsoleDeps, DepsDep
from services.console.domain import landing
from services.console.errors import CSRF_REFUSED
from services.console.handlers import people
from services.console.handlers.people import Attempt, Refused
from services.console.pages import render
from services.console.posted import answer, submitted
from services.console.sessions import COOKIE
from services.console.texts import FieldError

router = APIRouter(include_in_schema=False)

# Long enough to type a password on a phone; the form is simply shown again after it.
LOGIN_NONCE_S = 3600


def _safe_next(target: str | None) -> str | None:
    """Returns a path on this site to go on to after sign-in, never another site (no open redirect)."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\", "/login")):
        return target
    return None


def _login_page(
    request: Request, deps: ConsoleDeps, *, status: int = 200, errors: Sequence[FieldError] = (), username: str = "", next_path: str | None = None, notice: str = ""
) -> HTMLResponse:
    """Renders the sign-in form with a new nonce in its cookie and the token that goes with it in the form."""
    login_forms: csrf.LoginForms = request.app.state.login_forms
    nonce = login_forms.nonce()
    context: dict[str, Any] = {"errors": list(errors), "username": username, "next_path": next_path or "", "notice": notice, "attempts": deps.policy.attempts}
    response = render("login.html", request=request, status=status, csrf_token=login_forms.token(nonce), **context)
    response.set_cookie(csrf.LOGIN_COOKIE, nonce, max_age=LOGIN_NONCE_S, path="/login", secure=request.app.state.secure_cookies, httponly=True, samesite="strict")
    return response


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request, visitor: Current, deps: DepsDep, next: Annotated[str | None, Query(max_length=300)] = None, signed_out: bool = False) -> Response:
    """Shows the sign-in form, or sends a signed-in person on."""
    if visitor is not None:
        return RedirectResponse(_safe_next(next) or landing(visitor.role), status_code=303)
    return _login_page(request, deps, next_path=_safe_next(next), notice="您已安全退出。" if signed_out else "")


def _refusal(refused: Refused, deps: ConsoleDeps) -> list[FieldError]:
    minutes = round(deps.policy.lockout.total_seconds() / 60)
    if refused.shown is Attempt.locked:
        return [FieldError("username", f"登录失败次数过多，此账号已暂时锁定。请 {minutes} 分钟后再试，或联系送达主管。")]
    if refused.shown is Attempt.disabled:
        return [FieldError("username", "此账号已停用。如有疑问，请联系送达主管。")]
    return [FieldError("password", "用户名或密码不正确，请重新输入")]


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request, visitor: Current, deps: DepsDep) -> Response:
    """Signs in; wrong details, a locked or a disabled account show the form again saying so, never whether the username exists."""
    form = await submitted(request)
    login_forms: csrf.LoginForms = request.app.state.login_forms
    if not login_forms.valid(request.cookies.get(csrf.LOGIN_COOKIE), answer(form, csrf.FIELD, longest=200)):
        raise CSRF_REFUSED
    username, next = answer(form, "username", longest=200), answer(form, "next", longest=300)
    # Not tidied: a password is exactly what was typed.
    password = value if isinstance(value := form.get("password"), str) else ""
    missing = [FieldError(name, message) for name, message, value in (("username", "请输入用户名", username), ("password", "请输入密码", password)) if not value.strip()]
    if missing:
        return _login_page(request, deps, status=422, errors=missing, username=username, next_path=_safe_next(next))
    outcome = await people.sign_in(deps, username=username, password=password, client=client(request), replacing=visitor.session_id if visitor else None)
    if isinstance(outcome, Refused):
        return _login_page(request, deps, status=200, errors=_refusal(outcome, deps), username=username, next_path=_safe_next(next))
    response = RedirectResponse(_safe_next(next) or landing(outcome.visitor.role), status_code=303)
    response.set_cookie(COOKIE, outcome.token, path="/", secure=request.app.state.secure_cookies, httponly=True, samesite="lax")
    response.delete_cookie(csrf.LOGIN_COOKIE, path="/login")
    return response


@router.post("/logout")
async def logout(request: Request, visitor: Acting, deps: DepsDep) -> Response:
    """Ends the session and shows the sign-in form."""
    await people.sign_out(deps, visitor=visitor, client=client(request))
    response = RedirectResponse("/login?signed_out=true", status_code=303)
    response.delete_cookie(COOKIE, path="/", secure=request.app.state.secure_cookies, httponly=True, samesite="lax")
    return response


@router.get("/")
async def home(visitor: SignedIn) -> Response:
    """Sends each role to where it starts."""
    return RedirectResponse(landing(visitor.role), status_code=303)


@router.get("/welcome", response_class=HTMLResponse)
async def welcome(request: Request, visitor: SignedIn) -> Response:
    """Says what the person's role can do in the console now."""
    return render("welcome.html", request=request, title="首页")
