"""The carrier gateway's timers: the booker, the poller and the scanner, each finding due items and handing each to its handler."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy import func, or_
from sqlmodel import col, select

from services.carrier_gateway import handlers
from services.carrier_gateway.adapters.ems.client import CarrierUnavailable, CircuitOpen
from services.carrier_gateway.adapters.ems.mapper import CarrierRejected
from services.carrier_gateway.deps import CarrierGatewayDeps
from services.carrier_gateway.models import Booking, CarrierItem, ScanState
from shared.plumbing.loops import repeat

log = structlog.get_logger(__name__)


@dataclass
class _DueItems:
    """Works off the items whose next try is due, the longest-waiting first, handing each to the worker's handler at once.

    While idle it polls less and less often (up to `idle_polls` times `poll_s` apart); any commit in the gateway's
    database (a new item, a retry scheduled) brings the next round forward, so new work does not wait for the poll.
    """

    deps: CarrierGatewayDeps
    poll_s: float
    batch: int = 10
    idle_polls: int = 8
    _changed: asyncio.Event = field(default_factory=asyncio.Event, init=False)

    async def run(self) -> None:
        """Works until cancelled."""
        self.deps.db.after_commit(lambda _session: self._changed.set())
        await repeat(self.run_once, wait_s=self.poll_s, again_while_busy=True, idle_max_s=self.poll_s * self.idle_polls, wake=self._changed)

    async def run_once(self) -> int:
        """Works what is due now; returns how many items it looked at."""
        waiting, due_at = self.queue()
        async with self.deps.db.sessions() as session:
            due = (await session.exec(select(CarrierItem).where(waiting, due_at <= self.deps.clock.now()).order_by(due_at).limit(self.batch))).all()
        await asyncio.gather(*(self.work(item) for item in due))
        return len(due)

    def queue(self) -> tuple[Any, Any]:
        """Returns which items wait for this worker, and the column saying when each is due."""
        raise NotImplementedError

    async def work(self, item: CarrierItem) -> None:
        """Handles one due item."""
        raise NotImplementedError


@dataclass
class Booker(_DueItems):
    """Books items waiting for a booking."""

    poll_s: float = 0.2

    def queue(self) -> tuple[Any, Any]:
        return CarrierItem.booking == Booking.pending, col(CarrierItem.next_try_at)

    async def work(self, item: CarrierItem) -> None:
        await handlers.book_item(self.deps, item=item)


@dataclass
class Poller:
    """Every `every_s`, asks EMS about open items with no node and no query for `quiet` of domain time, so a node whose push never came is still applied."""

    deps: CarrierGatewayDeps
    quiet: timedelta
    every_s: float = 5.0
    batch: int = 50

    async def run(self) -> None:
        """Polls until cancelled."""
        await repeat(self.run_once, wait_s=self.every_s)

    async def run_once(self) -> int:
        """Polls the quiet items once; returns how many new nodes it found."""
        cutoff = self.deps.clock.now() - self.quiet
        async with self.deps.db.sessions() as session:
            quiet = (
                await session.exec(
                    select(CarrierItem.attempt_id, CarrierItem.waybill_no)
                    .where(CarrierItem.booking == Booking.booked, col(CarrierItem.closed).is_(False), col(CarrierItem.waybill_no).is_not(None))
                    .where(func.coalesce(CarrierItem.last_node_at, CarrierItem.updated_at) <= cutoff)
                    .where(or_(col(CarrierItem.polled_at).is_(None), col(CarrierItem.polled_at) <= cutoff))
                    .order_by(col(CarrierItem.polled_at).nulls_first())
                    .limit(self.batch)
                )
            ).all()
        found = 0
        for attempt_id, waybill_no in quiet:
            assert waybill_no is not None  # selected above
            try:
                found += await handlers.poll_item(self.deps, attempt_id=attempt_id, waybill_no=waybill_no)
            except CircuitOpen:
                return found
            except (CarrierUnavailable, CarrierRejected) as exc:
                log.warning("ems.poll_failed", attempt_id=attempt_id, error=str(exc))
        return found


@dataclass
class Scanner(_DueItems):
    """Collects the scans of return receipts waiting for them."""

    poll_s: float = 0.5

    def queue(self) -> tuple[Any, Any]:
        return CarrierItem.scan == ScanState.pending, col(CarrierItem.scan_next_at)

    async def work(self, item: CarrierItem) -> None:
        await handlers.collect_scan(self.deps, item=item)
