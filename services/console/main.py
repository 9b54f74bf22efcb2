"""Composition root of the console: `create_app()` builds the app with its pages, static files, error pages and the clients of the services it calls."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import timedelta

import httpx
from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from services.console import errors
from services.console.adapters.batches import Batches, BatchesClient
from services.console.adapters.calls import Minter, ServiceApi
from services.console.adapters.delivery import Delivery, DeliveryClient
from services.console.adapters.evidence import Evidence, EvidenceClient
from services.console.adapters.firms import Firms, FirmsClient
from services.console.adapters.inbox import Inbox, InboxClient
from services.console.adapters.intake import Intake, IntakeClient
from services.console.adapters.notices import Notices, NoticesClient
from services.console.adapters.oversight import Oversight, OversightClient
from services.console.api import batches as batch_pages
from services.console.api import calendar, dashboard, holds, people, submission, tasks, team
from services.console.api import firms as firm_pages
from services.console.api import inbox as lawyer_inbox
from services.console.api import notices as notice_list
from services.console.config import ConsoleSettings
from services.console.csrf import LoginForms
from services.console.deps import ConsoleDeps
from services.console.domain import SignInPolicy
from services.console.models import TABLES
from services.console.pages import STATIC
from services.console.passwords import Passwords
from services.console.strangers import Strangers
from shared.plumbing.clock import Clock, RealClock, clock_from_settings
from shared.plumbing.db import Database, create_tables
from shared.plumbing.runtime import PLUMBING_TABLES, Runtime, ServiceSpec, create_service_app


def policy_of(settings: ConsoleSettings) -> SignInPolicy:
    """Returns the sign-in policy the settings describe."""
    return SignInPolicy(
        attempts=settings.lockout_attempts,
        lockout=timedelta(minutes=settings.lockout_minutes),
        idle=timedelta(minutes=settings.session_idle_minutes),
        lifetime=timedelta(hours=settings.session_max_hours),
    )


def console_deps(settings: ConsoleSettings, *, db: Database, clock: Clock, http: httpx.AsyncClient, passwords: Passwords | None = None) -> ConsoleDeps:
    """Returns the console's Deps over its database, calling the services over `http`."""
    minter = Minter(secret=settings.common.jwt_secret, issuer=settings.common.jwt_issuer)

    def api(name: str, url: str, *, timeout_s: float = settings.service_timeout_s) -> ServiceApi:
        return ServiceApi(name=name, url=url, http=http, minter=minter, timeout_s=timeout_s)

    return ConsoleDeps(
        db=db,
        clock=clock,
        wall=RealClock(),
        passwords=passwords or Passwords(),
        policy=policy_of(settings),
        strangers=Strangers(),
        delivery=DeliveryClient(api("delivery", settings.delivery_url)),
        evidence=EvidenceClient(api("evidence", settings.evidence_url)),
        oversight=OversightClient(api("delivery", settings.delivery_url)),
        notices=NoticesClient(api("delivery", settings.delivery_url)),
        intake=IntakeClient(api("intake", settings.intake_url)),
        batches=BatchesClient(api("intake", settings.intake_url), upload_api=api("intake", settings.intake_url, timeout_s=settings.batch_timeout_s)),
        max_upload_bytes=int(settings.max_upload_mb * 2**20),
        max_batch_bytes=int(settings.max_batch_mb * 2**20),
        firms=FirmsClient(api("intake", settings.intake_url)),
        inbox=InboxClient(api("delivery", settings.delivery_url)),
    )


@asynccontextmanager
async def offline(settings: ConsoleSettings) -> AsyncIterator[ConsoleDeps]:
    """Yields the console's Deps on its database without serving (for `songda user` and the demo accounts), its tables created if missing."""
    db = Database(settings.resolved_database_url("console"), pool_size=2)
    http = httpx.AsyncClient()
    try:
        await create_tables(db.engine, [*PLUMBING_TABLES, *TABLES])
        yield console_deps(settings, db=db, clock=clock_from_settings(settings.common), http=http)
    finally:
        await http.aclose()
        await db.dispose()


def create_app(
    settings: ConsoleSettings | None = None,
    *,
    delivery: Delivery | None = None,
    evidence: Evidence | None = None,
    oversight: Oversight | None = None,
    notices: Notices | None = None,
    intake: Intake | None = None,
    batches: Batches | None = None,
    passwords: Passwords | None = None,
    firms: Firms | None = None,
    inbox: Inbox | None = None,
) -> FastAPI:
    """Builds the console app from settings (environment by default); tests hand in fakes of the services and a cheaper hasher."""
    settings = settings or ConsoleSettings()
    http = httpx.AsyncClient()

    def build_deps(runtime: Runtime) -> ConsoleDeps:
        deps = console_deps(settings, db=runtime.db, clock=runtime.clock, http=http, passwords=passwords)
        return replace(
            deps,
            delivery=delivery or deps.delivery,
            evidence=evidence or deps.evidence,
            oversight=oversight or deps.oversight,
            notices=notices or deps.notices,
            intake=intake or deps.intake,
            batches=batches or deps.batches,
            firms=firms or deps.firms,
            inbox=inbox or deps.inbox,
        )

    async def close() -> None:
        await http.aclose()

    spec = ServiceSpec(
        name="console",
        title="Songda console",
        description="The web front door: sign-in, sessions, and the delivery team's supervisors' and courts' pages over the services' own APIs. It keeps users and sessions, no delivery data.",
        tables=TABLES,
        # The submit form and the batch pages come before the notice list's /notices/{notice_id}, which would take new or batch for an id.
        routers=(
            people.router,
            tasks.router,
            team.router,
            holds.router,
            submission.router,
            batch_pages.router,
            notice_list.router,
            dashboard.router,
            firm_pages.router,
            calendar.router,
            lawyer_inbox.router,
        ),
        deps=build_deps,
        close=close,
    )
    app = create_service_app(spec, settings)
    app.state.login_forms = LoginForms(settings.common.jwt_secret)
    app.state.secure_cookies = settings.cookies_secure
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    # Browsers ask /favicon.ico of a page that names no icon: a PDF shown in Chromium's viewer, say.
    app.add_api_route("/favicon.ico", _favicon, include_in_schema=False)
    errors.install(app)
    return app


async def _favicon() -> RedirectResponse:
    """Sends a browser asking for /favicon.ico to the console's icon."""
    return RedirectResponse("/static/favicon.svg", status_code=301)
