"""A CDS Hooks 2.0.1 service for fasciculate (the optional extra ``fasciculate[service]``).

Three services (patient-view, order-select, order-sign) and their feedback, behind client JWTs,
as an ASGI application::

    config = fasciculate.service.load_config("service.toml")
    app = fasciculate.service.create_app(config)       # for any ASGI server
    fasciculate.service.serve(config)                  # or run it with uvicorn

``fasciculate serve --config FILE`` does the same from the command line. Importing
:mod:`fasciculate` never imports this package, nor any HTTP library.
"""

from fasciculate.service._app import create_app
from fasciculate.service._config import Auth, ConfigError, Issuer, ServiceConfig, load_config
from fasciculate.service._feedback import feedback_records
from fasciculate.service._hooks import discovery
from fasciculate.service._prefetch import prefetch_templates
from fasciculate.service._serve import serve

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
