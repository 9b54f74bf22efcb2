"""Plays out a message's or a call's life in domain time: each step updates the resource, then calls back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import structlog

from shared.plumbing.clock import Clock
from simulators.twilio_sim.callbacks import CallbackSender
from simulators.twilio_sim.mix import RandomMix
from simulators.twilio_sim.outcomes import Busy, CallOutcome, Completed, Delivered, Failed, NoAnswer, Undelivered
from simulators.twilio_sim.resources import Call, Message, new_sid, stamp

log = structlog.get_logger(__name__)

# The network gives up on an unanswered phone after about this long.
RING_SECONDS = 25.0


@dataclass(frozen=True)
class Step:
    """A status reached `after` domain seconds past the previous step."""

    after: float
    status: str
    error_code: int | None = None
    duration: int | None = None


def message_steps(outcome: Delivered | Undelivered | Failed, mix: RandomMix) -> list[Step]:
    """Plans a message's statuses; planned at create time so that a seed repeats the same run."""
    queued = Step(0.0, "queued")
    match outcome:
        case Failed(error_code=code):
            return [queued, Step(mix.seconds(1, 3), "failed", error_code=code)]
        case Undelivered(error_code=code):
            return [queued, Step(mix.seconds(1, 3), "sent"), Step(mix.seconds(2, 20), "undelivered", error_code=code)]
        case _:
            return [queued, Step(mix.seconds(1, 3), "sent"), Step(mix.seconds(2, 20), "delivered")]


def call_steps(outcome: CallOutcome, mix: RandomMix) -> list[Step]:
    """Plans a call's statuses; planned at create time so that a seed repeats the same run."""
    initiated = Step(mix.seconds(0.5, 1.5), "initiated")
    match outcome:
        case Completed(duration=duration):
            answered = Step(mix.seconds(3, 15), "in-progress")
            return [initiated, Step(mix.seconds(1, 3), "ringing"), answered, Step(duration, "completed", duration=duration)]
        case NoAnswer():
            return [initiated, Step(mix.seconds(1, 3), "ringing"), Step(RING_SECONDS, "no-answer")]
        case Busy():
            return [initiated, Step(mix.seconds(1, 3), "ringing"), Step(mix.seconds(2, 8), "busy")]
        case _:
            return [initiated, Step(mix.seconds(1, 2), "failed")]


async def play_message(message: Message, steps: Sequence[Step], *, clock: Clock, callbacks: CallbackSender) -> None:
    """Moves a message through its planned statuses, calling back after each when a callback was given."""
    for step in steps:
        await clock.sleep(step.after)
        message.reach(step.status, now=stamp(clock), error_code=step.error_code)
        log.info("message.status", sid=message.sid, status=message.status, error_code=message.error_code)
        if message.status_callback:
            callbacks.post(message.status_callback, message.callback_params())


async def play_call(call: Call, steps: Sequence[Step], *, recording_after: float | None, clock: Clock, callbacks: CallbackSender) -> None:
    """Moves a call through its planned statuses, then reports its recording `recording_after` seconds later."""
    sequence = 0
    for step in steps:
        await clock.sleep(step.after)
        call.reach(step.status, now=stamp(clock), duration=step.duration)
        log.info("call.status", sid=call.sid, status=call.status)
        if call.status_callback and call.calls_back_on(call.status):
            callbacks.post(call.status_callback, call.callback_params(sequence=sequence))
            sequence += 1
    if recording_after is None:
        return
    await clock.sleep(recording_after)
    call.recording_sid = new_sid("RE")
    if call.recording_status_callback:
        callbacks.post(call.recording_status_callback, call.recording_params())
