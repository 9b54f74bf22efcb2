"""Masks personal data (phones, ID numbers, e-mail, addresses, names) in log records."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from structlog.typing import EventDict, WrappedLogger

from shared.contracts.values import Phone, mask_id_number, mask_phone

# E-mail is tried first so that QQ addresses, often a bare mobile number, are masked as addresses.
# Letters and digits on either side disqualify a match so that runs inside UUIDs, hex digests and
# longer identifiers are left alone.
_TEXT_PATTERN = re.compile(
    r"(?<![A-Za-z0-9._%+-])(?P<email>[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})"
    r"|(?<![0-9A-Za-z])(?P<resident_id>\d{17}[\dXx])(?![0-9A-Za-z])"
    # GB 32100-2015 layout: authority and type, six-digit division code, nine-character
    # organisation code, check character; capitals only, without I, O, S, V, Z.
    r"|(?<![0-9A-Za-z])(?P<uscc>[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10})(?![0-9A-Za-z])"
    r"|(?<![0-9A-Za-z+])(?P<e164>\+\d{8,15})(?!\d)"
    r"|(?<![0-9A-Za-z+])(?P<cn_mobile>(?:\+?86[ -]?)?1[3-9]\d(?P<sep>[ -]?)\d{4}(?P=sep)\d{4})(?![0-9A-Za-z])"
)
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")
_PHONE_LIKE = re.compile(r"\+?[\d\s()-]+")

PERSONAL_KEYS = frozenset(
    {
        "phone",
        "phones",
        "mobile",
        "id_number",
        "email",
        "emails",
        "address",
        "addresses",
        "name",
        "recipient_name",
        "postcode",
    }
)


def _mask_email(value: str) -> str:
    local, _, domain = value.rpartition("@")
    return f"{local[:1]}***@{domain}"


def _mask_generic(value: str) -> str:
    return value[:1] + "***" if value else ""


def _mask_phone_value(value: str) -> str:
    return mask_phone(value) if _PHONE_LIKE.fullmatch(value) else _mask_generic(value)


def _mask_email_value(value: str) -> str:
    return _mask_email(value) if _EMAIL.fullmatch(value) else _mask_generic(value)


_STRING_MASKERS: dict[str, Callable[[str], str]] = {
    "phone": _mask_phone_value,
    "phones": _mask_phone_value,
    "mobile": _mask_phone_value,
    "id_number": mask_id_number,
    "email": _mask_email_value,
    "emails": _mask_email_value,
}


def _replace(match: re.Match[str]) -> str:
    text = match.group()
    if match.lastgroup == "email":
        return _mask_email(text)
    if match.lastgroup in ("resident_id", "uscc"):
        return mask_id_number(text)
    return mask_phone(text)


def mask_text(s: str) -> str:
    """Mask phone numbers, ID numbers, credit codes and e-mail addresses inside free text."""
    return _TEXT_PATTERN.sub(_replace, s)


def _mask_personal(kind: str, value: object) -> object:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, Phone):
        return mask_phone(value.e164)
    if isinstance(value, dict):
        # Nested values stay personal: an address's street is no less personal under key "street".
        return {key: _mask_personal(key if key in PERSONAL_KEYS else kind, item) for key, item in value.items()}
    if isinstance(value, list):
        return [_mask_personal(kind, item) for item in value]
    if isinstance(value, tuple):
        return tuple(_mask_personal(kind, item) for item in value)
    return _STRING_MASKERS.get(kind, _mask_generic)(str(value))


def mask_value(key: str, value: object) -> object:
    """Mask a value whole if its key names personal data, otherwise mask what is found inside it."""
    if key in PERSONAL_KEYS:
        return _mask_personal(key, value)
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, Phone):
        return mask_phone(value.e164)
    if isinstance(value, dict):
        return {item_key: mask_value(str(item_key), item) for item_key, item in value.items()}
    if isinstance(value, list):
        return [mask_value(key, item) for item in value]
    if isinstance(value, tuple):
        return tuple(mask_value(key, item) for item in value)
    return value


def mask_event_dict(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> dict[str, Any]:
    """Structlog processor that masks personal data in every field, the event message included."""
    return {key: mask_value(key, value) for key, value in event_dict.items()}
