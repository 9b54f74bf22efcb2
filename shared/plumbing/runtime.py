"""What every service runs beside its routes: database, outbox relay, consumer, supervision, /healthz."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Table

from shared.contracts.topics import REVOCATIONS, TopicNames
from shared.plumbing import audit, openapi, problems, workdays
from shared.plumbing.audit import AuditEntry
from shared.plumbing.auth import OVERSEERS, TokenVerifier
from shared.plumbing.clock import SHANGHAI, Clock, clock_from_settings
from shared.plumbing.consumer import ConsumerRunner, EnvelopeHandler, EventHandler, MessageContext
from shared.plumbing.db import Database, create_tables, table_of
from shared.plumbing.headers import SecurityHeaders
from shared.plumbing.inbox import InboxMessage
from shared.plumbing.kafka import Producer
from shared.plumbing.ledger import SideEffect
from shared.plumbing.outbox import OutboxMessage, OutboxRelay
from shared.plumbing.ratelimit import RateLimits, limited
from shared.plumbing.revocations import RevocationList, RevocationWatcher
from shared.plumbing.settings import Environment, ServiceSettings
from shared.plumbing.supervisor import Supervisor

log = structlog.get_logger(__name__)

PLUMBING_TABLES: tuple[Table, ...] = (table_of(OutboxMessage), table_of(InboxMessage), table_of(SideEffect), table_of(AuditEntry))


@dataclass(frozen=True)
class Deps:
    """What every handler is given first: the service's database and clock; a service's own Deps adds its policy and ports."""

    db: Database
    clock: Clock


# A message handler: `await handler(deps, message=context, event=event)`, inside the consumer's transaction.
MessageHandler = Callable[..., Awaitable[None]]
# A handler of every message whatever its type: `await handler(deps, message=context)`.
AnyMessageHandler = Callable[..., Awaitable[None]]


@dataclass(frozen=True)
class ServiceSpec:
    """The parts that make one service: its name, tables, routes and the messages it handles."""

    name: str
    title: str
    description: str
    tables: Sequence[Table]
    routers: Sequence[APIRouter]
    consumes: Sequence[str] = ()
    # consumers.HANDLERS: {event type: handler}.
    handlers: Mapping[str, MessageHandler] = field(default_factory=dict)
    on_any: AnyMessageHandler | None = None
    # Builds the service's Deps once its database and clock exist; plain Deps when it needs no more.
    deps: Callable[[Runtime], Deps] | None = None
    # Background loops beside relay and consumer (workers.py: sweepers, dispatchers), started once tables exist.
    workers: Callable[[Any], Mapping[str, Coroutine[Any, Any, None]]] | None = None
    # Runs once tables exist, before any task or request (seeding reference data).
    prepare: Callable[[Any], Awaitable[None]] | None = None
    # Closes what the service opened (HTTP clients) after its tasks stopped.
    close: Callable[[], Awaitable[None]] | None = None


def _bound(handler: MessageHandler, deps: Deps) -> EventHandler:
    async def handle(context: MessageContext, event: Any) -> None:
        await handler(deps, message=context, event=event)

    return handle


def _bound_any(handler: AnyMessageHandler, deps: Deps) -> EnvelopeHandler:
    async def handle(context: MessageContext) -> None:
        await handler(deps, message=context)

    return handle


class Runtime:
    """A running service's shared parts; lives on app.state.runtime."""

    def __init__(self, spec: ServiceSpec, settings: ServiceSettings, *, on_failure: Callable[[str, BaseException], None] | None = None) -> None:
        common = settings.common
        self.spec = spec
        self.settings = settings
        self.clock: Clock = clock_from_settings(common)
        self.topics = TopicNames(common.topic_prefix)
        self.db = Database(settings.resolved_database_url(spec.name), pool_size=settings.db_pool_size)
        self.deps: Deps = spec.deps(self) if spec.deps else Deps(db=self.db, clock=self.clock)
        self.producer = Producer(bootstrap=common.kafka_bootstrap, client_id=f"songda-{spec.name}")
        self.relay = OutboxRelay(
            service=spec.name,
            database=self.db,
            producer=self.producer,
            topics=self.topics,
            clock=self.clock,
            batch_size=settings.relay_batch_size,
            poll_s=settings.relay_poll_ms / 1000,
        )
        self.consumer = ConsumerRunner(
            name=spec.name,
            topics=spec.consumes,
            handlers={kind: _bound(handler, self.deps) for kind, handler in spec.handlers.items()},
            on_any=_bound_any(spec.on_any, self.deps) if spec.on_any else None,
            database=self.db,
            producer=self.producer,
            names=self.topics,
            bootstrap=common.kafka_bootstrap,
            clock=self.clock,
            max_attempts=settings.consumer_max_attempts,
            commit_interval_ms=settings.commit_interval_ms,
        )
        self.supervisor = Supervisor(on_failure=on_failure)
        self.revocations = RevocationList(now=self.clock.now)
        self.revocation_watcher = RevocationWatcher(bootstrap=common.kafka_bootstrap, topic=self.topics.physical(REVOCATIONS), revocations=self.revocations)

    async def start(self) -> None:
        """Reads the imported holiday calendar, creates missing tables, reads the revoked tokens, and starts the relay and the consumer."""
        workdays.watch(self.settings.common.calendar)
        self.calendar()
        # Replicas of a service starting together would race to create the same tables and seed the same rows.
        async with self.db.exclusively(f"{self.spec.name}.start"):
            await create_tables(self.db.engine, [*PLUMBING_TABLES, *self.spec.tables])
            if self.spec.prepare is not None:
                await self.spec.prepare(self.deps)
        self.supervisor.start(f"{self.spec.name}.revocations", self.revocation_watcher.run())
        # Until the list is read, every token is answered 503 rather than a revoked one let through.
        if not await self.revocation_watcher.loaded(timeout_s=self.settings.revocations_wait_s):
            log.warning("revocations.not_loaded_at_start", wait_s=self.settings.revocations_wait_s)
        self.supervisor.start(f"{self.spec.name}.relay", self.relay.run())
        if self.spec.consumes:
            self.supervisor.start(f"{self.spec.name}.consumer", self.consumer.run())
        for name, work in (self.spec.workers(self.deps) if self.spec.workers else {}).items():
            self.supervisor.start(f"{self.spec.name}.{name}", work)

    async def stop(self) -> None:
        """Stops the tasks, then the producer and the database pool, and forgets the calendar directory."""
        await self.supervisor.stop()
        workdays.watch(None)
        if self.spec.close is not None:
            await self.spec.close()
        await self.producer.close()
        await self.db.dispose()

    def calendar(self) -> dict[str, Any]:
        """Reports the holiday calendar: the watched years it lacks (warned in the log once each) and where each known year comes from."""
        today = self.clock.now().astimezone(SHANGHAI).date()
        missing = workdays.missing_years(today)
        return {
            "status": "degraded" if missing else "ok",
            "missing": missing,
            "years": {str(year): workdays.source_of(year) or "missing" for year in workdays.watched_years(today)},
        }

    async def health(self) -> tuple[bool, dict[str, Any]]:
        """Reports database reachability, task state, Kafka connectivity, message counters and the holiday calendar (which never fails readiness)."""
        try:
            async with self.db.sessions() as session:
                await session.connection()
            database = "ok"
        except Exception as exc:  # noqa: BLE001 — any failure is what health reports
            database = f"unreachable: {type(exc).__name__}"
        stats = self.consumer.stats
        kafka = {
            "producer": "connected" if self.producer.connected else "idle",
            "consumer": ("assigned" if stats.assigned else "waiting") if self.spec.consumes else "none",
        }
        ok = database == "ok" and self.supervisor.healthy
        return ok, {
            "service": self.spec.name,
            "status": "ok" if ok else "failing",
            "database": database,
            "kafka": kafka,
            "revocations": {"loaded": self.revocations.ready, "revoked": len(self.revocations)},
            "tasks": self.supervisor.status(),
            "consumer": {
                "group": self.consumer.group_id,
                "applied": stats.applied,
                "duplicates": stats.duplicates,
                "ignored": stats.ignored,
                "dead_lettered": stats.dead_lettered,
                "partitions": stats.assigned,
            },
            "outbox": {"published": self.relay.published},
            # A missing year degrades due dates (lunar holidays and 调休 unknown) but stops nothing: reported, not failing.
            "calendar": self.calendar(),
        }


