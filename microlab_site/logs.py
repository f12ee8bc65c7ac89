"""Structured logs: one JSON object per line, with run and user ids when given."""

import json
import logging

# Attributes every LogRecord has; anything else came in through `extra=`.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
_NEVER_LOGGED = {"password", "text", "content", "upload"}


class JsonFormatter(logging.Formatter):
    def format(self, record):
        line = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "event": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in _NEVER_LOGGED:
                line[key] = value if isinstance(value, int | float | bool | None) else str(value)
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line)


class ExpectedClientErrors(logging.Filter):
    """A 403 or 404 is an expected answer (someone followed an old link, or tried a page
    that is not theirs), not a server problem: log it at INFO, without a traceback."""

    EXPECTED = {403, 404}

    def filter(self, record):
        if getattr(record, "status_code", None) in self.EXPECTED:
            record.levelno, record.levelname = logging.INFO, "INFO"
            record.exc_info, record.exc_text = None, None
        return True
