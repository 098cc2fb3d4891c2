"""Sphinx configuration of the fasciculate documentation.

Built offline (no intersphinx, no remote images) with ``sphinx-build -n -W``: every broken reference
fails the build. The notebooks of ``examples/`` are copied into ``docs/notebooks/`` (ignored by git)
and rendered from their stored outputs; ``make test`` executes them separately with nbmake.
"""

from __future__ import annotations

import shutil
import sys
from importlib import metadata
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(DOCS / "_ext"))

project = "fasciculate"
author = "fasciculate developers"
copyright = "2026, fasciculate developers"
release = metadata.version("fasciculate")
version = ".".join(release.split(".")[:2])

extensions = [
    "myst_nb",  # MyST markdown pages and the notebooks (it loads myst_parser itself)
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.doctest",
    "fasciculate_docs",  # docs/_ext: the knowledge-base tables and the CLI, generated at build time
]

exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints"]
nitpicky = True
# Intersphinx is off (the build needs no network), so names from other libraries cannot resolve.
nitpick_ignore_regex = [
    (
        "py:.*",
        r"(pydantic|pydantic_core|annotated_types|typing_extensions|attrs|hypothesis|starlette)(\..*)?",
    ),
    ("py:.*", r"(datetime|enum|collections(\.abc)?|typing|argparse|pathlib|uuid|re)\..*"),
]

myst_enable_extensions = ["colon_fence", "deflist", "fieldlist"]
myst_heading_anchors = 3

# Notebooks render their stored outputs; `make test` re-executes them (pytest --nbmake) and checks
# that what is stored is what they produce.
nb_execution_mode = "off"
nb_merge_streams = True
# Notebooks display tables as text/markdown outputs; commonmark (the default) has no tables.
nb_render_markdown_format = "gfm"

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_class_signature = "separated"
autodoc_default_options = {
    "members": True,
    "exclude-members": "model_config, model_fields, model_computed_fields, __new__",
}
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False

# Examples read the bundled presentations by their path from the repository root.
doctest_global_setup = f"import os\nos.chdir({str(ROOT)!r})\nimport fasciculate"
doctest_test_doctest_blocks = "default"

html_theme = "furo"
html_title = f"fasciculate {release}"
html_static_path = ["_static"]
html_css_files = ["fasciculate.css"]
html_theme_options = {"navigation_with_keys": True}


def _copy_notebooks() -> None:
    """Mirror ``examples/*.ipynb`` into ``docs/notebooks/``, touching only files that changed."""
    target = DOCS / "notebooks"
    target.mkdir(exist_ok=True)
    wanted = {path.name: path for path in sorted((ROOT / "examples").glob("*.ipynb"))}
    for stale in target.glob("*.ipynb"):
        if stale.name not in wanted:
            stale.unlink()
    for name, source in wanted.items():
        copy = target / name
        if not copy.exists() or copy.read_bytes() != source.read_bytes():
            shutil.copy2(source, copy)


_copy_notebooks()
