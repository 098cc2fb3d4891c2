"""Keep the stored outputs of the example notebooks honest.

The documentation renders each notebook's *stored* outputs, so they must be what the notebook
produces today. ``make notebooks`` re-runs them in place and then calls ``normalise``; ``make test``
runs copies and calls ``check``, which fails if any stored output is stale::

    python docs/_tools/notebooks.py normalise NOTEBOOK...
    python docs/_tools/notebooks.py check STORED_DIR FRESH_DIR
"""

from __future__ import annotations

import difflib
import sys
from pathlib import Path
from typing import Any

import nbformat

# Metadata that changes from run to run or machine to machine, and says nothing about the results.
_RUN_METADATA = ("execution",)


def _read(path: Path) -> Any:  # noqa: ANN401 - a notebook node
    return nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call]


def _merged_streams(outputs: list[Any]) -> list[Any]:
    """Join consecutive stream outputs of the same name: how the kernel chunks them varies."""
    merged: list[Any] = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (
            output["output_type"] == "stream"
            and previous is not None
            and previous["output_type"] == "stream"
            and previous["name"] == output["name"]
        ):
            previous["text"] = "".join(previous["text"]) + "".join(output["text"])
        else:
            merged.append(output)
    return merged


def normalise(path: Path) -> None:
    """Drop run-specific metadata (timestamps, the exact Python version) from *path*, in place."""
    notebook = _read(path)
    notebook.metadata.get("language_info", {}).pop("version", None)
    for cell in notebook.cells:
        for key in _RUN_METADATA:
            cell.metadata.pop(key, None)
        if cell.cell_type == "code":
            cell.outputs = _merged_streams(cell.outputs)
    nbformat.validate(notebook)
    nbformat.write(notebook, path)  # type: ignore[no-untyped-call]


def _outputs(cell: Any) -> list[str]:  # noqa: ANN401 - a notebook cell
    shown = [f"[{cell.get('execution_count')}]"]
    for output in _merged_streams(cell.get("outputs", [])):
        kind = output["output_type"]
        if kind == "stream":
            shown.append(f"{output['name']}: {output['text']}")
        elif kind == "error":
            shown.append(f"error: {output['ename']}: {output['evalue']}")
        else:
            for mime, data in sorted(output["data"].items()):
                shown.append(f"{mime}: {''.join(data) if isinstance(data, list) else data}")
    return shown


def check(stored_dir: Path, fresh_dir: Path) -> int:
    """Compare each notebook of *stored_dir* with its fresh run in *fresh_dir*; 1 if any differs."""
    stale = 0
    for stored_path in sorted(stored_dir.glob("*.ipynb")):
        stored = _read(stored_path)
        fresh = _read(fresh_dir / stored_path.name)
        for old, new in zip(stored.cells, fresh.cells, strict=True):
            if old.cell_type != "code" or _outputs(old) == _outputs(new):
                continue
            stale += 1
            diff = difflib.unified_diff(
                "\n".join(_outputs(old)).splitlines(),
                "\n".join(_outputs(new)).splitlines(),
                "stored",
                "fresh",
                lineterm="",
                n=1,
            )
            sys.stderr.write(f"{stored_path}, cell {old.get('id')}: stale output\n")
            sys.stderr.write("\n".join(line[:160] for line in diff) + "\n")
    if stale:
        sys.stderr.write("Run `make notebooks` and commit the notebooks it updates.\n")
        return 1
    return 0


def main(argv: list[str]) -> int:
    """Run ``normalise`` or ``check``."""
    match argv:
        case ["normalise", *paths]:
            for path in paths:
                normalise(Path(path))
            return 0
        case ["check", stored_dir, fresh_dir]:
            return check(Path(stored_dir), Path(fresh_dir))
        case _:
            sys.stderr.write(__doc__ or "")
            return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
