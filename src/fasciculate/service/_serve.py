"""Run the service with uvicorn: one process, or several workers sharing the database."""

from __future__ import annotations

import gc
import os
from typing import TYPE_CHECKING, Any

import uvicorn

import fasciculate
from fasciculate.service._app import create_app
from fasciculate.service._auth import registered_keys
from fasciculate.service._config import ServiceConfig
from fasciculate.service._logging import configure

if TYPE_CHECKING:
    from starlette.applications import Starlette

#: How the configuration reaches worker processes, which uvicorn starts afresh.
_ENVIRONMENT = "FASCICULATE_SERVICE_CONFIG"


def settle() -> None:
    """Build what the first call would (the rule table), then keep it out of the collector's scans.

    A call frees what it allocates by reference counting, but the cyclic collector's full passes
    would still walk every object alive since start-up (modules, models, the rule table): a pause
    of 10-15 ms every few hundred calls, which lands in the latency tail. ``gc.freeze`` moves
    them to a permanent generation, as CPython's documentation advises for long-running servers,
    so later passes scan only what came after. Done by the server process itself (:func:`serve`
    and each worker), not by :func:`~fasciculate.service.create_app`, which an application
    embedding the service may call.
    """
    fasciculate.assess(fasciculate.Presentation())
    gc.collect()
    gc.freeze()


def worker_app() -> Starlette:
    """The app of one worker process, from the configuration :func:`serve` passed on."""
    config = ServiceConfig.model_validate_json(os.environ[_ENVIRONMENT])
    configure(config.log_level)
    app = create_app(config)
    settle()
    return app


def serve(config: ServiceConfig, *, host: str | None = None, port: int | None = None) -> None:
    """Serve *config*'s CDS service until interrupted, logging JSON lines to stderr.

    With ``config.workers`` above 1, uvicorn runs that many worker processes on the one port;
    they share the SQLite database (feedback and the JWT replay cache).

    Args:
        config: The service configuration (:func:`load_config`).
        host: Listen on this address instead of ``config.host``.
        port: Listen on this port instead of ``config.port``.

    Raises:
        ConfigError: An issuer's JWKS file cannot be used (checked before anything starts).
    """
    registered_keys(config.auth)
    configure(config.log_level)
    host, port = host or config.host, config.port if port is None else port
    # The logs are the service's own (JSON, one line a call): uvicorn's are off.
    quiet: dict[str, Any] = {
        "proxy_headers": False,
        "log_config": None,
        "access_log": False,
        "server_header": False,
    }
    if config.workers == 1:
        app = create_app(config)
        settle()
        uvicorn.run(app, host=host, port=port, **quiet)
        return
    os.environ[_ENVIRONMENT] = config.model_dump_json()
    uvicorn.run(
        f"{__name__}:worker_app",
        factory=True,
        workers=config.workers,
        host=host,
        port=port,
        **quiet,
    )
