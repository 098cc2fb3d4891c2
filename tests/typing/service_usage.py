"""Public-API usage of fasciculate.service that mypy --strict checks."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import fasciculate.service
from fasciculate.service import ConfigError, ServiceConfig

if TYPE_CHECKING:
    from starlette.applications import Starlette


def app_from(path: Path) -> Starlette | None:
    """The ASGI app of a configuration file, or None when the file is wrong."""
    try:
        config: ServiceConfig = fasciculate.service.load_config(path)
    except ConfigError:
        return None
    return fasciculate.service.create_app(config)


def templates() -> dict[str, str]:
    """The prefetch templates, by key."""
    return fasciculate.service.prefetch_templates()


def overridden(path: Path) -> list[dict[str, Any]]:
    """The feedback records that overrode a card."""
    records = fasciculate.service.feedback_records(path, service="fasciculate-patient-view")
    return [record for record in records if record["outcome"] == "overridden"]


def base_url(config: ServiceConfig) -> str:
    """The URL a client's JWT audience starts with."""
    return config.base_url
