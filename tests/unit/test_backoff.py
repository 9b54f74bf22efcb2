"""Exponential backoff: growth by the factor, the cap, the jitter band and reset."""

from __future__ import annotations

import pytest

import shared.plumbing.backoff
from shared.plumbing.backoff import Backoff


def nominal(initial: float, maximum: float, factor: float, count: int) -> list[float]:
    """The un-jittered delays: initial · factorⁿ, never above maximum."""
    return [min(initial * factor**n, maximum) for n in range(count)]


CASES = [
    (0.1, 5.0, 2.0),  # the defaults
    (1.0, 30.0, 3.0),
    (0.5, 0.5, 2.0),  # capped from the start
    (0.25, 10.0, 1.5),
]


@pytest.fixture
def no_jitter(monkeypatch: pytest.MonkeyPatch) -> None:
    """Makes the jitter draw its upper bound (1.0), so delays are the nominal ones."""
    monkeypatch.setattr(shared.plumbing.backoff.random, "uniform", lambda low, high: high)


def test_defaults(no_jitter: None) -> None:
    backoff = Backoff()
    assert [backoff.next() for _ in range(8)] == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0])


@pytest.mark.parametrize(("initial", "maximum", "factor"), CASES)
def test_the_delay_after_n_failures_is_the_nth_delay(no_jitter: None, initial: float, maximum: float, factor: float) -> None:
    backoff = Backoff(initial=initial, maximum=maximum, factor=factor)
    assert [backoff.after(tries) for tries in range(1, 13)] == pytest.approx(nominal(initial, maximum, factor, 12))


@pytest.mark.parametrize(("initial", "maximum", "factor"), CASES)
def test_delays_grow_by_factor_up_to_maximum(no_jitter: None, initial: float, maximum: float, factor: float) -> None:
    backoff = Backoff(initial=initial, maximum=maximum, factor=factor)
    assert [backoff.next() for _ in range(12)] == pytest.approx(nominal(initial, maximum, factor, 12))


@pytest.mark.parametrize(("initial", "maximum", "factor"), CASES)
def test_jitter_stays_within_twenty_percent_below(initial: float, maximum: float, factor: float) -> None:
    backoff = Backoff(initial=initial, maximum=maximum, factor=factor)
    for expected in nominal(initial, maximum, factor, 200):
        delay = backoff.next()
        assert 0.8 * expected <= delay <= expected <= maximum


def test_jitter_varies() -> None:
    backoff = Backoff(initial=1.0, maximum=1.0)
    assert len({backoff.next() for _ in range(50)}) > 1


@pytest.mark.parametrize(("initial", "maximum", "factor"), CASES)
def test_reset_returns_to_initial(no_jitter: None, initial: float, maximum: float, factor: float) -> None:
    backoff = Backoff(initial=initial, maximum=maximum, factor=factor)
    for _ in range(6):
        backoff.next()
    backoff.reset()
    assert [backoff.next() for _ in range(3)] == pytest.approx(nominal(initial, maximum, factor, 3))


def test_an_initial_delay_above_the_maximum_is_capped(no_jitter: None) -> None:
    backoff = Backoff(initial=10.0, maximum=2.0)
    assert [backoff.next() for _ in range(3)] == [2.0, 2.0, 2.0]
    backoff.reset()
    assert backoff.next() == 2.0
