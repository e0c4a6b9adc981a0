"""Logging: readable lines on a terminal by default, JSON lines for machines.

Logs go to stderr so stdout stays for what a command produces (a plan, JSON). ``-v`` lowers
the level to debug; secrets never reach a log call (callers log addresses, not values).
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from typing import Any

from reconciler.model.secrets import mask_secrets


@dataclass
class _Settings:
    format: str = "console"
    verbose: int = 0
    structlog: bool = False
    """Whether structlog has been configured for these settings yet."""


_settings = _Settings()


def configure_logging(log_format: str = "console", verbose: int = 0) -> None:
    """Set up logging once per command: the stdlib root logger (libraries log through it) now,
    structlog on the first ``get_logger`` (importing it costs more than ``validate`` itself)."""
    _settings.format, _settings.verbose, _settings.structlog = log_format, verbose, False
    # Libraries (databricks-sdk, urllib3, mlflow) log through the stdlib: quiet unless -vv.
    # basicConfig is a no-op when handlers exist (an embedding app, pytest's capture).
    library_level = logging.DEBUG if verbose > 1 else logging.WARNING
    logging.basicConfig(
        level=library_level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )
    for name in _LIBRARIES:
        logging.getLogger(name).setLevel(library_level)
    for handler in logging.getLogger().handlers:
        if _MASK not in handler.filters:
            handler.addFilter(_MASK)


def debug_enabled() -> bool:
    """Whether ``-v`` asked for debug lines (callers skip building them otherwise)."""
    return _settings.verbose > 0


def _configure_structlog() -> None:
    # Lazy: structlog (and rich, which its console renderer loads) take a tenth of a second.
    import structlog

    level = logging.DEBUG if debug_enabled() else logging.INFO
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Any
    if _settings.format == "json":
        processors.append(structlog.processors.format_exc_info)
        renderer = structlog.processors.JSONRenderer(sort_keys=True)
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    structlog.configure(
        processors=[*processors, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=False,
    )
    _settings.structlog = True


class _MaskSecrets(logging.Filter):
    """The SDK's debug log (``-vv``) dumps request bodies, where environment variables hold
    ``{{secrets/...}}`` references: mask them in every library line before it is written."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        masked = mask_secrets(text)
        if masked != text:
            record.msg, record.args = masked, None
        return True


_MASK = _MaskSecrets()


_LIBRARIES = ("databricks", "urllib3", "mlflow", "alembic", "sqlalchemy")


def _stderr_logger(*_args: Any) -> Any:
    """Whatever ``sys.stderr`` is now: test runners swap it per command and close the old one."""
    # Lazy: see _configure_structlog.
    import structlog

    return structlog.PrintLogger(sys.stderr)


def get_logger(name: str | None = None, **context: Any) -> Any:
    """A structlog logger bound to ``context`` (e.g. ``target="prod"``)."""
    # Lazy: see _configure_structlog.
    import structlog

    if not _settings.structlog:
        _configure_structlog()
    return structlog.get_logger(name).bind(**context)
