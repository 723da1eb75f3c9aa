"""JSON log lines, one per event, with the service name, level and request id; PII masked.

`configure(service, level)` installs the formatter on the root logger. `request_id` is a
context variable: set it while handling one webhook or stream entry and every line logged in
that task carries it. Phone numbers and WhatsApp addresses are masked to their last 4 digits
wherever they appear in a message or a field; fields named like secrets are never printed.
"""

from __future__ import annotations

import contextvars
import logging
import re
import sys
import time
from typing import Any

import orjson

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

# E.164-like numbers (with or without +, optional whatsapp: prefix) of 7+ digits.
_PHONE = re.compile(r"(?<![\w])(\+?)(\d{3,})(\d{4})(?!\d)")
_SECRET_NAMES = re.compile(r"token|secret|password|authorization|auth|signature|cookie", re.I)
_PII_NAMES = re.compile(r"^(name|profile_name|address|body|text|label)$", re.I)
_RESERVED = frozenset(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime", "color_message"}


def mask(text: str) -> str:
    """Mask every run of 7 or more digits except its last 4: `+15551230001` -> `+*******0001`."""
    return _PHONE.sub(lambda m: m.group(1) + "*" * len(m.group(2)) + m.group(3), text)


def mask_value(key: str, value: Any) -> Any:
    """Mask one structured log field by its name: secrets dropped, PII shortened, numbers masked."""
    if _SECRET_NAMES.search(key):
        return "[redacted]"
    if isinstance(value, str):
        if _PII_NAMES.match(key):
            return f"[{len(value)} chars]"
        return mask(value)
    return value


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object: ts, level, service, logger, request_id, msg, extras."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        """Render `record`; never raises on odd extra values (they are stringified)."""
        line: dict[str, Any] = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "request_id": getattr(record, "request_id", None) or request_id.get(),
            "msg": mask(record.getMessage()),
        }
        for key, value in record.__dict__.items():
            if key not in _RESERVED and key != "request_id" and not key.startswith("_"):
                line[key] = mask_value(key, value)
        if record.exc_info:
            line["exc"] = mask(self.formatException(record.exc_info))
        return orjson.dumps(line, default=str).decode()


def configure(service: str, level: str = "INFO") -> None:
    """Send every logger's records to stderr as JSON lines tagged with `service`."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # uvicorn's own access log costs half the throughput; its error log stays.
    logging.getLogger("uvicorn.access").disabled = True
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.Formatter.converter = time.gmtime
