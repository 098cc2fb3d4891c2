"""Prefetch templates, and the patient's record gathered from the prefetch or the FHIR server.

CDS Hooks 2.0: a prefetch key the client sent is used as it is (``null`` means "no data"); a key
it left out means "fetch it yourself" from ``fhirServer`` with the ``fhirAuthorization`` bearer
token. When a key can be had from neither, the request cannot be answered: :class:`Unavailable`
(HTTP 412).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

from fasciculate.service._http import LazyClient, http_error
from fasciculate.service._templates import prefetch_templates

#: Pages of a search bundle followed at most (``link`` ``next``), so a huge record cannot stall.
MAX_PAGES = 10


class Unavailable(Exception):
    """A prefetch key was neither sent nor could be fetched from the FHIR server."""


class BadPrefetch(ValueError):
    """A prefetch value is not a FHIR resource or Bundle."""


def resources_of(value: object, key: str) -> list[dict[str, Any]]:
    """The resources in a prefetch value: a resource, a Bundle's entries, or ``None`` (none)."""
    if value is None:
        return []
    if not isinstance(value, dict) or not isinstance(value.get("resourceType"), str):
        raise BadPrefetch(f"prefetch.{key}: expected a FHIR resource or Bundle, or null")
    if value["resourceType"] != "Bundle":
        return [value]
    found = []
    for index, entry in enumerate(value.get("entry") or []):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            raise BadPrefetch(f"prefetch.{key}.entry[{index}]: an entry without a resource")
        if resource["resourceType"] != "OperationOutcome":
            found.append(resource)
    return found


class Fetcher:
    """Gathers the record for a hook request: prefetch first, the FHIR server for the rest."""

    def __init__(
        self, client: LazyClient, *, allowed: tuple[str, ...] | None, timeout: float
    ) -> None:
        """Fetch with *client*, only from servers under the *allowed* URL prefixes (None: any)."""
        self._client = client
        self._allowed = allowed
        self._timeout = timeout
        self._templates = prefetch_templates()

    async def record(self, request: Mapping[str, Any], patient: str) -> list[dict[str, Any]]:
        """Every resource of every prefetch key, fetched where the client did not send it.

        Raises:
            Unavailable: A key was not sent and cannot be fetched (no ``fhirServer``, a server
                not allowed, or the server failed).
            BadPrefetch: A value sent is not FHIR.
        """
        prefetch = request.get("prefetch") or {}
        if not isinstance(prefetch, dict):
            raise BadPrefetch("prefetch: expected an object of prefetch keys")
        resources: list[dict[str, Any]] = []
        missing = [key for key in self._templates if key not in prefetch]
        for key in self._templates:
            if key in prefetch:
                resources += resources_of(prefetch[key], key)
        if missing:
            fetched = await asyncio.gather(*(self._fetch(request, key, patient) for key in missing))
            for value in fetched:
                resources += value
        return resources

    async def _fetch(self, request: Mapping[str, Any], key: str, patient: str) -> list[Any]:
        server = request.get("fhirServer")
        if not isinstance(server, str) or not server:
            raise Unavailable(f"prefetch.{key} was not sent and the request names no fhirServer")
        if self._allowed is not None and not server.startswith(self._allowed):
            raise Unavailable(f"prefetch.{key}: fhirServer {server!r} is not an allowed server")
        auth = request.get("fhirAuthorization")
        token = auth.get("access_token") if isinstance(auth, dict) else None
        headers = {"Accept": "application/fhir+json"}
        if isinstance(token, str):
            headers["Authorization"] = f"Bearer {token}"
        query = self._templates[key].replace("{{context.patientId}}", quote(patient, safe=""))
        url: str | None = f"{server.rstrip('/')}/{query}"
        found: list[Any] = []
        for _ in range(MAX_PAGES):
            if url is None:
                break
            data = await self._get(url, headers, key)
            try:
                found += resources_of(data, key)
            except BadPrefetch as error:
                raise Unavailable(f"the FHIR server's answer is not FHIR: {error}") from None
            if key == "patient":
                break
            url = next(
                (
                    link.get("url")
                    for link in data.get("link") or []
                    if link.get("relation") == "next"
                ),
                None,
            )
        return found

    async def _get(self, url: str, headers: dict[str, str], key: str) -> Any:  # noqa: ANN401
        try:
            response = await self._client.get(url, headers=headers, timeout=self._timeout)
        except http_error() as error:
            raise Unavailable(f"prefetch.{key}: the FHIR server did not answer ({error})") from None
        if response.status_code == HTTPStatus.NOT_FOUND and key == "patient":
            raise Unavailable("prefetch.patient: the FHIR server has no such Patient")
        if response.status_code != HTTPStatus.OK:
            raise Unavailable(
                f"prefetch.{key}: the FHIR server answered {response.status_code} for {url}"
            )
        try:
            return response.json()
        except ValueError:
            raise Unavailable(f"prefetch.{key}: the FHIR server's answer is not JSON") from None
