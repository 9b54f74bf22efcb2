"""Which errors the consumer retries until they pass (our surroundings) and which it dead-letters after its attempts (the message)."""

from __future__ import annotations

import pytest

from shared.plumbing.consumer import is_transient
from shared.plumbing.ledger import Busy


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (ConnectionRefusedError("broker down"), True),
        (TimeoutError("no answer"), True),
        (OSError("network unreachable"), True),
        (Busy("ems_booking ems:book:a-1 is being made by another process"), True),
        (ValueError("a field the handler cannot read"), False),
        (KeyError("recipient"), False),
    ],
)
def test_errors_about_our_surroundings_are_transient(error: Exception, transient: bool) -> None:
    assert is_transient(error) is transient
