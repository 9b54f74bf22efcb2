"""Per-client rate limits on the surfaces without a token (e-delivery links, provider webhooks, health), answered 429.

Two kinds: every request counts against a surface's limit (a flood guard), and misses (an unknown link, a forged
signature) count against a much lower one that, once spent, refuses the client altogether for the window, so
guessing link tokens or webhook secrets gets nowhere while genuine traffic is not slowed.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from shared.plumbing.problems import Problem


class RateLimits:
    """The limits of one process, by surface; `limits` keeps the moving windows in memory."""

    def __init__(self, rules: Mapping[str, str]) -> None:
        self._items: dict[str, RateLimitItem] = {surface: parse(rule) for surface, rule in rules.items()}
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def check(self, surface: str, client: str, *, page: Callable[[], HTMLResponse] | None = None) -> None:
        """Counts one request of `client` on `surface`; raises Problem 429 (with `page` for browsers) when it is over the limit."""
        if not self._limiter.hit(self._items[surface], surface, client):
            raise self._refusal(surface, client, page)

    def refuse_if_spent(self, surface: str, client: str, *, page: Callable[[], HTMLResponse] | None = None) -> None:
        """Raises Problem 429 when `client` has used up `surface`'s limit, without counting this request."""
        if not self._limiter.test(self._items[surface], surface, client):
            raise self._refusal(surface, client, page)

    def miss(self, surface: str, client: str) -> None:
        """Counts one miss of `client` on `surface` (the request itself is answered as usual)."""
        self._limiter.hit(self._items[surface], surface, client)

    def _refusal(self, surface: str, client: str, page: Callable[[], HTMLResponse] | None) -> Problem:
        item = self._items[surface]
        reset_at, _ = self._limiter.get_window_stats(item, surface, client)
        retry_after = max(1, math.ceil(reset_at - time.time()))
        detail = f"More than {item} from this address on {surface}; try again in {retry_after} s."
        return Problem(429, "Too many requests", detail, headers={"Retry-After": str(retry_after)}, page=page)


def client_of(request: Request) -> str:
    """Returns the address a limit is kept for (behind a proxy, uvicorn's --proxy-headers makes it the real client)."""
    return request.client.host if request.client else "unknown"


def limited(surface: str, *, misses: str | None = None, page: Callable[[], HTMLResponse] | None = None) -> Callable[..., Any]:
    """Builds a dependency that counts the request against `surface` and refuses a client whose `misses` are spent (routers document the 429)."""

    async def dependency(request: Request) -> None:
        limits: RateLimits = request.app.state.rate_limits
        client = client_of(request)
        if misses is not None:
            limits.refuse_if_spent(misses, client, page=page)
        limits.check(surface, client, page=page)

    return dependency


def missed(request: Request, surface: str) -> None:
    """Counts a miss (an unknown link, a forged signature) against the client."""
    request.app.state.rate_limits.miss(surface, client_of(request))
