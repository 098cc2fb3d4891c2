"""The package version, read from the installed metadata: `pyproject.toml` is its one source."""

from __future__ import annotations

from importlib import metadata


def _installed() -> str:
    try:
        return metadata.version("fasciculate")
    except metadata.PackageNotFoundError:  # pragma: no cover - only when run from a bare checkout
        return "0+unknown"


#: The version of the installed fasciculate package (``fasciculate.__version__``).
VERSION = _installed()
