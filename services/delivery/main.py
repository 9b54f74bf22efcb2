"""Composition root of delivery: `create_app()` builds the app; the lifespan seeds an empty roster, then runs relay, consumer, dispatcher, sweeper and status checks."""

from __future__ import annotations

from datetime import timedelta

import structlog
from fastapi import FastAPI

from services.delivery import consumers
from services.delivery.adapters.mail import SmtpMailer
from services.delivery.adapters.twilio import TwilioTelephony
from services.delivery.api import agents, edelivery, firm_inbox, holds, notices, tasks, webhooks
from services.delivery.config import DeliverySettings
from services.delivery.deps import DeliveryDeps
from services.delivery.handlers import roster
from services.delivery.models import TABLES
from services.delivery.policy import load_policy
from services.delivery.workers import Dispatcher, StatusChecker, Sweeper
from services.delivery.workflow import Setup
from shared.plumbing.documents import DocumentStore
from shared.plumbing.runtime import Runtime, ServiceSpec, create_service_app

log = structlog.get_logger(__name__)


def create_app(settings: DeliverySettings | None = None) -> FastAPI:
    """Builds the delivery app from settings (environment by default)."""
    settings = settings or DeliverySettings()
    setup = Setup(policy=load_policy(settings.policy_file), public_url=settings.public_url.rstrip("/"))
    telephony = TwilioTelephony(
        account_sid=settings.twilio_account_sid, auth_token=settings.twilio_auth_token, from_number=settings.twilio_from, origin=settings.twilio_origin or None
    )
    mailer = SmtpMailer(
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender=settings.smtp_sender,
        username=settings.smtp_username,
        password=settings.smtp_password,
        start_tls=settings.smtp_starttls,
    )

    def build_deps(runtime: Runtime) -> DeliveryDeps:
        return DeliveryDeps(
            db=runtime.db,
            clock=runtime.clock,
            setup=setup,
            telephony=telephony,
            mailer=mailer,
            sender_address=settings.smtp_sender,
            twilio_auth_token=settings.twilio_auth_token,
            documents=DocumentStore(settings.common.documents),
            mail_dsn_secret=settings.mail_dsn_secret,
        )

    def workers(deps: DeliveryDeps) -> dict:
        dispatcher = Dispatcher(deps, poll_s=settings.dispatch_poll_ms / 1000)
        sweeper = Sweeper(deps, poll_s=settings.sweep_poll_ms / 1000)
        checker = StatusChecker(deps, quiet=timedelta(seconds=settings.status_check_after_s), poll_s=settings.status_check_poll_ms / 1000)
        return {"dispatcher": dispatcher.run(), "sweeper": sweeper.run(), "status_checks": checker.run()}

    async def prepare(deps: DeliveryDeps) -> None:
        # The policy's agents are only the roster's first seed; once it has anyone, the roster is the supervisors'.
        added = await roster.seed_agents(deps, agents=setup.policy.agents)
        if added:
            log.info("roster.seeded", added=added)

    async def close() -> None:
        await telephony.close()
        await mailer.close()

    spec = ServiceSpec(
        name="delivery",
        title="Songda delivery",
        description="Runs delivery tier by tier for every recipient of a notice and records how and when service happened.",
        tables=TABLES,
        routers=(notices.router, tasks.router, agents.router, holds.router, webhooks.router, edelivery.router, firm_inbox.router),
        consumes=consumers.TOPICS,
        handlers=consumers.HANDLERS,
        deps=build_deps,
        workers=workers,
        prepare=prepare,
        close=close,
    )
    return create_service_app(spec, settings)
