"""The API reference's helpers: a check that it is complete, and a napoleon workaround.

* The build fails if a public name (``fasciculate.__all__``) has no entry in the API reference.
* Napoleon reads the first line of an attribute or property docstring as ``type: description``
  (Google style's inline attribute type). fasciculate takes types from annotations and writes plain
  sentences there ("Same day: immediate hospital assessment."), so such docstrings are kept as
  written: saved before napoleon runs and put back after.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sphinx.util import logging

import fasciculate

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.environment import BuildEnvironment

logger = logging.getLogger(__name__)

_NAPOLEON_PRIORITY = 500  # sphinx.ext.napoleon's handler runs at the default priority


def check_public_names(app: Sphinx, env: BuildEnvironment) -> None:
    """Warn (an error under ``-W``) for each public name autodoc did not document."""
    if app.builder.name != "html":
        return
    documented = set(env.domains.python_domain.objects)
    for name in fasciculate.__all__:
        if f"fasciculate.{name}" not in documented:
            logger.warning("fasciculate.%s is public but missing from the API reference", name)


_ATTRIBUTES = {"attribute", "property", "data"}
_saved: dict[str, list[str]] = {}


def save_attribute_docstring(  # noqa: PLR0913, PLR0917 - the signature autodoc calls
    app: Sphinx,  # noqa: ARG001
    what: str,
    name: str,
    obj: Any,  # noqa: ANN401, ARG001
    options: Any,  # noqa: ANN401, ARG001
    lines: list[str],
) -> None:
    """Before napoleon: keep the docstring of an attribute whose first line has a colon."""
    if what in _ATTRIBUTES and lines and ":" in lines[0]:
        _saved[name] = list(lines)


def restore_attribute_docstring(  # noqa: PLR0913, PLR0917 - the signature autodoc calls
    app: Sphinx,  # noqa: ARG001
    what: str,
    name: str,
    obj: Any,  # noqa: ANN401, ARG001
    options: Any,  # noqa: ANN401, ARG001
    lines: list[str],
) -> None:
    """After napoleon: put that docstring back as it was written."""
    if what in _ATTRIBUTES and name in _saved:
        lines[:] = _saved.pop(name)


def setup(app: Sphinx) -> None:
    """Connect the check and the docstring fix."""
    app.connect("env-check-consistency", check_public_names)
    app.connect(
        "autodoc-process-docstring", save_attribute_docstring, priority=_NAPOLEON_PRIORITY - 1
    )
    app.connect(
        "autodoc-process-docstring", restore_attribute_docstring, priority=_NAPOLEON_PRIORITY + 1
    )
