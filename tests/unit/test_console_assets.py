"""An isolated network: every page loads its scripts, styles and links from the console itself, under a CSP of 'self', and the vendored htmx is the one its README names."""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import AsyncIterator
from fnmatch import fnmatch
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from services.console.pages import CSP, ECHARTS, HTMX, STATIC
from shared.plumbing.auth import Role
from tests import consoles
from tests.consoles import Console, hidden, signed_in

REPO = Path(__file__).resolve().parents[2]
# Attributes through which a page fetches, navigates or posts.
URL_ATTRIBUTES = frozenset({"src", "href", "action", "formaction", "hx-get", "hx-post", "hx-put", "hx-patch", "hx-delete", "poster", "srcset", "data"})


class Links(HTMLParser):
    """Collects every URL a page names, by tag and attribute, and any inline script or style."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str, str]] = []
        self.inline: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name, value in attrs:
            if name in URL_ATTRIBUTES and value is not None:
                self.urls.append((tag, name, value))
            if name == "style" or name.startswith("on"):
                self.inline.append(f"<{tag} {name}>")
        if tag == "style":
            self.inline.append("<style>")
        self._in_script = tag == "script" and "src" not in values

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline.append(f"<script>{data[:40]}")

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False


def off_site(url: str) -> bool:
    """Tells whether a URL leaves the console: any scheme but tel:, or a host of its own."""
    parts = urlsplit(url)
    return (bool(parts.scheme) and parts.scheme != "tel") or bool(parts.netloc) or url.startswith("//")


@pytest.fixture
async def console(tmp_path: Path) -> AsyncIterator[Console]:
    async with consoles.console(tmp_path) as built:
        built.delivery.add("agent-1", consoles.task("t-1"), phones=["+8613800138000"])
        built.delivery.add("agent-1", consoles.task("t-2", late=True, kind="posting", outcomes=["not_found", "posted"]))
        await built.add("agent-1")
        await built.add("supervisor", Role.supervisor)
        built.oversight.hire("agent-1", "环翠组一")
        built.oversight.hire("agent-2", "环翠组二")
        built.oversight.assign("agent-1", consoles.task("t-1"))
        built.oversight.assign("agent-1", consoles.task("t-2", late=True))
        built.oversight.hold(consoles.hold("r-1"))
        built.notices.rows = [consoles.notice("n-1"), consoles.notice("n-2")]
        built.notices.page_size = 1
        await built.add("clerk", Role.court, scope="C371002")
        built.intake.notices["n-1"] = consoles.registered()
        built.intake.documents[consoles.SAMPLE_SHA] = ("C371002", consoles.SAMPLE_PDF, "application/pdf")
        built.notices.states["n-1"] = consoles.delivery_state()
        built.evidence.notices["n-1"] = "C371002"
        built.evidence.reports["n-1"] = ("C371002", [b"%PDF-1.7 report"])
        built.evidence.figures = {None: consoles.kpi_answer(None), "C371002": consoles.kpi_answer("C371002")}
        await built.add("lawyer", Role.lawyer, scope=consoles.FIRM)
        built.inbox.add(consoles.firm_item("a-1"), files={1: consoles.SAMPLE_PDF})
        built.inbox.add(consoles.firm_item("a-2", opened=True))
        yield built


async def every_page(console: Console) -> dict[str, httpx.Response]:
    """Renders each page and fragment the console has, in the states a person meets them."""
    pages: dict[str, httpx.Response] = {}
    async with console.browser() as browser:
        pages["login"] = await browser.get("/login")
        pages["login refused"] = await consoles.sign_in(browser, "agent-1", "wrong password")
        token = await signed_in(browser, "agent-1")
        for path in ("/today", "/tasks/t-1", "/tasks/t-2", "/no-such-page", "/tasks/t-1/print.pdf"):
            pages[path] = await browser.get(path)
        pages["today fragment"] = await browser.get("/today", headers={"HX-Request": "true"})
        for outcome in ("served", "refused", "not_found", "moved"):
            pages[f"outcome {outcome}"] = await browser.get(f"/tasks/t-1/outcome/{outcome}")
        pages["outcome posted"] = await browser.get("/tasks/t-2/outcome/posted")
        key = hidden(pages["outcome refused"].text, "idempotency_key")
        pages["upload"] = await browser.post(
            "/tasks/t-1/evidence",
            data={"kind": "photo", "scene": "refusal", "key": "k" * 20, "csrf_token": token},
            files={"file": ("p.jpg", b"\xff\xd8\xffjpeg", "image/jpeg")},
            headers={"HX-Request": "true"},
        )
        item = hidden(pages["upload"].text, "evidence")
        refused = {"csrf_token": token, "idempotency_key": key, "witness_name": "李四", "witness_organisation": "居委会", "evidence": item}
        pages["form errors"] = await browser.post("/tasks/t-1/outcome/served", data={"csrf_token": token, "idempotency_key": key, "step": "check"})
        pages["check"] = await browser.post("/tasks/t-1/outcome/refused", data=refused | {"step": "check"})
        pages["contact fragment"] = await browser.post("/tasks/t-1/begin", data={"reason": "无人应门"}, headers={"HX-Request": "true", "X-CSRF-Token": token})
        pages["task begun"] = await browser.get("/tasks/t-1")
        pages["result"] = await browser.post("/tasks/t-1/outcome/refused", data=refused | {"step": "submit"})
        pages["csrf refused"] = await browser.post("/tasks/t-2/begin", data={"reason": "x"})
        console.delivery.down = True
        pages["down"] = await browser.get("/today")
        console.delivery.down = False
    async with console.browser() as browser:
        token = await signed_in(browser, "supervisor")
        pages["welcome"] = await browser.get("/welcome")
        pages["forbidden"] = await browser.get("/today")
        for path in ("/board", "/roster", "/roster/agent-1", "/holds", "/notices", "/notices?cursor=1", "/dashboard", "/dashboard?court=C371002&by=agent", "/calendar"):
            pages[path] = await browser.get(path)
        pages["reassign refused"] = await browser.post("/tasks/t-1/reassign", data={"csrf_token": token, "reason": "请假"})
        pages["roster refused"] = await browser.post("/roster", data={"csrf_token": token, "id": "agent-1", "name": "重名"})
        pages["hold refused"] = await browser.post("/holds/r-1/accept", data={"csrf_token": token})
        pages["notices refused"] = await browser.get("/notices", params={"due_from": "soon"})
    async with console.browser() as browser:
        token = await signed_in(browser, "clerk")
        for path in ("/notices", "/notices/n-1", "/notices/new", "/notices/new/recipients/1", "/notices/new/documents/1"):
            pages[f"court {path}"] = await browser.get(path)
        pages["court submit refused"] = await browser.post("/notices/new", data={"csrf_token": token, "step": "submit", "case_number": "x"})
    async with console.browser() as browser:
        token = await signed_in(browser, "lawyer")
        for path in ("/inbox", "/inbox/a-1"):
            pages[f"lawyer {path}"] = await browser.get(path)
        await browser.post("/inbox/a-1/acknowledge", data={"csrf_token": token})
        pages["lawyer certificate"] = await browser.get("/inbox/a-1/certificate")
        pages["lawyer item acknowledged"] = await browser.get("/inbox/a-1")
    return pages


async def test_no_page_names_anything_off_site_nor_runs_inline_script_or_style(console: Console) -> None:
    pages = await every_page(console)
    refused = {"login refused": 200, "/no-such-page": 404, "form errors": 422, "csrf refused": 403, "down": 503, "forbidden": 403} | dict.fromkeys(
        ("reassign refused", "roster refused", "hold refused", "notices refused", "court submit refused"), 422
    )
    assert {name: page.status_code for name, page in pages.items()} == {name: refused.get(name, 200) for name in pages}
    html = {name: page for name, page in pages.items() if page.headers["content-type"].startswith("text/html")}
    assert len(html) == len(pages) - 1, "all but the PDF are pages"
    for name, page in html.items():
        links = Links()
        links.feed(page.text)
        assert links.urls or name.endswith(("fragment", "upload")), name
        assert [u for u in links.urls if off_site(u[2])] == [], name
        assert links.inline == [], name
        assert all(url.startswith("tel:+86") for tag, attribute, url in links.urls if urlsplit(url).scheme), name


async def test_every_page_sends_a_csp_of_self_and_loads_what_the_console_serves(console: Console) -> None:
    pages = await every_page(console)
    assert "script-src 'self'" in CSP and "'unsafe-inline'" not in CSP and "'unsafe-eval'" not in CSP and "frame-ancestors 'none'" in CSP
    for name, page in pages.items():
        if page.headers["content-type"].startswith("text/html"):
            assert page.headers["content-security-policy"] == CSP, name
            assert page.headers["cache-control"] == "no-store", name
    loaded = set()
    for page in pages.values():
        links = Links()
        links.feed(page.text if page.headers["content-type"].startswith("text/html") else "")
        loaded |= {url for tag, attribute, url in links.urls if tag in ("script", "link")}
    assert loaded == {HTMX, ECHARTS, "/static/js/console.js", "/static/js/capture.js", "/static/js/dashboard.js", "/static/css/console.css", "/static/favicon.svg"}
    async with console.browser() as browser:
        for url in sorted(loaded):
            answer = await browser.get(url)
            assert answer.status_code == 200 and answer.content, url


async def test_the_icon_browsers_ask_for_of_a_page_without_one_is_the_consoles(console: Console) -> None:
    async with console.browser() as browser:
        answer = await browser.get("/favicon.ico")
        icon = await browser.get("/favicon.ico", follow_redirects=True)
    assert (answer.status_code, answer.headers["location"]) == (301, "/static/favicon.svg")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")


def test_the_vendored_htmx_is_the_file_its_readme_names_with_its_licence_beside_it() -> None:
    readme = (STATIC / "vendor" / "README.md").read_text()
    script = STATIC / HTMX.removeprefix("/static/")
    version = script.parent.name
    assert f"| htmx | {version} |" in readme
    assert f"`{hashlib.sha256(script.read_bytes()).hexdigest()}`" in readme
    assert (script.parent / "LICENSE").read_text().startswith("Zero-Clause BSD")
    assert [p.name for p in (STATIC / "vendor" / "htmx").iterdir()] == [version], "one version only"


def test_the_vendored_echarts_is_the_file_its_readme_names_with_its_licence_and_notice_beside_it() -> None:
    readme = (STATIC / "vendor" / "README.md").read_text()
    script = STATIC / ECHARTS.removeprefix("/static/")
    version = script.parent.name
    assert f"| Apache ECharts | {version} |" in readme
    for path in (script, script.parent / "LICENSE", script.parent / "NOTICE"):
        assert f"`{hashlib.sha256(path.read_bytes()).hexdigest()}`" in readme, path.name
    assert "Apache License" in (script.parent / "LICENSE").read_text() and "Apache ECharts" in (script.parent / "NOTICE").read_text()
    assert [p.name for p in (STATIC / "vendor" / "echarts").iterdir()] == [version], "one version only"


def test_the_package_data_installs_every_template_and_static_file() -> None:
    patterns = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["services.console"]
    root = STATIC.parent
    files = [p.relative_to(root).as_posix() for folder in ("templates", "static") for p in (root / folder).rglob("*") if p.is_file()]
    assert files and [f for f in files if not any(fnmatch(f, pattern) and f.count("/") == pattern.count("/") for pattern in patterns)] == []


def test_the_scripts_are_files_the_pages_name_and_no_page_script_is_inline() -> None:
    for template in (STATIC.parent / "templates").glob("*.html"):
        text = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), template.name
        assert "style=" not in text, template.name
