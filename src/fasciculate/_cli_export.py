"""``fasciculate export``: the rule table as a standard artifact (``--format cpg``)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from fasciculate._cli_io import EXIT_BAD_INPUT, EXIT_IO, EXIT_OK, Output, say
from fasciculate._kb import knowledge_base

#: The formats ``export`` writes.
FORMATS = ("cpg",)


def add_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``export`` to the subcommands *commands*."""
    export_cmd = commands.add_parser(
        "export",
        help="export the rule table as a standard artifact: --format cpg writes a FHIR R4 "
        "Bundle (CPG-on-FHIR PlanDefinition, ActivityDefinition, Library with CQL and ELM)",
    )
    export_cmd.add_argument("--format", choices=FORMATS, required=True)
    export_cmd.add_argument(
        "-o",
        "--output",
        metavar="DIR",
        help="write the Bundle, the CQL and the ELM into DIR (created if missing) instead of "
        "printing the Bundle",
    )


def export(output: str | None) -> int:
    """Print the CPG Bundle, or write it with its CQL and ELM into the directory *output*."""
    from fasciculate.cpg import CQL_FILE, ELM_FILE, StaleElm, committed, cpg_bundle  # noqa: PLC0415

    kb = knowledge_base()
    try:
        bundle = cpg_bundle(kb)
    except StaleElm as error:  # pragma: no cover - a development tree, not bad input
        say(str(error))
        return EXIT_BAD_INPUT
    text = json.dumps(bundle, indent=2, ensure_ascii=False) + "\n"
    if output is None:
        out = Output()
        out.write(text.encode())
        out.flush()
        return EXIT_OK
    folder = Path(output)
    name = f"fasciculate-cpg-{kb.version}.json"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
        for part in (CQL_FILE, ELM_FILE):
            (folder / part).write_text(committed(part), encoding="utf-8")
    except OSError as error:
        say(f"cannot write into {output}: {error.strerror or error}; choose a writable directory")
        return EXIT_IO
    say(f"wrote {folder / name}, {folder / CQL_FILE} and {folder / ELM_FILE}")
    return EXIT_OK
