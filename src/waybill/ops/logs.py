"""Log output: uvicorn's text lines, or one JSON object per line for log collectors.

Nothing here formats a request's headers or body, so tokens and bundles cannot reach the log."""

from __future__ import annotations

import json
import logging
import os
import time
from typing import Any

ACCESS = logging.getLogger("waybill.access")
# The fields an access line carries beside the message (``logging``'s ``extra``).
ACCESS_FIELDS = ("request_id", "client", "method", "route", "path", "status", "duration_ms")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in ACCESS_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, separators=(",", ":"))


def uvicorn_config(log_format: str) -> dict[str, Any]:
    """A ``logging.config`` dictionary for uvicorn and Waybill's loggers. In JSON, Waybill writes the
    access lines itself (with the request id, route and duration, which uvicorn's lack)."""
    if log_format != "json":
        from uvicorn.config import LOGGING_CONFIG

        return LOGGING_CONFIG
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {"json": handler},
        "root": {"handlers": ["json"], "level": "WARNING"},
        "loggers": {
            "uvicorn": {"handlers": ["json"], "level": "INFO", "propagate": False},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            "waybill": {"handlers": ["json"], "level": "INFO", "propagate": False},
        },
    }


def access(
    request_id: str, method: str, route: str, path: str, status: int, seconds: float, client: str = ""
) -> None:
    ACCESS.info(
        "%s %s %d",
        method,
        route,
        status,
        extra={
            "request_id": request_id,
            "client": client,
            "method": method,
            "route": route,
            "path": path,
            "status": status,
            "duration_ms": round(seconds * 1000, 3),
        },
    )


def worker_failed(exc: BaseException) -> None:
    """The one line (with its traceback) that says why a worker process could not start."""
    logging.getLogger("waybill").critical(
        "worker process %d could not start: %s: %s", os.getpid(), type(exc).__name__, exc, exc_info=exc
    )
