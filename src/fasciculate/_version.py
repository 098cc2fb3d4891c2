"""The package version: its one source (``pyproject.toml`` reads it from here when building).

A constant rather than a look-up in the installed metadata (``importlib.metadata``), whose import
alone costs more than the rest of ``import fasciculate``.
"""

#: The version of the fasciculate package (``fasciculate.__version__``).
VERSION = "0.1.0"