async def get_runtime(request: Request) -> Runtime:
    """Returns the running service's runtime."""
    return request.app.state.runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_deps(request: Request) -> Any:
    """Returns the running service's Deps (each service narrows the type in its own alias)."""
    # Async although it awaits nothing: FastAPI runs a sync dependency in a worker thread, a thread hop per request.
    return request.app.state.runtime.deps


# The routes' alias for a service whose handlers need no more than database and clock.
DepsDep = Annotated[Deps, Depends(get_deps)]


_health = APIRouter(tags=["health"])


@_health.get(
    "/healthz",
    summary="Liveness and readiness of the service",
    dependencies=[Depends(limited("health"))],
    responses=openapi.problems(401, 429, 503),
)
async def healthz(request: Request, runtime: RuntimeDep) -> JSONResponse:
    """Answers 200 when the database answers and every task runs, 503 otherwise; the details only with a supervisor's, auditor's or service's token."""
    ok, body = await runtime.health()
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or request.app.state.tokens.verify(token).role not in OVERSEERS:
        body = {"status": body["status"]}
    return JSONResponse(body, status_code=200 if ok else 503)


def create_service_app(spec: ServiceSpec, settings: ServiceSettings, *, on_failure: Callable[[str, BaseException], None] | None = None) -> FastAPI:
    """Builds a service's FastAPI app with its runtime started and stopped by the lifespan."""
    runtime = Runtime(spec, settings, on_failure=on_failure)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    common = settings.common
    # Every route refuses a NUL character in its inputs (422) before it can reach the database.
    app = FastAPI(
        title=spec.title,
        description=spec.description,
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(problems.refuse_nul)],
        # Songda exports no OpenTelemetry: left on, FastAPI looked for a configured provider on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.runtime = runtime
    app.state.tokens = TokenVerifier(secret=common.jwt_secret, issuer=common.jwt_issuer, max_ttl=common.token_max_ttl, revocations=runtime.revocations)
    app.state.rate_limits = RateLimits(
        {
            "edelivery": common.rate_limit_edelivery,
            "edelivery_misses": common.rate_limit_edelivery_misses,
            "webhooks": common.rate_limit_webhooks,
            "webhook_forgeries": common.rate_limit_webhook_forgeries,
            "health": common.rate_limit_health,
        }
    )
    app.add_middleware(SecurityHeaders, hsts=common.env is Environment.production)
    problems.install(app)
    openapi.install(app, docs=common.docs)
    app.include_router(_health)
    app.include_router(audit.router)
    for router in spec.routers:
        app.include_router(router)
    return app
