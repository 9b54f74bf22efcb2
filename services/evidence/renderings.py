"""Which report versions this process is rendering as PDF, so that each is rendered once while requests for it wait, and which failed to render."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

Version = tuple[str, int]


@dataclass
class _Turn:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    waiting: int = 0


class Renderings:
    """One turn per version at a time: the first caller renders, the others wait and then find the stored file; versions whose rendering failed are not tried again in the background."""

    def __init__(self) -> None:
        self._turns: dict[Version, _Turn] = {}
        self.failed: set[Version] = set()

    @asynccontextmanager
    async def turn(self, version: Version) -> AsyncIterator[None]:
        """Waits until no one else in this process renders `version`, and holds it meanwhile."""
        turn = self._turns.setdefault(version, _Turn())
        turn.waiting += 1
        try:
            async with turn.lock:
                yield
        finally:
            turn.waiting -= 1
            if turn.waiting == 0:
                del self._turns[version]
