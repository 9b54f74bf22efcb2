"""Asks EMS about items whose pushes went quiet, so a node whose push never came is still applied."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

import structlog
from sqlalchemy import func, or_
from sqlmodel import col, select

from services.carrier_gateway.adapters.ems.client import CarrierUnavailable, CircuitOpen, EmsClient
from services.carrier_gateway.adapters.ems.mapper import CarrierRejected, traces
from services.carrier_gateway.booking import BOOKED
from services.carrier_gateway.models import CarrierItem
from services.carrier_gateway.tracking import apply_traces
from shared.plumbing.clock import Clock
from shared.plumbing.db import Database

log = structlog.get_logger(__name__)


@dataclass
class Poller:
    """Every `every_s`, queries EMS (040001) for open items with no node and no query for `quiet` of domain time."""

    db: Database
    clock: Clock
    client: EmsClient
    quiet: timedelta
    every_s: float = 5.0
    batch: int = 50

    async def run(self) -> None:
        """Polls until cancelled."""
        while True:
            await self.run_once()
            await asyncio.sleep(self.every_s)

    async def run_once(self) -> int:
        """Polls the quiet items once; returns how many new nodes it found."""
        cutoff = self.clock.now() - self.quiet
        async with self.db.sessions() as session:
            quiet = (
                await session.exec(
                    select(CarrierItem.attempt_id, CarrierItem.waybill_no)
                    .where(CarrierItem.booking == BOOKED, col(CarrierItem.closed).is_(False), col(CarrierItem.waybill_no).is_not(None))
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
                envelope = await self.client.track(waybill_no)
            except CircuitOpen:
                return found
            except (CarrierUnavailable, CarrierRejected) as exc:
                log.warning("ems.poll_failed", attempt_id=attempt_id, error=str(exc))
                continue
            async with self.db.transaction() as session:
                applied = await apply_traces(session, traces(envelope), source="poll", now=self.clock.now())
                item = await session.get(CarrierItem, attempt_id)
                if item is not None:
                    item.polled_at = self.clock.now()
                    session.add(item)
            if applied.new:
                log.info("ems.poll_recovered", attempt_id=attempt_id, nodes=applied.new)
            found += applied.new
        return found
