"""Composition root of the carrier gateway: `create_app()` builds the app; the lifespan runs relay, consumer, booker, poller and scanner."""

from __future__ import annotations

from datetime import timedelta

import httpx
from fastapi import FastAPI

from services.carrier_gateway import api, consumers
from services.carrier_gateway.adapters.ems.client import CircuitBreaker, EmsClient
from services.carrier_gateway.adapters.evidence import EvidenceClient
from services.carrier_gateway.config import CarrierGatewaySettings
from services.carrier_gateway.deps import CarrierGatewayDeps
from services.carrier_gateway.domain import ScanPolicy
from services.carrier_gateway.models import TABLES
from services.carrier_gateway.workers import Booker, Poller, Scanner
from shared.contracts.ems_wire import decode_key
from shared.plumbing.runtime import Runtime, ServiceSpec, create_service_app


def create_app(settings: CarrierGatewaySettings | None = None) -> FastAPI:
    """Builds the carrier gateway app from settings (environment by default)."""
    settings = settings or CarrierGatewaySettings()
    # A malformed key stops the service at start, not at its first booking.
    key = decode_key(settings.ems_sm4_key)
    http = httpx.AsyncClient()

    def build_deps(runtime: Runtime) -> CarrierGatewayDeps:
        ems = EmsClient(
            origin=settings.ems_origin,
            sender_no=settings.ems_sender_no,
            authorization=settings.ems_authorization,
            key=key,
            now=runtime.clock.now,
            breaker=CircuitBreaker(failures=settings.breaker_failures, cooldown_s=settings.breaker_cooldown_s),
            timeout_s=settings.ems_timeout_s,
            attempts=settings.ems_attempts,
            backoff_s=settings.ems_backoff_s,
            backoff_max_s=settings.ems_backoff_max_s,
            http=http,
        )
        evidence = EvidenceClient(url=settings.evidence_url, secret=settings.common.jwt_secret, issuer=settings.common.jwt_issuer, http=http, timeout_s=settings.evidence_timeout_s)
        return CarrierGatewayDeps(
            db=runtime.db,
            clock=runtime.clock,
            ems=ems,
            evidence=evidence,
            sender=settings.sender,
            push_secret=settings.ems_push_secret,
            scans=ScanPolicy(attempts=settings.scan_attempts, backoff=timedelta(seconds=settings.scan_backoff_s)),
        )

    def workers(deps: CarrierGatewayDeps) -> dict:
        booker = Booker(deps=deps, poll_s=settings.booking_poll_ms / 1000)
        poller = Poller(deps=deps, quiet=timedelta(hours=settings.poll_quiet_hours), every_s=settings.poll_every_s)
        scanner = Scanner(deps=deps, poll_s=settings.scan_poll_ms / 1000)
        return {"booker": booker.run(), "poller": poller.run(), "scanner": scanner.run()}

    async def close() -> None:
        await http.aclose()

    spec = ServiceSpec(
        name="carrier_gateway",
        title="Songda carrier gateway",
        description="Books court mail (法院专递) with EMS, follows each item to its return receipt and turns EMS's traces into delivery events.",
        tables=TABLES,
        routers=(api.router, api.webhooks),
        consumes=consumers.TOPICS,
        handlers=consumers.HANDLERS,
        deps=build_deps,
        workers=workers,
        close=close,
    )
    return create_service_app(spec, settings)
