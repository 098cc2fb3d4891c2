"""The service's configuration: one TOML file, validated into frozen pydantic models.

Relative paths in the file (JWKS files, the database) are read relative to the file
itself, so a configuration and its keys can move together.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated

import pydantic
from pydantic import BaseModel, ConfigDict, Field, field_validator

from fasciculate._errors import FasciculateError


class ConfigError(FasciculateError, ValueError):
    """The service configuration file cannot be read or is not valid; the message says where."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Issuer(_Model):
    """A client (an EHR) allowed to call the service, and where its signing keys are."""

    iss: Annotated[str, Field(min_length=1, description="The JWT `iss` the client signs with.")]
    jwks_file: Path | None = Field(
        default=None, description="A JWKS file of the client's public keys, registered out of band."
    )
    jku: tuple[str, ...] = Field(
        default=(),
        description="JWKS URLs the client may name in the JWT header `jku` (exact match).",
    )

    @pydantic.model_validator(mode="after")
    def _has_keys(self) -> Issuer:
        if self.jwks_file is None and not self.jku:
            raise ValueError(f"issuer {self.iss!r} has no keys: give jwks_file or jku")
        return self


class Auth(_Model):
    """How client JWTs are checked (CDS Hooks 2.0 "Trusting CDS Clients")."""

    required: bool = Field(
        default=True,
        description="Check a JWT on every request. Turn off only for local experiments.",
    )
    issuers: tuple[Issuer, ...] = Field(default=(), description="The clients allowed.")
    max_lifetime_seconds: Annotated[int, Field(gt=0, le=3600)] = Field(
        default=300, description="A token's `exp` may be at most this far ahead (spec: 5 min)."
    )
    skew_seconds: Annotated[int, Field(ge=0, le=300)] = Field(
        default=60, description="Clock skew allowed on `iat` and `exp`."
    )


class ServiceConfig(_Model):
    """Everything `fasciculate serve` needs; see the configuration reference in the docs."""

    base_url: Annotated[str, Field(description="The URL clients call (the JWT `aud` prefix).")]
    host: str = Field(default="127.0.0.1", description="The address to listen on.")
    port: Annotated[int, Field(ge=0, le=65535)] = 8765
    workers: Annotated[int, Field(ge=1, le=64)] = Field(
        default=1, description="Worker processes (one per core); they share the database."
    )
    max_body_bytes: Annotated[int, Field(gt=0)] = Field(
        default=1_048_576, description="Larger request bodies are refused with 413."
    )
    cors_origins: tuple[str, ...] = Field(
        default=(), description="Browser origins allowed by CORS; none (CORS off) by default."
    )
    fhir_servers: tuple[str, ...] | None = Field(
        default=None,
        description="URL prefixes of FHIR servers the service may fetch from; None allows any.",
    )
    fhir_timeout_seconds: Annotated[float, Field(gt=0, le=60)] = 5.0
    database: Path = Field(
        default=Path("fasciculate-service.sqlite3"),
        description="The SQLite file of card feedback and of the JWT ids seen.",
    )
    records_kept: Annotated[int, Field(ge=0)] = Field(
        default=256,
        description="Records whose reading and assessment are kept for a call with the same "
        "record the same day (about 15 kB each); 0 keeps none.",
    )
    log_level: str = "info"
    auth: Auth = Field(default_factory=Auth)

    @pydantic.model_validator(mode="after")
    def _issuers_when_required(self) -> ServiceConfig:
        if self.auth.required and not self.auth.issuers:
            message = "auth.required is true but no [[auth.issuers]] is listed: list the clients"
            raise ValueError(message)
        return self

    @field_validator("base_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"must be an http(s) URL, got {value!r}")
        return value.rstrip("/")


def _resolved(data: dict[str, object], folder: Path) -> dict[str, object]:
    """*data* with the file paths it names made absolute against *folder*."""
    if isinstance(path := data.get("database"), str):
        data["database"] = str((folder / path).resolve())
    auth = data.get("auth")
    if isinstance(auth, dict):
        for issuer in auth.get("issuers", []):
            if isinstance(issuer, dict) and isinstance(issuer.get("jwks_file"), str):
                issuer["jwks_file"] = str((folder / issuer["jwks_file"]).resolve())
    return data


def load_config(path: str | Path) -> ServiceConfig:
    """Read and validate a service configuration file (TOML).

    Raises:
        ConfigError: If the file cannot be read, is not TOML, or a setting is wrong; the message
            names every wrong setting by its path.
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"cannot read the configuration {path}: {error.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path} is not valid TOML: {error}") from None
    try:
        config = ServiceConfig.model_validate(_resolved(data, path.resolve().parent))
    except pydantic.ValidationError as error:
        lines = [
            f"  {'.'.join(str(part) for part in detail['loc']) or '(file)'}: {detail['msg']}"
            for detail in error.errors()
        ]
        raise ConfigError(f"{path}: invalid configuration\n" + "\n".join(lines)) from None
    for issuer in config.auth.issuers:
        if issuer.jwks_file is not None and not issuer.jwks_file.is_file():
            raise ConfigError(f"{path}: auth.issuers: no JWKS file at {issuer.jwks_file}")
    return config
