"""The web pages of the sink: the list of messages received and each message, with its links clickable."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from shared.plumbing.clock import SHANGHAI
from shared.plumbing.problems import Problem
from simulators.mail_sink.mailbox import MailboxDep

router = APIRouter(tags=["pages"])

_URL = re.compile(r"https?://[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")
# Punctuation that ends a sentence more often than it ends a link.
_TRAILING = ".,;:!?'\")"


def linkify(text: str) -> Markup:
    """Escapes text and makes every http(s) URL in it a link."""
    out: list[str] = []
    start = 0
    for match in _URL.finditer(text):
        url = match.group().rstrip(_TRAILING)
        out += [escape(text[start : match.start()]), Markup('<a href="{0}">{0}</a>').format(url)]
        start = match.start() + len(url)
    out.append(escape(text[start:]))
    return Markup("").join(out)


def local_time(dt: datetime) -> str:
    """Returns Beijing time to the second, as the courts read it."""
    return dt.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")


_templates = Environment(loader=FileSystemLoader(Path(__file__).with_name("templates")), autoescape=select_autoescape(["html"]))
_templates.filters["linkify"] = linkify
_templates.filters["local_time"] = local_time


@router.get("/", response_class=HTMLResponse, summary="The messages received, newest first")
async def inbox(mailbox: MailboxDep) -> HTMLResponse:
    """Lists every message kept with a link to each."""
    return HTMLResponse(_templates.get_template("inbox.html").render(messages=mailbox.newest_first()))


@router.get("/messages/{mail_id}", response_class=HTMLResponse, summary="One message")
async def message(mail_id: str, mailbox: MailboxDep) -> HTMLResponse:
    """Shows one message: headers, the text body with clickable links, and the HTML body if any."""
    mail = mailbox.get(mail_id)
    if mail is None:
        raise Problem(404, "Not found", f"no message {mail_id} in the mail sink (it keeps the most recent only)")
    return HTMLResponse(_templates.get_template("message.html").render(mail=mail))
