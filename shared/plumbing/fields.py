"""Where in a request or a row a pydantic error points, written as people read it."""

from __future__ import annotations

from collections.abc import Sequence

# Apart from problems.py, which loads FastAPI: an import's worker processes name fields too, and FastAPI was a third
# of their start (~0.6 s of CPU each).


def field_path(loc: Sequence[str | int]) -> str:
    """Turns a pydantic location into a readable path: ('body','recipients',0,'phones',1) → recipients[0].phones[1]."""
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        elif not str(part).startswith("function-"):
            path += f".{part}" if path else str(part)
    return path or "body"
