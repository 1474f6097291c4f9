"""Structured logs: `ATIENDE_LOG_FORMAT=json` writes one JSON object per line.

Every line carries the request id of the request (or job) that wrote it (`requestid`).
What goes in a line is the logger's message and a few fixed fields: no request body,
headers, cookies or message text are logged by atiende, and the values of arguments whose
name says secret (password, token, key, authorization) are masked here as a last guard.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re

from atiende.core import requestid

_SECRET = re.compile(
    r"(?i)\b(password|passwd|secret|token|api[_-]?key|authorization|bearer)\b(\s*[=:]\s*|\s+)(\S+)"
)


def mask(text: str) -> str:
    return _SECRET.sub(lambda m: f"{m.group(1)}{m.group(2)}***", text)


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = requestid.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": mask(record.getMessage()),
            "request_id": requestid.get() or None,
            "process": record.process,
        }
        if record.exc_info:
            entry["exception"] = mask(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)
