"""The service's HTTP client for the FHIR server and for issuers' key sets, made on first use.

A service whose EHRs send every prefetch and whose issuers' keys are registered as files never
fetches anything: it then never imports httpx (about 30 ms of its start-up) nor opens a client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx


class LazyClient:
    """One ``httpx.AsyncClient`` (no redirects followed), made by the first :meth:`get`."""

    __slots__ = ("_client",)

    def __init__(self) -> None:
        """No client yet."""
        self._client: httpx.AsyncClient | None = None

    async def get(self, url: str, **options: Any) -> httpx.Response:  # noqa: ANN401 - httpx's
        """GET *url* with the shared client (``httpx.AsyncClient.get``'s options).

        Raises:
            httpx.HTTPError: As ``httpx.AsyncClient.get`` does.
        """
        if self._client is None:
            import httpx  # noqa: PLC0415 - first used here, so start-up does not import it

            self._client = httpx.AsyncClient(follow_redirects=False)
        return await self._client.get(url, **options)

    async def aclose(self) -> None:
        """Close the client, if one was made."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def http_error() -> type[Exception]:
    """``httpx.HTTPError``: called where a client was used, so httpx is already imported."""
    import httpx  # noqa: PLC0415 - imported by the client's first use

    return httpx.HTTPError
