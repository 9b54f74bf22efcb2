"""The clock: scaled domain time every process agrees on, its settings, and Shanghai calendar dates."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

import shared.plumbing.clock
from shared.plumbing.clock import RealClock, ScaledClock, clock_from_settings, local_date, utc
from shared.plumbing.settings import CommonSettings
from tests.support import real_seconds, until

EPOCH = "2026-11-23T00:00:00+00:00"
ANCHOR = "2026-01-01T00:00:00+00:00"
ANCHOR_TS = datetime(2026, 1, 1, tzinfo=UTC).timestamp()


@pytest.fixture(autouse=True)
def _no_songda_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith("SONGDA_")]:
        monkeypatch.delenv(name)


@pytest.fixture
def real_time(monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    """Replaces the clock module's time.time with a value the test sets."""
    fake = SimpleNamespace(now=ANCHOR_TS)
    monkeypatch.setattr(shared.plumbing.clock, "time", SimpleNamespace(time=lambda: fake.now))
    return fake


def scaled(**overrides: object) -> CommonSettings:
    values: dict[str, object] = {"clock": "scaled", "clock_epoch": EPOCH, "clock_anchor": ANCHOR, "time_scale": 3600}
    return CommonSettings(**{**values, **overrides})


def test_real_clock_by_default() -> None:
    clock = clock_from_settings(CommonSettings())
    assert isinstance(clock, RealClock)
    before = datetime.now(UTC)
    now = clock.now()
    assert now.tzinfo is not None and now.utcoffset() == timedelta(0)
    assert before <= now <= datetime.now(UTC)


def test_scaled_clocks_agree(real_time: SimpleNamespace) -> None:
    first, second = clock_from_settings(scaled()), clock_from_settings(scaled())
    for offset in (0.0, 1.5, 86400.25):
        real_time.now = ANCHOR_TS + offset
        assert first.now() == second.now()


def test_scaled_clock_is_epoch_at_anchor(real_time: SimpleNamespace) -> None:
    assert clock_from_settings(scaled()).now() == datetime(2026, 11, 23, tzinfo=UTC)


@pytest.mark.parametrize(("real_seconds", "domain"), [(1, timedelta(hours=1)), (2.5, timedelta(hours=2.5)), (24, timedelta(days=1))])
def test_scaled_clock_runs_scale_times_faster(real_time: SimpleNamespace, real_seconds: float, domain: timedelta) -> None:
    clock = clock_from_settings(scaled())
    start = clock.now()
    real_time.now = ANCHOR_TS + real_seconds
    assert abs((clock.now() - start) - domain) < timedelta(milliseconds=1)


