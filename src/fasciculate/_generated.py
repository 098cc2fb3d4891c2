"""Generated code you can step into: compiled under a readable name, its source in ``linecache``.

The rule table, the indications, the differential's conditions and the comparisons of the
quantities run as Python functions generated from the parsed knowledge base (never from input),
because assessments run in tight batch loops. As attrs does for the methods it writes, each
function is compiled from a source registered in :mod:`linecache` under a readable file name such
as ``<fasciculate referral rules>``: a traceback shows the generated line, ``pdb`` steps through it,
and :func:`inspect.getsource` (or :func:`source_of`) returns it. Each condition is one line, with
its id and its condition as written in the knowledge base in a comment.
"""

from __future__ import annotations

import hashlib
import inspect
import linecache
from collections.abc import Callable, Mapping
from typing import Any

#: What generated code may call: Kleene and (``min``) and or (``max``), nothing else.
BUILTINS: Mapping[str, object] = {"min": min, "max": max}


def _filename(name: str, source: str) -> str:
    """``<fasciculate NAME>``, or with a digest when another source holds that name already."""
    filename = f"<fasciculate {name}>"
    held = linecache.cache.get(filename)
    if held is None or (len(held) == 4 and "".join(held[2]) == source):
        return filename
    digest = hashlib.sha256(source.encode()).hexdigest()[:12]
    return f"<fasciculate {name} {digest}>"


def define(
    name: str,
    source: str,
    entry: str,
    scope: Mapping[str, object] | None = None,
    *,
    builtins: Mapping[str, object] = BUILTINS,
) -> Callable[..., Any]:
    """Compile *source* under the readable *name* and return its function *entry*.

    Args:
        name: What the code is, e.g. ``referral rules``; the file name is ``<fasciculate NAME>``.
        source: Python source defining *entry*, generated from the parsed knowledge base.
        entry: The function's name in *source*.
        scope: Further globals for the code (payloads it returns).
        builtins: The only built-ins it sees (default :data:`BUILTINS`).
    """
    filename = _filename(name, source)
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
    namespace: dict[str, Any] = {"__builtins__": dict(builtins), **(scope or {})}
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - generated, never input
    function: Callable[..., Any] = namespace[entry]
    return function


def source_of(function: Callable[..., Any]) -> str:
    """The generated source of *function* (as :func:`inspect.getsource` reads it)."""
    return inspect.getsource(function)


def comment(text: str) -> str:
    """*text* as a one-line comment (generated code keeps each condition on one line)."""
    return "# " + " ".join(text.split())
