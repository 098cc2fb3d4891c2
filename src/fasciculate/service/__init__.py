"""A CDS Hooks 2.0.1 service for fasciculate (the optional extra ``fasciculate[service]``).

Three services (patient-view, order-select, order-sign) and their feedback, behind client JWTs,
as an ASGI application::

    config = fasciculate.service.load_config("service.toml")
    app = fasciculate.service.create_app(config)       # for any ASGI server
    fasciculate.service.serve(config)                  # or run it with uvicorn

``fasciculate serve --config FILE`` does the same from the command line. Importing
:mod:`fasciculate` never imports this package; importing this package imports no HTTP library
either, until :func:`create_app` or :func:`serve` is first used (Starlette and PyJWT; uvicorn for
:func:`serve`). httpx is imported by the first fetch from a FHIR server or an issuer's ``jku``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from fasciculate.service._config import Auth, ConfigError, Issuer, ServiceConfig, load_config
from fasciculate.service._feedback import feedback_records
from fasciculate.service._hooks import discovery
from fasciculate.service._templates import prefetch_templates

if TYPE_CHECKING:
    from fasciculate.service._app import create_app
    from fasciculate.service._serve import serve

#: The names whose modules import the HTTP stack, loaded when first used.
_LAZY = {"create_app": "fasciculate.service._app", "serve": "fasciculate.service._serve"}


def __getattr__(name: str) -> Any:  # noqa: ANN401 - a module attribute of any kind
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'fasciculate.service' has no attribute {name!r}")


__all__ = [
    "Auth",
    "ConfigError",
    "Issuer",
    "ServiceConfig",
    "create_app",
    "discovery",
    "feedback_records",
    "load_config",
    "prefetch_templates",
    "serve",
]
