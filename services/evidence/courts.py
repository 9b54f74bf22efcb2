"""Courts' webhooks: registration, and the pusher that delivers every issued report version, signed, retried, idempotent."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Annotated

import httpx
import structlog
from fastapi import APIRouter, Depends, Path, Request
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field
from sqlmodel import col, select

from services.evidence.models import EvidenceCourtHook, EvidenceCourtPush, EvidenceReport
from services.evidence.targets import TargetPolicy, TargetRefused
from shared.contracts.report import canonical
from shared.plumbing.auth import Principal, Role, require
from shared.plumbing.backoff import Backoff
from shared.plumbing.clock import Clock
from shared.plumbing.db import Database
from shared.plumbing.problems import Problem
from shared.plumbing.runtime import RuntimeDep

log = structlog.get_logger(__name__)

router = APIRouter(prefix="/v1", tags=["courts"])

Registrars = Annotated[Principal, Depends(require(Role.court, Role.supervisor))]
CourtId = Annotated[str, Path(pattern=r"^[A-Z0-9]{2,16}$")]
SIGNATURE_HEADER = "X-Songda-Signature"


class WebhookIn(BaseModel):
    """Where the court wants its reports pushed."""

    model_config = ConfigDict(extra="forbid")

    url: AnyHttpUrl = Field(max_length=2000)


def policy(request: Request) -> TargetPolicy:
    """Returns the rules webhook URLs must pass."""
    return request.app.state.webhook_policy


Policy = Annotated[TargetPolicy, Depends(policy)]


def _missing(court_id: str) -> Problem:
    return Problem(404, "Not found", f"Court {court_id} has no webhook for this caller.")


def _reaches(principal: Principal, court_id: str) -> bool:
    return principal.role is Role.supervisor or principal.is_court(court_id)


class WebhookOut(BaseModel):
    """A court's registered webhook; the secret is shown only when it is made."""

    court_id: str
    url: str
    registered_at: datetime
    secret: str | None = None


def signature(secret: str, *, timestamp: int, body: bytes) -> str:
    """Returns the signature header of a push: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t." + body>`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


@router.put("/courts/{court_id}/webhook", response_model=WebhookOut, summary="Register where the court's reports are pushed")
async def register(court_id: CourtId, body: WebhookIn, principal: Registrars, runtime: RuntimeDep, rules: Policy) -> WebhookOut:
    """Registers (or moves) the court's webhook and returns a new signing secret, shown this once; an internal address is refused."""
    if not _reaches(principal, court_id):
        raise _missing(court_id)
    try:
        await rules.vet(str(body.url))
    except TargetRefused as exc:
        raise Problem(422, "Invalid webhook", f"url: {exc}", kind="validation", errors=[{"field": "url", "message": str(exc)}]) from None
    now = runtime.clock.now()
    secret = secrets.token_urlsafe(32)
    async with runtime.db.transaction() as session:
        hook = await session.get(EvidenceCourtHook, court_id)
        if hook is None:
            hook = EvidenceCourtHook(court_id=court_id, url=str(body.url), secret=secret, registered_at=now)
        else:
            hook.url, hook.secret, hook.registered_at = str(body.url), secret, now
        session.add(hook)
    return WebhookOut(court_id=court_id, url=str(body.url), registered_at=now, secret=secret)


@router.get("/courts/{court_id}/webhook", response_model=WebhookOut, summary="The court's registered webhook")
async def registered(court_id: CourtId, principal: Registrars, runtime: RuntimeDep) -> WebhookOut:
    """Returns the court's webhook without its secret."""
    async with runtime.db.sessions() as session:
        hook = await session.get(EvidenceCourtHook, court_id)
    if hook is None or not _reaches(principal, court_id):
        raise _missing(court_id)
    return WebhookOut(court_id=court_id, url=hook.url, registered_at=hook.registered_at)


class Pusher:
    """Pushes due report versions to courts, one at a time under a row lock, until each is answered 2xx or runs out of tries."""

    def __init__(
        self, *, db: Database, clock: Clock, http: httpx.AsyncClient, policy: TargetPolicy, attempts: int, backoff_s: float, backoff_max_s: float, timeout_s: float, poll_s: float
    ) -> None:
        self._db = db
        self._policy = policy
        self._clock = clock
        self._http = http
        self._attempts = attempts
        self._backoff = Backoff(initial=backoff_s, maximum=backoff_max_s)
        self._timeout_s = timeout_s
        self._poll_s = poll_s

    async def run(self) -> None:
        """Pushes forever."""
        while True:
            if not await self.push_one():
                await asyncio.sleep(self._poll_s)

    async def push_one(self) -> bool:
        """Pushes the most overdue report version, if any; returns whether there was one."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            due = select(EvidenceCourtPush).where(EvidenceCourtPush.status == "pending", col(EvidenceCourtPush.next_try_at) <= now)
            # The lock is held across the request: a second pusher (another replica) skips this row rather than pushing it too.
            push = (await session.exec(due.order_by(col(EvidenceCourtPush.next_try_at)).limit(1).with_for_update(skip_locked=True))).first()
            if push is None:
                return False
            hook = await session.get(EvidenceCourtHook, push.court_id)
            report = await session.get(EvidenceReport, (push.notice_id, push.version))
            assert hook is not None and report is not None
            error = await self._send(hook, report)
            push.tries += 1
            if error is None:
                push.status, push.delivered_at, push.last_error = "delivered", self._clock.now(), None
                log.info("court_push.delivered", court=push.court_id, notice=push.notice_id, version=push.version, tries=push.tries)
            elif push.tries >= self._attempts:
                push.status, push.last_error = "failed", error
                log.warning("court_push.gave_up", court=push.court_id, notice=push.notice_id, version=push.version, tries=push.tries, error=error)
            else:
                push.last_error = error
                push.next_try_at = self._clock.now() + timedelta(seconds=self._backoff.after(push.tries))
                log.info("court_push.retry", court=push.court_id, notice=push.notice_id, version=push.version, tries=push.tries, error=error)
            session.add(push)
        return True

    async def _send(self, hook: EvidenceCourtHook, report: EvidenceReport) -> str | None:
        body = canonical(report.document)
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature(hook.secret, timestamp=int(self._clock.now().timestamp()), body=body),
            # The court keeps each (report, version) once, however often it is pushed.
            "Idempotency-Key": f"{report.report_id}:{report.version}",
            "X-Songda-Event": "evidence.ReportIssued",
        }
        try:
            # Checked again at every push: the name may point elsewhere since it was registered.
            target = await self._policy.vet(hook.url)
        except TargetRefused as exc:
            return f"refused: {exc}"
        url, host, extensions = target.request()
        try:
            response = await self._http.post(url, content=body, headers={**headers, **host}, timeout=self._timeout_s, extensions=extensions)
        except httpx.HTTPError as exc:
            return type(exc).__name__
        return None if response.is_success else f"HTTP {response.status_code}"
