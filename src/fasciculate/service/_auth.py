"""Client JWTs (CDS Hooks 2.0, "Trusting CDS Clients"), checked with PyJWT.

A request is trusted only when its bearer token is signed with ES384 or RS384 (``none`` and the
HMAC algorithms are refused: a public key must never serve as a shared secret), names a ``kid``
found in the issuer's keys (a JWKS file registered out of band, or a ``jku`` on the issuer's
allow-list), and carries ``iss`` (allow-listed), ``aud`` (exactly the URL called), ``exp`` (at most
``max_lifetime_seconds`` ahead), ``iat`` (not in the future, with the configured skew) and a ``jti``
not seen before. Any failure is the same bare :class:`Unauthorized`; the reason goes to the log at
debug level, the token never does.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Mapping
from typing import Any

import jwt

from fasciculate.service._config import Auth, ConfigError, Issuer
from fasciculate.service._http import LazyClient, http_error
from fasciculate.service._replay import ReplayCache

#: The only signing algorithms accepted (CDS Hooks 2.0: ES384 and RS384 at least; no HMAC).
ALGORITHMS = ("ES384", "RS384")
_KEY_TYPE = {"ES384": "EC", "RS384": "RSA"}
#: How long a JWKS fetched from a ``jku`` is kept before it is fetched again.
JKU_CACHE_SECONDS = 300.0
_REQUIRED = ["iss", "aud", "exp", "iat", "jti"]


class Unauthorized(Exception):
    """The request's JWT is missing or not trusted (HTTP 401; the reason is kept for the log)."""


def _keys(jwks: Mapping[str, Any], where: str) -> dict[str, jwt.PyJWK]:
    """The keys of a JWKS by ``kid``; keys without one cannot be chosen and are left out."""
    try:
        keyset = jwt.PyJWKSet.from_dict(dict(jwks))
    except jwt.PyJWKSetError as error:
        raise ValueError(f"{where}: not a usable JWKS ({error})") from None
    return {key.key_id: key for key in keyset.keys if key.key_id}


def registered_keys(auth: Auth) -> dict[str, dict[str, jwt.PyJWK]]:
    """Each issuer's keys from its JWKS file, by ``kid``.

    Raises:
        ConfigError: A JWKS file cannot be read, or is not a usable JWKS.
    """
    keys = {}
    for issuer in auth.issuers:
        if issuer.jwks_file is None:
            continue
        try:
            data = json.loads(issuer.jwks_file.read_text(encoding="utf-8"))
            keys[issuer.iss] = _keys(data, str(issuer.jwks_file))
        except (OSError, ValueError, TypeError) as error:
            message = f"auth.issuers ({issuer.iss}): the JWKS file cannot be used: {error}"
            raise ConfigError(message) from None
    return keys


def _segment(text: str) -> dict[str, Any]:
    """A JWT segment (base64url JSON object) as a dict; :class:`Unauthorized` if it is not one."""
    try:
        value = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (ValueError, binascii.Error, RecursionError) as error:
        raise Unauthorized(f"malformed token: {type(error).__name__}") from None
    if not isinstance(value, dict):
        raise Unauthorized("malformed token: a segment is not a JSON object")
    return value


def _peek(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The header and the claims of *token*, unverified: only to pick the issuer and the key.

    Nothing is trusted from them: :func:`jwt.decode` then checks the signature, the algorithm
    and every claim (its own strict parse rejects what this lenient one let through). Parsing
    once here rather than with PyJWT as well saves a second full decode of the token a call.
    """
    parts = token.split(".")
    if len(parts) != 3:  # header, payload, signature
        raise Unauthorized("malformed token: not three segments")
    return _segment(parts[0]), _segment(parts[1])


class Verifier:
    """Checks client JWTs against the configured issuers and the shared ``jti`` replay cache."""

    def __init__(self, auth: Auth, client: LazyClient, replays: ReplayCache) -> None:
        """Load every issuer's registered JWKS file; ``jku`` sets are fetched when first named.

        Raises:
            ConfigError: A JWKS file cannot be used.
        """
        self._auth = auth
        self._client = client
        self._issuers: dict[str, Issuer] = {issuer.iss: issuer for issuer in auth.issuers}
        self._files = registered_keys(auth)
        self._jku: dict[str, tuple[float, dict[str, jwt.PyJWK]]] = {}
        self._replays = replays

    async def verify(self, authorization: str | None, audience: str) -> dict[str, Any]:
        """The verified claims of the bearer token in *authorization*, for the URL *audience*.

        Raises:
            Unauthorized: For any reason the token is not trusted.
        """
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized("no bearer token")
        header, unverified = _peek(token)
        alg = header.get("alg")
        if alg not in ALGORITHMS:
            raise Unauthorized(f"algorithm {alg!r} refused")
        issuer = self._issuers.get(str(unverified.get("iss")))
        if issuer is None:
            raise Unauthorized("issuer not allowed")
        key = await self._key(issuer, header)
        if key.key_type != _KEY_TYPE[alg]:
            raise Unauthorized(f"key {key.key_id!r} is not a {alg} key")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key.key,
                algorithms=[alg],
                audience=audience,
                issuer=issuer.iss,
                leeway=self._auth.skew_seconds,
                options={"require": _REQUIRED, "strict_aud": True},
            )
        except jwt.PyJWTError as error:
            raise Unauthorized(f"token refused: {error}") from None
        now = time.time()
        if claims["exp"] > now + self._auth.max_lifetime_seconds + self._auth.skew_seconds:
            raise Unauthorized("exp too far ahead")
        until = float(claims["exp"]) + self._auth.skew_seconds
        if not self._replays.first_use(issuer.iss, str(claims["jti"]), until, now):
            raise Unauthorized("jti replayed")
        return claims

    async def _key(self, issuer: Issuer, header: Mapping[str, Any]) -> jwt.PyJWK:
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise Unauthorized("no kid")
        jku = header.get("jku")
        if jku is None:
            keys = self._files.get(issuer.iss, {})
        elif jku in issuer.jku:
            keys = await self._fetched(jku)
        else:
            raise Unauthorized("jku not allowed")
        if kid not in keys:
            raise Unauthorized("unknown kid")
        return keys[kid]

    async def _fetched(self, url: str) -> dict[str, jwt.PyJWK]:
        cached = self._jku.get(url)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        try:
            response = await self._client.get(url)
            response.raise_for_status()
            keys = _keys(response.json(), url)
        except (http_error(), ValueError) as error:
            raise Unauthorized(f"jku not fetched: {error}") from None
        self._jku[url] = (time.monotonic() + JKU_CACHE_SECONDS, keys)
        return keys
