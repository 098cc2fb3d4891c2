"""A small Sphinx extension that writes the reference pages from the code and data themselves.

* ``kb-*`` directives render the knowledge base (``fasciculate._kb.knowledge_base()``): rules,
  thresholds, laboratory ranges, facts and sources, each entry a cross-reference target
  (roles ``kbrule``, ``kbfact``, ``kbquantity``, ``kbthreshold``, ``kblab``, ``kbsource``).
* ``cli-help`` and ``cli-run`` run the command line and show what it prints.
* ``validation-*`` assess the published cases of ``tests/clinical`` and publish the figures.
* The API reference gets each pydantic model's fields and each finding's question, and fails the
  build if a name of ``fasciculate.__all__`` has no entry.

Nothing here restates the data: the pages change when the tables change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fasciculate_docs import _api, _cli, _kb, _models, _validation

if TYPE_CHECKING:
    from sphinx.application import Sphinx


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the directives, the cross-reference roles and the API check."""
    _kb.setup(app)
    _cli.setup(app)
    _api.setup(app)
    _models.setup(app)
    _validation.setup(app)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
