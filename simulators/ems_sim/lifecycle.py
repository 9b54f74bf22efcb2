"""Plays out an item's planned nodes in domain time: each is recorded when it happens, then pushed as its fate says."""

from __future__ import annotations

from collections.abc import Sequence

import structlog

from shared.plumbing.clock import Clock
from simulators.ems_sim.mix import NO_FAULTS, Fate, Faults, RandomMix
from simulators.ems_sim.pushes import PushSender
from simulators.ems_sim.scripts import Script
from simulators.ems_sim.timeline import Node
from simulators.ems_sim.waybills import Waybill

log = structlog.get_logger(__name__)


def push_fates(nodes: Sequence[Node], *, script: Script | None, faults: Faults, mix: RandomMix) -> list[Fate]:
    """Decides at booking how each node will be pushed: the script's switches first, then chance unless clean."""
    chance = NO_FAULTS if script is not None and script.clean else faults
    codes = [node.trace.op_code for node in nodes]
    held = len(codes) - 1 - codes[::-1].index("702") if script is not None and script.reorder else None
    fates = []
    for index, code in enumerate(codes):
        if script is not None and code in script.drop:
            fates.append(Fate.DROP)
        elif script is not None and code in script.duplicate:
            fates.append(Fate.DUPLICATE)
        elif index == held:
            fates.append(Fate.HOLD)
        else:
            fates.append(mix.fate(chance, can_hold=index < len(codes) - 1))
    return fates


async def play(waybill: Waybill, nodes: Sequence[Node], fates: Sequence[Fate], *, url: str, clock: Clock, pushes: PushSender) -> None:
    """Records each node at its planned instant and pushes it: dropped ones never, held ones after the next node."""

    async def push(node: Node, action: str) -> None:
        delivered = await pushes.send(url, node.trace)
        waybill.note(node.trace, action if delivered else "abandoned", at=clock.now())

    held: Node | None = None
    for node, fate in zip(nodes, fates, strict=True):
        await clock.sleep(max(0.0, (node.at - clock.now()).total_seconds()))
        waybill.record(node.trace)
        log.info("trace.recorded", waybill=waybill.number, op_code=node.trace.op_code, fate=fate)
        if fate is Fate.HOLD:
            waybill.note(node.trace, "held", at=clock.now())
            earlier, held = held, node
            if earlier is not None:
                await push(earlier, "pushed")
            continue
        if fate is Fate.DROP:
            waybill.note(node.trace, "dropped", at=clock.now())
        else:
            await push(node, "pushed")
            if fate is Fate.DUPLICATE:
                await push(node, "duplicated")
        if held is not None:
            await push(held, "pushed")
            held = None
    waybill.finished = True
