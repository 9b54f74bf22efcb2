"""Intake's rules: when a notice is due and how its addresses become candidates."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Any

from shared.workdays import add_working_days

# The working method's KPI: documents are delivered within three working days of receipt.
DUE_WORKING_DAYS = 3


def due_date(received_on: date, *, court_due: date | None = None) -> date:
    """Returns the court's own due date, or the third working day after receipt (day of receipt not counted, CPL 85)."""
    return court_due or add_working_days(received_on, DUE_WORKING_DAYS)


def fingerprint(payload: dict[str, Any]) -> str:
    """Hashes a normalised notice so a resubmission can be told from a conflicting one."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()
