"""Run the service with uvicorn (one process; see the deployment how-to for more workers)."""

from __future__ import annotations

import uvicorn

from fasciculate.service._app import create_app
from fasciculate.service._config import ServiceConfig
from fasciculate.service._logging import configure


def serve(config: ServiceConfig, *, host: str | None = None, port: int | None = None) -> None:
    """Serve *config*'s CDS service until interrupted, logging JSON lines to stderr.

    Args:
        config: The service configuration (:func:`load_config`).
        host: Listen on this address instead of ``config.host``.
        port: Listen on this port instead of ``config.port``.
    """
    configure(config.log_level)
    uvicorn.run(
        create_app(config),
        host=host or config.host,
        port=config.port if port is None else port,
        log_config=None,
        access_log=False,
        server_header=False,
        proxy_headers=False,
    )
