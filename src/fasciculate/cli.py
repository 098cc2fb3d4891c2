"""The ``fasciculate`` command line.

``fasciculate assess FILE|-`` reads a presentation (JSON) and prints the assessment;
``fasciculate schema`` prints the input's JSON Schema; ``fasciculate rules`` prints the rule table.
Bad input exits with status 2 and a message naming each field and its fix; never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from fasciculate._assess import _engine, assess
from fasciculate._errors import FasciculateError, InvalidPresentation
from fasciculate._presentation import Presentation
from fasciculate._render import assessment_text, rules_json, rules_text

EXIT_OK = 0
EXIT_BAD_INPUT = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fasciculate",
        description="Clinical decision support for muscle twitching (fasciculation). "
        "For healthcare professionals; not a diagnosis.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_engine().version}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    assess_cmd = commands.add_parser("assess", help="assess a presentation (JSON file or -)")
    assess_cmd.add_argument("file", metavar="FILE", help="presentation JSON file, or - for stdin")
    assess_cmd.add_argument("--format", choices=("text", "json"), default="text")

    commands.add_parser("schema", help="print the JSON Schema of a presentation")

    rules_cmd = commands.add_parser("rules", help="print the referral rule table with sources")
    rules_cmd.add_argument("--format", choices=("text", "json"), default="text")
    return parser


def _read(name: str) -> bytes:
    if name == "-":
        return sys.stdin.buffer.read()
    return Path(name).read_bytes()


def _fail(message: str) -> int:
    sys.stderr.write(f"fasciculate: {message}\n")
    return EXIT_BAD_INPUT


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with *argv* (default ``sys.argv[1:]``); return the exit status."""
    args = _parser().parse_args(argv)
    if args.command == "schema":
        sys.stdout.write(json.dumps(Presentation.model_json_schema(), indent=2) + "\n")
        return EXIT_OK
    if args.command == "rules":
        kb = _engine().kb
        if args.format == "json":
            sys.stdout.write(json.dumps(rules_json(kb), indent=2) + "\n")
        else:
            sys.stdout.write(rules_text(kb))
        return EXIT_OK

    try:
        data = _read(args.file)
    except OSError as error:
        return _fail(f"cannot read {args.file}: {error.strerror or error}")
    try:
        assessment = assess(data)
    except InvalidPresentation as error:
        return _fail(f"invalid presentation in {args.file}\n{error}")
    except FasciculateError as error:  # pragma: no cover - a knowledge-base bug, not bad input
        return _fail(str(error))
    if args.format == "json":
        sys.stdout.write(assessment.model_dump_json(indent=2) + "\n")
    else:
        sys.stdout.write(assessment_text(assessment) + "\n")
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
