"""The spread of outcomes, delays and misbehaviour real EMS traffic shows, drawn from one seedable generator."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import TypeVar

from shared.plumbing.clock import SHANGHAI
from simulators.ems_sim.config import EmsSimSettings
from simulators.ems_sim.scripts import Delivered, Delivery, Refused, Returned

T = TypeVar("T")

# Shares in percent, for items nobody scripted.
DELIVERY_MIX: tuple[tuple[Delivery, float], ...] = (
    (Delivered(), 56),
    (Delivered(signer="family"), 17),
    (Delivered(failed_attempts=1), 6),
    (Delivered(signer="family", failed_attempts=2), 2),
    (Delivered(signer="mail_room"), 4),
    (Delivered(signer="other"), 2),
    (Returned(), 8),
    (Returned(reason="address_wrong"), 2),
    (Returned(reason="moved"), 1),
    (Refused(), 2),
)


class Fate(StrEnum):
    """How one trace node reaches the gateway."""

    PUSH = "push"
    DROP = "drop"
    DUPLICATE = "duplicate"
    # Pushed only after the node that follows it.
    HOLD = "hold"


class Weather(StrEnum):
    """How the API answers one request."""

    FAIR = "fair"
    OUTAGE = "outage"
    SLOW = "slow"


@dataclass(frozen=True)
class Faults:
    """How often EMS misbehaves, each a probability per push or per API call."""

    duplicate: float = 0.0
    reorder: float = 0.0
    drop: float = 0.0
    outage: float = 0.0
    slow: float = 0.0

    @classmethod
    def from_settings(cls, settings: EmsSimSettings) -> Faults:
        """Returns the configured rates, or none at all when faults are off."""
        if not settings.faults:
            return cls()
        return cls(settings.duplicate_push_rate, settings.reorder_push_rate, settings.drop_push_rate, settings.outage_rate, settings.slow_answer_rate)


NO_FAULTS = Faults()


class RandomMix:
    """Draws everything random from one generator, so the same requests in the same order repeat a run."""

    def __init__(self, seed: int | None) -> None:
        self._rng = random.Random(seed)

    def delivery(self) -> Delivery:
        """Draws what becomes of an item."""
        outcomes, weights = zip(*DELIVERY_MIX, strict=True)
        return self._rng.choices(outcomes, weights)[0]

    def after(self, low: timedelta, high: timedelta) -> timedelta:
        """Draws a delay between `low` and `high`, to the second."""
        return timedelta(seconds=round(self._rng.uniform(low.total_seconds(), high.total_seconds())))

    def during(self, day: date, start: time, end: time) -> datetime:
        """Draws an instant of a Beijing day between `start` and `end`, to the second."""
        opens = datetime.combine(day, start, SHANGHAI)
        return opens + self.after(timedelta(0), datetime.combine(day, end, SHANGHAI) - opens)

    def days(self, low: int, high: int) -> int:
        """Draws a whole number of days from `low` to `high`."""
        return self._rng.randint(low, high)

    def pick(self, options: Sequence[T]) -> T:
        """Draws one of `options`."""
        return self._rng.choice(options)

    def waybill_no(self) -> str:
        """Draws a 13-digit domestic EMS waybill number."""
        return "11" + "".join(str(self._rng.randrange(10)) for _ in range(11))

    def fate(self, faults: Faults, *, can_hold: bool) -> Fate:
        """Draws how a node is pushed; the last node of an item has nothing to be held behind."""
        roll = self._rng.random()
        for fate, rate in ((Fate.DROP, faults.drop), (Fate.DUPLICATE, faults.duplicate), (Fate.HOLD, faults.reorder if can_hold else 0.0)):
            if roll < rate:
                return fate
            roll -= rate
        return Fate.PUSH

    def weather(self, faults: Faults) -> Weather:
        """Draws whether an API call meets an outage, a slow answer or neither."""
        roll = self._rng.random()
        if roll < faults.outage:
            return Weather.OUTAGE
        return Weather.SLOW if roll < faults.outage + faults.slow else Weather.FAIR
