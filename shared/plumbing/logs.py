"""Structured logging for every process, with personal data masked before anything is written."""

from __future__ import annotations

import logging
import sys

import structlog

from shared.plumbing.masking import mask_event_dict


def _drop_color_message(_logger: object, _method: str, event_dict: structlog.types.EventDict) -> structlog.types.EventDict:
    # uvicorn adds an ANSI-coloured copy of each message for terminals; the plain one is enough.
    event_dict.pop("color_message", None)
    return event_dict


def configure(*, level: str = "INFO", fmt: str = "json", service: str | None = None) -> None:
    """Routes structlog and standard-library records (uvicorn, aiokafka) through one masking pipeline."""
    shared_processors: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        _drop_color_message,
        mask_event_dict,
    ]
    if service:
        structlog.contextvars.bind_contextvars(service=service)
    renderer = structlog.processors.JSONRenderer(ensure_ascii=False) if fmt == "json" else structlog.dev.ConsoleRenderer(colors=False)
    structlog.configure(
        processors=[structlog.stdlib.filter_by_level, *shared_processors, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.ExtraAdder(), *shared_processors],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # aiokafka reports every failed reconnect at ERROR; the relay and consumer log the outage once.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL if level.upper() != "DEBUG" else logging.DEBUG)
    # httpx logs every request URL at INFO; Twilio's list filters put a percent-encoded phone number there.
    logging.getLogger("httpx").setLevel(logging.WARNING)
