"""The running simulator: its waybills, what it was told to do, and the items it is playing out."""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Annotated

import structlog
from fastapi import Depends, Request

from shared.contracts.ems_wire import RET_NO_RECEIPT, RET_NO_WAYBILL, RET_NOT_CANCELLABLE, RET_OK, RET_OUT_OF_AREA
from shared.plumbing.clock import Clock
from simulators.ems_sim import lifecycle, receipts, timeline
from simulators.ems_sim.config import EmsSimSettings
from simulators.ems_sim.mix import NO_FAULTS, Faults, RandomMix, Weather
from simulators.ems_sim.offices import station_for
from simulators.ems_sim.orders import Booking
from simulators.ems_sim.pushes import PushSender
from simulators.ems_sim.replies import Refusal
from simulators.ems_sim.scripts import Delivered, Script, Scripts
from simulators.ems_sim.waybills import ScanNote, Waybill

log = structlog.get_logger(__name__)


class Simulator:
    """Waybills by number and by order, scripts, the random mix and the background lives of the items."""

    def __init__(self, *, settings: EmsSimSettings, clock: Clock, pushes: PushSender) -> None:
        self.settings = settings
        self.clock = clock
        self.pushes = pushes
        self.key = settings.key
        self.scripts = Scripts()
        self.mix = RandomMix(settings.seed)
        self.faults = Faults.from_settings(settings)
        self.waybills: dict[str, Waybill] = {}
        self._by_order: dict[str, Waybill] = {}
        self._lives: dict[str, asyncio.Task[None]] = {}

    def script_for(self, booking: Booking) -> Script | None:
        """Returns the script for a booking's receiver, if any."""
        return self.scripts.for_receiver(phone=booking.receiver.mobile, address=booking.receiver.address)

    def weather(self, *, clean: bool) -> Weather:
        """Draws how the API answers a call; a clean item always gets a fair answer."""
        return self.mix.weather(NO_FAULTS if clean else self.faults)

    def booked(self, order_no: str) -> Waybill | None:
        """Returns the waybill an order was already booked as, if any."""
        return self._by_order.get(order_no)

    def book(self, booking: Booking, script: Script | None) -> Waybill:
        """Books an item and starts its life, or raises B00004 when its script refuses the booking."""
        if script is not None and script.booking == "refused":
            log.info("waybill.refused", order=booking.logistics_order_no)
            raise Refusal(RET_OUT_OF_AREA)
        number = self.mix.waybill_no()
        while number in self.waybills:
            number = self.mix.waybill_no()
        delivery = script.delivery if script is not None and script.delivery is not None else self.mix.delivery()
        waybill = Waybill(
            number=number,
            order_no=booking.logistics_order_no,
            receiver_phone=booking.receiver.mobile,
            delivery=delivery,
            clean=script is not None and script.clean,
            booked_at=self.clock.now().replace(microsecond=0),
            withheld_scans=script.withhold_scan if script is not None else 0,
        )
        nodes = timeline.plan(
            waybill_no=number,
            booked_at=waybill.booked_at,
            delivery=delivery,
            receiver_name=booking.receiver.name,
            station=station_for(booking.receiver.post_code),
            mix=self.mix,
        )
        fates = lifecycle.push_fates(nodes, script=script, faults=self.faults, mix=self.mix)
        self.waybills[number] = self._by_order[waybill.order_no] = waybill
        life = lifecycle.play(waybill, nodes, fates, url=self.settings.push_url, clock=self.clock, pushes=self.pushes)
        task = asyncio.create_task(life, name=f"ems_sim.waybill.{number}")
        self._lives[number] = task
        task.add_done_callback(partial(self._ended, number))
        log.info("waybill.booked", waybill=number, order=waybill.order_no, outcome=delivery.outcome)
        return waybill

    def find(self, number: str) -> Waybill:
        """Returns a waybill, or raises B00002."""
        waybill = self.waybills.get(number)
        if waybill is None:
            raise Refusal(RET_NO_WAYBILL)
        return waybill

    def receipt_scan(self, number: str) -> bytes:
        """Returns the PNG of an item's receipt card, or raises B00005 until its 801 has happened and while its script withholds the scan."""
        waybill = self.find(number)
        delivery, signed_on = waybill.delivery, waybill.signed_on
        if waybill.receipt_back and isinstance(delivery, Delivered) and signed_on is not None:
            if not waybill.withheld_scans:
                waybill.scans.append(ScanNote(RET_OK, self.clock.now()))
                return receipts.card(waybill_no=number, signer=delivery.signer, signed_on=signed_on)
            waybill.withheld_scans -= 1
        waybill.scans.append(ScanNote(RET_NO_RECEIPT, self.clock.now()))
        raise Refusal(RET_NO_RECEIPT)

    def cancel(self, number: str) -> Waybill:
        """Cancels an item that is not yet out for delivery and stops its life; cancelling twice is harmless."""
        waybill = self.find(number)
        if waybill.cancelled:
            return waybill
        if not waybill.cancellable:
            raise Refusal(RET_NOT_CANCELLABLE)
        waybill.cancelled = True
        life = self._lives.get(number)
        if life is not None:
            life.cancel()
        log.info("waybill.cancelled", waybill=number, order=waybill.order_no)
        return waybill

    def _ended(self, number: str, task: asyncio.Task[None]) -> None:
        self._lives.pop(number, None)
        if not task.cancelled() and task.exception() is not None:
            log.error("lifecycle.crashed", task=task.get_name(), exc_info=task.exception())

    async def stop(self) -> None:
        """Cancels every life still playing out and waits for each to end."""
        lives = list(self._lives.values())
        for life in lives:
            life.cancel()
        await asyncio.gather(*lives, return_exceptions=True)


async def get_simulator(request: Request) -> Simulator:
    """Returns the running simulator."""
    return request.app.state.simulator


SimulatorDep = Annotated[Simulator, Depends(get_simulator)]