async def test_scaled_sleep_is_shortened_by_scale(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(shared.plumbing.clock, "asyncio", SimpleNamespace(sleep=fake_sleep))
    await clock_from_settings(scaled()).sleep(7200)  # two domain hours
    assert slept == [2.0]


def test_anchor_defaults_to_epoch() -> None:
    clock = clock_from_settings(scaled(clock_anchor=None))
    assert isinstance(clock, ScaledClock)
    assert clock.anchor == clock.epoch == datetime(2026, 11, 23, tzinfo=UTC)


def test_epoch_offset_is_converted_to_utc() -> None:
    clock = clock_from_settings(scaled(clock_epoch="2026-11-23T08:00:00+08:00"))
    assert isinstance(clock, ScaledClock)
    assert clock.epoch == datetime(2026, 11, 23, tzinfo=UTC)
    assert clock.epoch.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"clock": "fast"}, "SONGDA_CLOCK must be 'real' or 'scaled'"),
        ({"clock_epoch": None}, "needs SONGDA_CLOCK_EPOCH"),
        ({"clock_epoch": ""}, "needs SONGDA_CLOCK_EPOCH"),
        ({"time_scale": 0}, "SONGDA_TIME_SCALE must be positive"),
        ({"time_scale": -60}, "SONGDA_TIME_SCALE must be positive"),
        ({"clock_epoch": "2026-11-23T08:00:00"}, "SONGDA_CLOCK_EPOCH must carry a UTC offset"),
        ({"clock_epoch": "next monday"}, "SONGDA_CLOCK_EPOCH must be an ISO 8601 timestamp"),
        ({"clock_anchor": "2026-01-01 00:00"}, "SONGDA_CLOCK_ANCHOR must carry a UTC offset"),
    ],
)
def test_clock_settings_errors(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        clock_from_settings(scaled(**overrides))


def test_clock_read_from_environment(monkeypatch: pytest.MonkeyPatch, real_time: SimpleNamespace) -> None:
    monkeypatch.setenv("SONGDA_CLOCK", "scaled")
    monkeypatch.setenv("SONGDA_CLOCK_EPOCH", EPOCH)
    monkeypatch.setenv("SONGDA_CLOCK_ANCHOR", ANCHOR)
    monkeypatch.setenv("SONGDA_TIME_SCALE", "3600")
    real_time.now = ANCHOR_TS + 1
    assert clock_from_settings(CommonSettings()).now() == datetime(2026, 11, 23, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("instant", "shanghai_date"),
    [
        (datetime(2026, 11, 23, 16, 30, tzinfo=UTC), date(2026, 11, 24)),  # 00:30 next day in UTC+8
        (datetime(2026, 11, 23, 15, 59, 59, tzinfo=UTC), date(2026, 11, 23)),  # 23:59:59 in UTC+8
        (datetime(2026, 11, 23, 16, 0, tzinfo=UTC), date(2026, 11, 24)),  # midnight in UTC+8
        (datetime(2026, 12, 31, 16, 0, tzinfo=UTC), date(2027, 1, 1)),
        (datetime(2026, 11, 24, 0, 30, tzinfo=timezone(timedelta(hours=8))), date(2026, 11, 24)),
        (datetime(2026, 11, 23, 10, 0, tzinfo=timezone(timedelta(hours=-8))), date(2026, 11, 24)),  # 18:00 UTC
        (datetime(2026, 11, 23, 16, 30), date(2026, 11, 24)),  # naive is taken as UTC
    ],
)
def test_local_date_is_shanghai(instant: datetime, shanghai_date: date) -> None:
    assert local_date(instant) == shanghai_date


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime(2026, 11, 23, 8, 0), datetime(2026, 11, 23, 8, 0, tzinfo=UTC)),
        (datetime(2026, 11, 23, 16, 0, tzinfo=timezone(timedelta(hours=8))), datetime(2026, 11, 23, 8, 0, tzinfo=UTC)),
    ],
)
def test_utc(value: datetime, expected: datetime) -> None:
    result = utc(value)
    assert result == expected
    assert result.utcoffset() == timedelta(0)


def test_a_test_reads_the_same_now_as_the_stack_it_configures(monkeypatch: pytest.MonkeyPatch) -> None:
    """The end-to-end tests take their times from the clock they hand the stack: the services must build that very clock."""
    ours = ScaledClock(epoch=datetime(2026, 11, 23, 1, tzinfo=UTC), anchor=datetime(2026, 12, 1, 3, 4, 5, 678901, tzinfo=UTC), scale=60.0)
    for name, value in ours.environment().items():
        monkeypatch.setenv(name, value)
    assert clock_from_settings(CommonSettings()) == ours


def test_real_seconds_are_domain_time_over_the_scale() -> None:
    clock = ScaledClock(epoch=datetime(2026, 11, 23, tzinfo=UTC), anchor=datetime(2026, 11, 23, tzinfo=UTC), scale=60)
    assert real_seconds(clock, timedelta(hours=1)) == 60
    assert real_seconds(clock, timedelta(minutes=-5)) == 0


async def test_until_returns_the_domain_time_once_the_moment_has_come() -> None:
    clock = ScaledClock(epoch=datetime(2026, 11, 23, tzinfo=UTC), anchor=datetime.now(UTC), scale=3600)
    passed = await until(clock, datetime(2026, 11, 22, tzinfo=UTC), what="a moment already past")
    assert passed >= datetime(2026, 11, 23, tzinfo=UTC)
    # A tenth of a domain hour is a tenth of a real second here.
    moment = clock.now() + timedelta(hours=0.1)
    assert await until(clock, moment, what="a tenth of an hour") >= moment
