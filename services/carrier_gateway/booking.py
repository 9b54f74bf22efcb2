"""Books court mail with EMS, each item at most once (side-effect ledger), and tells delivery the waybill or the refusal."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

import structlog
from sqlmodel import col, select

from services.carrier_gateway.adapters.ems.client import CarrierUnavailable, EmsClient
from services.carrier_gateway.adapters.ems.mapper import Booked, CarrierRejected, Sender, booking_outcome, booking_payload
from services.carrier_gateway.models import CarrierItem
from services.carrier_gateway.tracking import emit
from shared.contracts.ems_wire import Envelope
from shared.contracts.events import DispatchFailed, DispatchPostalItem, WaybillCreated
from shared.plumbing import ledger
from shared.plumbing.clock import Clock
from shared.plumbing.db import Database

log = structlog.get_logger(__name__)

PENDING, BOOKED, REFUSED = "pending", "booked", "refused"
# A refused request is our configuration, not the network: try again, but not often.
REJECTED_RETRY = timedelta(minutes=5)
MAX_RETRY = timedelta(minutes=5)


@dataclass
class Booker:
    """Works off items waiting for a booking, oldest first."""

    db: Database
    clock: Clock
    client: EmsClient
    sender: Sender
    poll_s: float = 0.2
    batch: int = 10

    async def run(self) -> None:
        """Books until cancelled."""
        while True:
            if await self.run_once() == 0:
                await asyncio.sleep(self.poll_s)

    async def run_once(self) -> int:
        """Books what is due now; returns how many items it looked at."""
        async with self.db.sessions() as session:
            due = (
                await session.exec(
                    select(CarrierItem)
                    .where(CarrierItem.booking == PENDING, col(CarrierItem.next_try_at) <= self.clock.now())
                    .order_by(col(CarrierItem.next_try_at))
                    .limit(self.batch)
                )
            ).all()
        await asyncio.gather(*(self.book(item) for item in due))
        return len(due)

    async def book(self, item: CarrierItem) -> None:
        """Books one item through the ledger and records the answer."""
        payload = booking_payload(DispatchPostalItem.model_validate(item.command), sender=self.sender)

        async def create() -> dict:
            return (await self.client.create_waybill(payload)).model_dump()

        try:
            # EMS answers the same waybill for the same logisticsOrderNo, so asking again is how an unknown outcome is reconciled.
            answer = await ledger.perform(self.db, key=f"ems:book:{item.attempt_id}", kind="ems_booking", clock=self.clock, call=create, reconcile=create)
            outcome = booking_outcome(Envelope.model_validate(answer))
        except CarrierRejected as exc:
            log.error("ems.booking_rejected", attempt_id=item.attempt_id, code=exc.code)
            await self._retry(item.attempt_id, error=str(exc), after=REJECTED_RETRY)
            return
        except CarrierUnavailable as exc:
            log.warning("ems.booking_retry", attempt_id=item.attempt_id, tries=item.tries + 1, error=str(exc))
            await self._retry(item.attempt_id, error=str(exc), after=min(timedelta(seconds=2 ** (item.tries + 1)), MAX_RETRY))
            return
        now = self.clock.now()
        async with self.db.transaction() as session:
            row = (await session.exec(select(CarrierItem).where(CarrierItem.attempt_id == item.attempt_id).with_for_update())).one()
            if row.booking != PENDING:
                return
            if isinstance(outcome, Booked):
                row.booking, row.waybill_no = BOOKED, outcome.waybill_no
                emit(session, WaybillCreated(notice_id=row.notice_id, attempt_id=row.attempt_id, waybill_no=outcome.waybill_no, created_at=now), item=row, now=now)
                log.info("ems.booked", attempt_id=row.attempt_id, waybill_no=outcome.waybill_no)
            else:
                row.booking, row.last_error = REFUSED, f"{outcome.code} {outcome.reason}"
                emit(session, DispatchFailed(notice_id=row.notice_id, attempt_id=row.attempt_id, reason=outcome.reason or outcome.code, at=now), item=row, now=now)
                log.info("ems.booking_refused", attempt_id=row.attempt_id, code=outcome.code)
            row.next_try_at, row.updated_at = None, now
            session.add(row)

    async def _retry(self, attempt_id: str, *, error: str, after: timedelta) -> None:
        async with self.db.transaction() as session:
            row = await session.get(CarrierItem, attempt_id)
            if row is None or row.booking != PENDING:
                return
            row.tries += 1
            row.last_error = error[:500]
            row.next_try_at = self.clock.now() + after
            row.updated_at = self.clock.now()
            session.add(row)
