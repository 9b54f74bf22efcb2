"""Composition root of the mail sink: `create_app()` builds the app; the lifespan runs the SMTP server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from shared.plumbing.clock import clock_from_settings
from simulators.mail_sink import api, pages
from simulators.mail_sink.bounce import Bouncer
from simulators.mail_sink.config import MailSinkSettings
from simulators.mail_sink.mailbox import Mailbox
from simulators.mail_sink.smtp import Reception, smtp_server
from simulators.standalone import standalone_app


def create_app(settings: MailSinkSettings | None = None) -> FastAPI:
    """Builds the mail sink app from settings (environment by default)."""
    settings = settings or MailSinkSettings()
    clock = clock_from_settings(settings.common)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        mailbox = Mailbox(keep=settings.keep)
        bouncer = Bouncer(url=settings.dsn_url, secret=settings.dsn_secret, domain=settings.bounce_domain)
        server = smtp_server(settings, Reception(mailbox=mailbox, clock=clock, bouncer=bouncer))
        # Starting and stopping wait on aiosmtpd's thread; the event loop goes on meanwhile.
        await asyncio.to_thread(server.start)
        app.state.mailbox = mailbox
        app.state.settings, app.state.clock = settings, clock
        try:
            yield
        finally:
            await asyncio.to_thread(server.stop)

    app = standalone_app(
        name="mail_sink",
        title="mail sink",
        description="An SMTP server for development that keeps every message delivery sends and shows it on a web page.",
        lifespan=lifespan,
        routers=(pages.router, api.router),
    )
    return app
