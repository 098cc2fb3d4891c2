"""Fixtures of the service tests: a loopback FHIR server, the service under uvicorn, a client."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from fasciculate.service import ServiceConfig, create_app
from service._service_support import (
    FHIR_TOKEN,
    ISSUER,
    Keys,
    Running,
    fhir_app,
    fhir_resources,
    serving,
)

#: Sign a fresh token for the request (the default); pass a token, or None for no token.
SIGN = object()


@pytest.fixture(scope="session")
def keys() -> Keys:
    return Keys()


@pytest.fixture(scope="session")
def fhir_hits() -> Counter[str]:
    return Counter()


@pytest.fixture(scope="session")
def fhir(keys: Keys, fhir_hits: Counter[str]) -> Iterator[Running]:
    yield from serving(fhir_app(fhir_resources(), keys.jwks(), fhir_hits))


@pytest.fixture(scope="session")
def jwks_file(keys: Keys, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("keys") / "client-jwks.json"
    path.write_text(json.dumps(keys.jwks()), encoding="utf-8")
    return path


class Cds:
    """A CDS client of the running service: signs a fresh token for each request."""

    def __init__(self, running: Running, keys: Keys, config: ServiceConfig, fhir: Running) -> None:
        self.running = running
        self.url = running.url
        self.keys = keys
        self.config = config
        self.fhir = fhir
        self.http = httpx.Client(base_url=running.url, timeout=10)

    def token(self, path: str, **kwargs: Any) -> str:
        return self.keys.token(self.url + path, **kwargs)

    def get(self, path: str, *, token: Any = SIGN, **kwargs: Any) -> httpx.Response:
        headers = self._auth(path, token)
        return self.http.get(path, headers=headers, **kwargs)

    def post(
        self, path: str, body: Any = None, *, token: Any = SIGN, **kwargs: Any
    ) -> httpx.Response:
        headers = self._auth(path, token) | kwargs.pop("headers", {})
        if body is not None:
            kwargs["json"] = body
        return self.http.post(path, headers=headers, **kwargs)

    def _auth(self, path: str, token: str | None) -> dict[str, str]:
        if token is None:
            return {}
        return {"Authorization": f"Bearer {self.token(path) if token is SIGN else token}"}

    def request(self, hook: str, patient: str, **extra: Any) -> dict[str, Any]:
        """A CDS Hooks request for *hook* that leaves the record to the FHIR server."""
        body = {
            "hook": hook,
            "hookInstance": str(uuid.uuid4()),
            "fhirServer": f"{self.fhir.url}/fhir",
            "fhirAuthorization": {
                "access_token": FHIR_TOKEN,
                "token_type": "Bearer",
                "expires_in": 300,
                "scope": "patient/*.read",
                "subject": "fasciculate",
            },
            "context": {"userId": "Practitioner/1", "patientId": patient},
        }
        body.update(extra)
        return body


@pytest.fixture(scope="session")
def make_service(
    keys: Keys, fhir: Running, jwks_file: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., Cds]]:
    started: list[Cds] = []

    def make(**settings: Any) -> Cds:
        running = Running(None)
        data: dict[str, Any] = {
            "base_url": running.url,
            "database": tmp_path_factory.mktemp("db") / "feedback.sqlite3",
            "auth": {
                "issuers": [
                    {"iss": ISSUER, "jwks_file": jwks_file, "jku": [f"{fhir.url}/jwks.json"]}
                ]
            },
        }
        data.update(settings)
        config = ServiceConfig.model_validate(data)
        running.start(create_app(config))
        started.append(Cds(running, keys, config, fhir))
        return started[-1]

    yield make
    for client in started:
        client.http.close()
        client.running.stop()


@pytest.fixture(scope="session")
def cds(make_service: Callable[..., Cds]) -> Cds:
    return make_service()
