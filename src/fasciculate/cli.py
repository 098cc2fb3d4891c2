"""The ``fasciculate`` command line.

``fasciculate assess FILE|-`` reads a presentation (JSON) and prints the assessment;
``fasciculate assess --fhir BUNDLE.json`` reads a FHIR R4 Bundle instead, and ``--format fhir`` or
``--format cards`` answer as a FHIR Bundle or as CDS Hooks cards; ``fasciculate screen FILE|-``
assesses one presentation per line (JSON lines) and answers one line per record, a rejected record
with its problems in its place; ``fasciculate questionnaire``
prints the SDC intake Questionnaire; ``fasciculate schema`` prints the input's JSON Schema;
``fasciculate rules`` prints the rule table.
Bad input exits with status 2 and a message naming each field and its fix; never a traceback.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic_core import to_json

from fasciculate._assess import _engine, assess, assess_json
from fasciculate._assessment import Assessment
from fasciculate._errors import FasciculateError, InvalidBundle, InvalidPresentation
from fasciculate._presentation import Presentation
from fasciculate._render import PrintVersion, assessment_text, rules_json, rules_text

if TYPE_CHECKING:
    from fasciculate.fhir import BundleReading

EXIT_OK = 0
EXIT_BAD_INPUT = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fasciculate",
        description="Clinical decision support for muscle twitching (fasciculation). "
        "For healthcare professionals; not a diagnosis.",
    )
    parser.add_argument("--version", action=PrintVersion)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    assess_cmd = commands.add_parser("assess", help="assess a presentation (JSON file or -)")
    source = assess_cmd.add_mutually_exclusive_group(required=True)
    source.add_argument("file", metavar="FILE", nargs="?", help="presentation JSON file, or -")
    source.add_argument("--fhir", metavar="BUNDLE", help="FHIR R4 Bundle JSON file, or -")
    assess_cmd.add_argument("--format", choices=("text", "json", "fhir", "cards"), default="text")
    assess_cmd.add_argument(
        "--as-of",
        metavar="YYYY-MM-DD",
        type=dt.date.fromisoformat,
        help="with --fhir: reference date for age and labs (default: latest date in the bundle)",
    )
    assess_cmd.add_argument(
        "--patient",
        metavar="REF",
        help="with --fhir: the patient to assess when the bundle holds several (Patient/<id>)",
    )

    screen_cmd = commands.add_parser(
        "screen",
        help="assess many presentations: JSON lines in, JSON lines out",
        description="Assess one presentation per line (JSON lines; blank lines are skipped). "
        'Each record gives one line, in order: {"line": N, "assessment": {...}}, or '
        '{"line": N, "problems": [{"field": ..., "message": ..., "value": ...}]} for a record '
        "that is not a valid presentation. A count goes to standard error; the status is 2 "
        "when any record was rejected.",
    )
    screen_cmd.add_argument("file", metavar="FILE", help="JSON lines file, or -")

    commands.add_parser("questionnaire", help="print the SDC intake Questionnaire (FHIR R4)")

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

    if args.command == "questionnaire":
        from fasciculate.fhir import questionnaire  # noqa: PLC0415 - only this command needs it

        sys.stdout.write(json.dumps(questionnaire(), indent=2) + "\n")
        return EXIT_OK
    if args.command == "screen":
        return _screen(args.file)
    return _assess(args)


def _screen(name: str) -> int:
    """Assess every line of *name*, writing one line per record; status 2 if any was rejected."""
    try:
        source = sys.stdin.buffer if name == "-" else Path(name).open("rb")  # noqa: SIM115
    except OSError as error:
        return _fail(f"cannot read {name}: {error.strerror or error}")
    binary = getattr(sys.stdout, "buffer", None)  # absent when stdout is a text stream in memory
    write = binary.write if binary is not None else (lambda data: sys.stdout.write(data.decode()))
    assessed, rejected = 0, []
    with source:
        for number, line in enumerate(source, start=1):
            if not line.strip():
                continue
            try:
                result = assess_json(line)
            except InvalidPresentation as error:
                rejected.append(number)
                problems = [
                    {"field": p.path, "message": p.message, "value": p.value}
                    for p in error.problems
                ]
                write(b'{"line":%d,"problems":%s}\n' % (number, to_json(problems)))
            else:
                assessed += 1
                write(b'{"line":%d,"assessment":%s}\n' % (number, result))
    sys.stdout.flush()
    shown = ", ".join(map(str, rejected[:10])) + (", ..." if len(rejected) > 10 else "")
    summary = f"{assessed} assessed, {len(rejected)} rejected"
    sys.stderr.write(f"fasciculate: {summary}{f' (lines {shown})' if rejected else ''}\n")
    return EXIT_BAD_INPUT if rejected else EXIT_OK


def _assess(args: argparse.Namespace) -> int:
    name = args.fhir or args.file
    misplaced = "--as-of" if args.as_of is not None else "--patient" if args.patient else None
    if misplaced and not args.fhir:
        return _fail(
            f"{misplaced} applies to --fhir input; a presentation gives assessed_on instead "
            "and is about one patient"
        )
    try:
        data = _read(name)
    except OSError as error:
        return _fail(f"cannot read {name}: {error.strerror or error}")
    reading = None
    try:
        if args.fhir:
            from fasciculate.fhir import read_bundle  # noqa: PLC0415 - keeps FHIR out of the core

            reading = read_bundle(data, as_of=args.as_of, patient=args.patient)
            assessment = assess(reading.presentation)
        else:
            assessment = assess(data)
    except InvalidBundle as error:
        return _fail(f"invalid FHIR Bundle in {name}\n{error}")
    except InvalidPresentation as error:
        return _fail(f"invalid presentation in {name}\n{error}")
    except FasciculateError as error:  # pragma: no cover - a knowledge-base bug, not bad input
        return _fail(str(error))
    sys.stdout.write(_render(assessment, reading, args.format) + "\n")
    return EXIT_OK


def _render(assessment: Assessment, reading: BundleReading | None, form: str) -> str:
    if form == "json":
        return assessment.model_dump_json(indent=2)
    if form == "text":
        report = f"\n\n{reading.report.summary()}" if reading else ""
        return assessment_text(assessment) + report
    from fasciculate.fhir import assessment_to_cards, assessment_to_fhir  # noqa: PLC0415

    subject = reading.subject if reading else None
    evidence = reading.evidence if reading else None
    types = reading.reference_types if reading else None
    if form == "fhir":
        bundle = assessment_to_fhir(
            assessment, subject=subject, evidence=evidence, reference_types=types
        )
        return json.dumps(bundle, indent=2, ensure_ascii=False)
    cards = assessment_to_cards(
        assessment, subject=subject, evidence=evidence, reference_types=types
    )
    return json.dumps({"cards": cards}, indent=2, ensure_ascii=False)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
