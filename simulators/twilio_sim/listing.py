"""Twilio's list reads: the To/From/DateSent filters and the page envelope the SDK pages through."""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

from shared.plumbing.clock import utc
from simulators.twilio_sim.errors import TwilioError
from simulators.twilio_sim.resources import Message

FILTERS = ("To", "From", "DateSent", "DateSent<", "DateSent>")
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
# `DateSent>` and `DateSent<` arrive as `DateSent>=` and `DateSent<=` in the query string: bounds are inclusive.
_DATE_TESTS: dict[str, Callable[[Any, Any], bool]] = {"DateSent": operator.eq, "DateSent>": operator.ge, "DateSent<": operator.le}


def _bound(name: str, raw: str) -> date | datetime:
    try:
        # A bare date compares by calendar day (UTC), a timestamp to the second.
        return date.fromisoformat(raw) if len(raw) == 10 else utc(datetime.fromisoformat(raw))
    except ValueError:
        raise TwilioError(20001, f"Invalid {name}: {raw} is neither YYYY-MM-DD nor an ISO 8601 timestamp") from None


def message_filter(filters: Mapping[str, str]) -> Callable[[Message], bool]:
    """Returns a test for the messages a list read with `filters` selects."""
    bounds = {name: _bound(name, raw) for name, raw in filters.items() if name in _DATE_TESTS}

    def selects(message: Message) -> bool:
        if "To" in filters and message.to != filters["To"]:
            return False
        if "From" in filters and message.from_ != filters["From"]:
            return False
        if not bounds:
            return True
        sent = message.date_sent
        if sent is None:
            return False
        return all(_DATE_TESTS[name](sent if isinstance(bound, datetime) else sent.date(), bound) for name, bound in bounds.items())

    return selects


def page_params(query: Mapping[str, str]) -> tuple[int, int]:
    """Returns (page, page size) from Page and PageSize."""
    try:
        page = max(int(query.get("Page", 0)), 0)
        size = min(max(int(query.get("PageSize", DEFAULT_PAGE_SIZE)), 1), MAX_PAGE_SIZE)
    except ValueError:
        raise TwilioError(20001, "Page and PageSize must be whole numbers") from None
    return page, size


def page_envelope(records: Sequence[dict[str, Any]], *, key: str, path: str, filters: Mapping[str, str], page: int, size: int) -> dict[str, Any]:
    """Returns one page of `records` in Twilio's envelope, with URIs that keep the filters."""

    def uri(number: int) -> str:
        return f"{path}?{urlencode([*filters.items(), ('PageSize', size), ('Page', number)])}"

    start = page * size
    chunk = list(records[start : start + size])
    return {
        key: chunk,
        "end": start + max(len(chunk) - 1, 0),
        "first_page_uri": uri(0),
        "next_page_uri": uri(page + 1) if start + size < len(records) else None,
        "page": page,
        "page_size": size,
        "previous_page_uri": uri(page - 1) if page > 0 else None,
        "start": start,
        "uri": uri(page),
    }
