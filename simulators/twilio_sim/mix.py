"""The spread of outcomes and delays real traffic shows, drawn for numbers nobody scripted; seeded, it repeats."""

from __future__ import annotations

import random

from simulators.twilio_sim.outcomes import Busy, CallFailed, CallOutcome, Completed, Delivered, Failed, NoAnswer, SmsOutcome, Undelivered

# Shares in percent.
SMS_MIX: tuple[tuple[SmsOutcome, float], ...] = (
    (Delivered(), 88),
    (Undelivered(error_code=30003), 4),
    (Undelivered(error_code=30005), 3),
    (Undelivered(error_code=30006), 3),
    (Failed(error_code=30008), 2),
)
CALL_MIX: tuple[tuple[CallOutcome, float], ...] = ((Completed(), 60), (NoAnswer(), 25), (Busy(), 10), (CallFailed(), 5))
ANSWERED_CALL_SECONDS = (20, 90)


class RandomMix:
    """Draws outcomes and delays from one generator, so the same requests in the same order repeat a run."""

    def __init__(self, seed: int | None) -> None:
        self._rng = random.Random(seed)

    def sms(self) -> SmsOutcome:
        """Draws what becomes of a message."""
        outcomes, weights = zip(*SMS_MIX, strict=True)
        return self._rng.choices(outcomes, weights)[0]

    def call(self) -> CallOutcome:
        """Draws what becomes of a call, with a talk time when it is answered."""
        outcomes, weights = zip(*CALL_MIX, strict=True)
        outcome = self._rng.choices(outcomes, weights)[0]
        if isinstance(outcome, Completed):
            return Completed(duration=self._rng.randint(*ANSWERED_CALL_SECONDS))
        return outcome

    def seconds(self, low: float, high: float) -> float:
        """Draws a delay in domain seconds."""
        return self._rng.uniform(low, high)
