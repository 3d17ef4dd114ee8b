"""structlog, configured once per process: JSON off a TTY, and a last-line scrubber for personal data."""
from __future__ import annotations

import logging
import re
import sys

import structlog

# Defence in depth: code never logs personal fields, but a stray value must still not reach a log.
_ID_NUMBER = re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)")
_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def _scrub(value: object) -> object:
    if isinstance(value, str):
        return _MOBILE.sub("[phone]", _ID_NUMBER.sub("[id-number]", value))
    return value


def scrub_personal_data(_logger, _method, event_dict: dict) -> dict:
    return {key: _scrub(value) for key, value in event_dict.items()}


def configure_logging(level: str = "info", *, json: bool | None = None) -> None:
    """Set up structlog for this process; `json=None` picks JSON when stderr is not a terminal."""
    use_json = (not sys.stderr.isatty()) if json is None else json
    renderer = structlog.processors.JSONRenderer() if use_json else structlog.dev.ConsoleRenderer(colors=False)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            scrub_personal_data,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )


def get_logger(name: str):
    return structlog.get_logger(name)
