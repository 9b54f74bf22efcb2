"""The console's sessions: a cookie whose token only the browser holds, idle and absolute ends, signing out, disabled users, and where sign-in leads."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from services.console.config import ConsoleSettings
from services.console.csrf import LOGIN_COOKIE
from services.console.handlers import people
from services.console.handlers.people import SignedIn
from services.console.models import ConsoleSession
from services.console.sessions import COOKIE
from shared.plumbing.settings import CommonSettings, Environment
from tests import consoles
from tests.consoles import NOW, PASSWORD, Console, hidden, on_wall, sign_in, signed_in
from tests.support import SECRET


@pytest.fixture
async def console(tmp_path: Path) -> AsyncIterator[Console]:
    async with consoles.console(tmp_path) as built:
        yield built


async def stored_sessions(console: Console) -> list[ConsoleSession]:
    async with console.deps.db.sessions() as session:
        return list((await session.exec(select(ConsoleSession))).all())


async def opened(console: Console, username: str = "agent-1") -> SignedIn:
    signed = await people.sign_in(console.deps, username=username, password=PASSWORD, client=None)
    assert isinstance(signed, SignedIn)
    return signed


async def test_the_session_cookie_is_httponly_samesite_lax_and_secure_and_only_its_hash_is_stored(console: Console) -> None:
    await console.add("agent-1")
    async with console.browser() as browser:
        answer = await sign_in(browser, "agent-1")
    assert answer.status_code == 303 and answer.headers["location"] == "/today"
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith(f"{COOKIE}="))
    token = cookie.split(";")[0].split("=", 1)[1]
    assert {"HttpOnly", "Secure", "SameSite=lax", "Path=/"} <= {part.strip() for part in cookie.split(";")}
    [stored] = await stored_sessions(console)
    assert stored.id == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(stored.model_dump()) and len(stored.csrf_token) >= 43


async def test_in_development_the_cookie_is_not_secure_and_elsewhere_it_must_be(tmp_path: Path) -> None:
    async with consoles.console(tmp_path, secure_cookies=None) as built:
        assert built.app.state.secure_cookies is True
    development = ConsoleSettings(common=CommonSettings(env=Environment.development))
    assert development.cookies_secure is False and ConsoleSettings(common=CommonSettings(env=Environment.development), secure_cookies=True).cookies_secure
    with pytest.raises(ValueError, match="CONSOLE_SECURE_COOKIES=false is allowed in development only"):
        ConsoleSettings(secure_cookies=False, common=CommonSettings(env=Environment.test, jwt_secret=SECRET))


async def test_a_session_ends_after_the_idle_time_without_a_request(console: Console) -> None:
    wall = on_wall(console)
    await console.add("agent-1")
    signed = await opened(console)
    wall.at = NOW + timedelta(minutes=29)
    assert await people.visit(console.deps, token=signed.token) == signed.visitor
    wall.at = NOW + timedelta(minutes=29 + 30)
    assert await people.visit(console.deps, token=signed.token) is None
    assert await stored_sessions(console) == []


async def test_a_session_in_use_still_ends_at_its_absolute_end(console: Console) -> None:
    wall = on_wall(console)
    await console.add("agent-1")
    signed = await opened(console)
    while wall.at < NOW + timedelta(hours=12) - timedelta(minutes=10):
        wall.at += timedelta(minutes=10)
        assert await people.visit(console.deps, token=signed.token) is not None, wall.at
    wall.at = NOW + timedelta(hours=12)
    assert await people.visit(console.deps, token=signed.token) is None


async def test_last_seen_is_noted_at_most_once_a_minute(console: Console) -> None:
    wall = on_wall(console)
    await console.add("agent-1")
    signed = await opened(console)
    wall.at = NOW + timedelta(seconds=59)
    await people.visit(console.deps, token=signed.token)
    assert [s.last_seen for s in await stored_sessions(console)] == [NOW]
    wall.at = NOW + timedelta(seconds=60)
    await people.visit(console.deps, token=signed.token)
    assert [s.last_seen for s in await stored_sessions(console)] == [NOW + timedelta(seconds=60)]


async def test_an_unknown_token_opens_nothing(console: Console) -> None:
    await console.add("agent-1")
    signed = await opened(console)
    assert await people.visit(console.deps, token=signed.token + "x") is None
    assert await people.visit(console.deps, token=hashlib.sha256(signed.token.encode()).hexdigest()) is None


async def test_signing_out_ends_the_session_for_good_and_is_audited(console: Console) -> None:
    await console.add("agent-1")
    async with console.browser() as browser:
        token = await signed_in(browser, "agent-1")
        stolen = browser.cookies[COOKIE]
        answer = await browser.post("/logout", data={"csrf_token": token})
        assert answer.status_code == 303 and answer.headers["location"] == "/login?signed_out=true"
        assert "您已安全退出" in (await browser.get("/login?signed_out=true")).text
    async with console.browser() as replay:
        replay.cookies.set(COOKIE, stolen, domain="console.test")
        assert (await replay.get("/welcome")).headers["location"] == "/login?next=/welcome"
    [entry] = await console.audit("console.sign_out")
    assert (entry.actor_sub, entry.target, entry.client) == ("agent-1", "user:agent-1", consoles.CLIENT[0])


async def test_disabling_a_user_ends_their_sessions_at_once(console: Console) -> None:
    await console.add("agent-1")
    async with console.browser() as browser:
        await signed_in(browser, "agent-1")
        assert (await browser.get("/welcome")).status_code == 200
        await people.disable_user(console.deps, username="agent-1")
        assert (await browser.get("/welcome")).status_code == 303
    assert await stored_sessions(console) == []


async def test_signing_in_again_replaces_the_browsers_earlier_session(console: Console) -> None:
    await console.add("agent-1")
    await console.add("agent-2")
    async with console.browser() as browser:
        # A second tab opened the form before the first signed in.
        form = await browser.get("/login")
        nonce = browser.cookies[LOGIN_COOKIE]
        await signed_in(browser, "agent-1")
        first = browser.cookies[COOKIE]
        assert (await browser.get("/login")).status_code == 303, "a signed-in person is sent on"
        browser.cookies.set(LOGIN_COOKIE, nonce, domain="console.test", path="/login")
        answer = await browser.post("/login", data={"username": "agent-2", "password": PASSWORD, "csrf_token": hidden(form.text, "csrf_token")})
        assert answer.status_code == 303, answer.text
        assert browser.cookies[COOKIE] != first
    assert [s.id for s in await stored_sessions(console)] == [hashlib.sha256(browser.cookies[COOKIE].encode()).hexdigest()]


@pytest.mark.parametrize(("target", "landing"), [("/tasks/t-1", "/tasks/t-1"), ("//elsewhere.example/x", "/today"), ("/login", "/today"), ("https://elsewhere.example", "/today")])
async def test_sign_in_goes_back_to_the_page_asked_for_on_this_site_only(console: Console, target: str, landing: str) -> None:
    await console.add("agent-1")
    async with console.browser() as browser:
        form = await browser.get("/login", params={"next": target})
        answer = await browser.post("/login", data={"username": "agent-1", "password": PASSWORD, "csrf_token": hidden(form.text, "csrf_token"), "next": hidden(form.text, "next")})
    assert answer.headers["location"] == landing


async def test_a_page_asked_for_without_a_session_leads_to_sign_in_and_htmx_is_told_to_go_there(console: Console) -> None:
    async with console.browser() as browser:
        assert (await browser.get("/")).headers["location"] == "/login"
        assert (await browser.get("/welcome")).headers["location"] == "/login?next=/welcome"
        fragment = await browser.get("/welcome", headers={"HX-Request": "true"})
    assert (fragment.status_code, fragment.headers["HX-Redirect"]) == (204, "/login?next=/welcome")


async def test_each_role_lands_where_it_can_work(console: Console) -> None:
    from shared.plumbing.auth import Role

    await console.add("court-1", Role.court, "C371002")
    await console.add("firm-1", Role.lawyer, "91370000MA3C5X2L4X")
    async with console.browser() as browser:
        answer = await sign_in(browser, "firm-1")
        assert answer.headers["location"] == "/inbox"
    async with console.browser() as browser:
        answer = await sign_in(browser, "court-1")
        assert answer.headers["location"] == "/notices"
        welcome = await browser.get("/welcome")
        assert "您以法院身份登录" in consoles.texts_of(welcome.text)
