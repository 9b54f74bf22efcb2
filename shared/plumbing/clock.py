"""The one source of "now": real time, or scaled time every process derives from the same epoch."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from shared.plumbing.settings import CommonSettings

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Clock(Protocol):
    """Tells the time and sleeps in domain time."""

    def now(self) -> datetime: ...

    async def sleep(self, seconds: float) -> None: ...


class RealClock:
    """Wall-clock time in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


@dataclass(frozen=True)
class ScaledClock:
    """Domain time running `scale` times faster than real time from a shared anchor.

    At the real instant `anchor` the domain time is `epoch`; every process given the same three values
    agrees on "now", which is what lets a five-day EMS cycle run in seconds across services.
    """

    epoch: datetime
    anchor: datetime
    scale: float

    def now(self) -> datetime:
        real = datetime.fromtimestamp(time.time(), UTC)
        return self.epoch + (real - self.anchor) * self.scale

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds / self.scale)

    def environment(self) -> dict[str, str]:
        """Returns the settings (SONGDA_CLOCK and its values) that put another process on this clock."""
        return {
            "SONGDA_CLOCK": "scaled",
            "SONGDA_CLOCK_EPOCH": self.epoch.isoformat(),
            "SONGDA_CLOCK_ANCHOR": self.anchor.isoformat(),
            "SONGDA_TIME_SCALE": repr(self.scale),
        }


def _parse_instant(value: str, name: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"{name} must be an ISO 8601 timestamp, got {value!r}") from exc
    if parsed.tzinfo is None:
        raise ValueError(f"{name} must carry a UTC offset, got {value!r}")
    return parsed.astimezone(UTC)


def clock_from_settings(settings: CommonSettings) -> Clock:
    """Builds the clock SONGDA_CLOCK asks for."""
    if settings.clock == "real":
        return RealClock()
    if settings.clock != "scaled":
        raise ValueError(f"SONGDA_CLOCK must be 'real' or 'scaled', got {settings.clock!r}")
    if not settings.clock_epoch:
        raise ValueError("SONGDA_CLOCK=scaled needs SONGDA_CLOCK_EPOCH (the domain time at the anchor)")
    if settings.time_scale <= 0:
        raise ValueError("SONGDA_TIME_SCALE must be positive")
    epoch = _parse_instant(settings.clock_epoch, "SONGDA_CLOCK_EPOCH")
    anchor = _parse_instant(settings.clock_anchor, "SONGDA_CLOCK_ANCHOR") if settings.clock_anchor else epoch
    return ScaledClock(epoch=epoch, anchor=anchor, scale=settings.time_scale)


def utc(dt: datetime) -> datetime:
    """Returns `dt` as an aware UTC datetime; naive values are taken to be UTC already."""
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def local_date(dt: datetime) -> date:
    """Returns the calendar date in Asia/Shanghai, the date courts and the law count in."""
    return utc(dt).astimezone(SHANGHAI).date()
