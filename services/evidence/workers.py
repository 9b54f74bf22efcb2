"""Evidence's timers: the checkpointer signs the log at intervals, the renderer typesets issued report versions as PDF, the court pusher delivers due report versions; each tick is a handler."""

from __future__ import annotations

from services.evidence import handlers
from services.evidence.deps import EvidenceDeps
from shared.plumbing.loops import repeat


async def sign_checkpoints(deps: EvidenceDeps, *, every_s: float) -> None:
    """Signs a checkpoint whenever the log has grown, every `every_s` seconds; the first at once."""
    await repeat(lambda: handlers.sign_checkpoint(deps), wait_s=every_s)


async def render_reports(deps: EvidenceDeps, *, poll_s: float) -> None:
    """Renders issued report versions as PDF one after another, so that a court's first request is served a stored file; waits `poll_s` whenever none is waiting."""
    await repeat(lambda: handlers.render_report(deps), wait_s=poll_s, again_while_busy=True)


async def push_reports(deps: EvidenceDeps, *, poll_s: float) -> None:
    """Pushes due report versions one after another, waiting `poll_s` whenever none is due."""
    await repeat(lambda: handlers.push_report(deps), wait_s=poll_s, again_while_busy=True)
