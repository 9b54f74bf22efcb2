"""Rendering the console's pages: the Jinja2 templates, the filters that write dates the Chinese way, and the headers every page carries."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

import phonenumbers
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from services.console import texts
from services.console.sessions import Visitor
from shared.contracts import labels
from shared.plumbing.clock import SHANGHAI

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
# The vendored htmx (static/vendor/README.md says how to update it); pages load it from here and nowhere else.
HTMX_VERSION = "2.0.11"
HTMX = f"/static/vendor/htmx/{HTMX_VERSION}/htmx.min.js"
# The vendored Apache ECharts (static/vendor/README.md), for the dashboard's charts only.
ECHARTS_VERSION = "5.6.0"
ECHARTS = f"/static/vendor/echarts/{ECHARTS_VERSION}/echarts.min.js"

# Scripts, styles and images from the console itself only: no inline script, no CDN, never framed.
CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
HEADERS: Mapping[str, str] = {
    "Content-Security-Policy": CSP,
    # Pages show personal data: no copy in any cache, and nothing for search engines.
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex",
    # The camera and GPS are for the console's own forms only.
    "Permissions-Policy": "camera=(self), geolocation=(self), microphone=(), payment=()",
    # A page and its htmx fragment share a URL.
    "Vary": "HX-Request",
}
WEEKDAYS = "一二三四五六日"


def _local(moment: datetime) -> datetime:
    return moment.astimezone(SHANGHAI)


def day(value: date | datetime) -> str:
    """Writes a day the Chinese way: 11月23日（周一）."""
    if isinstance(value, datetime):
        value = _local(value).date()
    return f"{value.month}月{value.day}日（周{WEEKDAYS[value.weekday()]}）"


def clock(value: datetime) -> str:
    """Writes a time of day in Beijing time: 09:00."""
    return _local(value).strftime("%H:%M")


def moment(value: datetime) -> str:
    """Writes a date and time in Beijing time: 2026年11月23日 09:00."""
    local = _local(value)
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def calendar(value: date) -> str:
    """Writes a calendar day with its year, as a due date is read: 2026年11月23日."""
    return f"{value.year}年{value.month}月{value.day}日"


def coordinates(lat: float, lon: float) -> str:
    """Writes a point as latitude and longitude in words, without a map link: 北纬37.51230°，东经122.12010°."""
    return f"{'北纬' if lat >= 0 else '南纬'}{abs(lat):.5f}°，{'东经' if lon >= 0 else '西经'}{abs(lon):.5f}°"


def phone(number: str) -> str:
    """Writes a phone number as people in China read it (138 0013 8000, 0631 520 0000); one it cannot read, as it is."""
    try:
        parsed = phonenumbers.parse(number, "CN")
    except phonenumbers.NumberParseException:
        return number
    style = phonenumbers.PhoneNumberFormat.NATIONAL if parsed.country_code == 86 else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    return phonenumbers.format_number(parsed, style)


templates = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]), undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
templates.filters.update(day=day, clock=clock, moment=moment, calendar=calendar, coordinates=coordinates, phone=phone)
templates.globals.update(texts=texts, labels=labels, htmx=HTMX, echarts=ECHARTS)


def is_htmx(request: Request) -> bool:
    """Tells whether htmx sent the request (it wants a fragment, not a page)."""
    return request.headers.get("hx-request") == "true"


def render(template: str, *, request: Request, status: int = 200, headers: Mapping[str, str] | None = None, **context: Any) -> HTMLResponse:
    """Renders a page or fragment for the request's visitor (if any) with the pages' headers."""
    visitor: Visitor | None = getattr(request.state, "visitor", None)
    body = templates.get_template(template).render(visitor=visitor, current=request.url.path, **context)
    return HTMLResponse(body, status_code=status, headers={**HEADERS, **(headers or {})})
