"""The ``fasciculate`` command line.

``fasciculate assess FILE|-`` reads a presentation (JSON) and prints the assessment;
``fasciculate assess --fhir BUNDLE.json`` reads a FHIR R4 Bundle instead, and ``--format fhir`` or
``--format cards`` answer as a FHIR Bundle or as CDS Hooks cards; ``fasciculate screen FILE|-``
assesses one presentation per line (JSON Lines) and answers one line per record, a rejected record
with its problems in its place; ``fasciculate screen-bulk DIR --as-of DATE`` screens every patient
of a FHIR Bulk Data export; ``fasciculate interview`` asks the open questions one at a time in
the terminal and ends with the assessment; ``fasciculate questionnaire``
prints the SDC intake Questionnaire; ``fasciculate terminology`` prints fasciculate's code
systems (FHIR CodeSystem and ValueSet resources in a Bundle); ``fasciculate schema`` prints the
input's JSON Schema; ``fasciculate rules`` prints the rule table; ``fasciculate serve --config
FILE`` runs the CDS Hooks service and ``fasciculate feedback --config FILE`` lists the card
feedback it stored (both need the extra ``fasciculate[service]``).

Every failure is one line on standard error and an exit status, never a traceback: 0 done, 1 an
input or output failed (a file that cannot be read, a closed or broken pipe, a full disk), 2 bad
input (every problem named, with its field and fix), 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import codecs
import datetime as dt
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from fasciculate._assess import assess
from fasciculate._assessment import Assessment
from fasciculate._cli_bulk import add_command as add_bulk_command
from fasciculate._cli_bulk import run as run_bulk
from fasciculate._cli_export import add_command as add_export_command
from fasciculate._cli_export import export
from fasciculate._cli_interview import interview
from fasciculate._cli_io import (
    EXIT_BAD_INPUT,
    EXIT_INTERRUPTED,
    EXIT_OK,
    CommandFailed,
    Output,
    read_input,
    say,
)
from fasciculate._cli_screen import screen
from fasciculate._cli_service import COMMANDS as SERVICE_COMMANDS
from fasciculate._cli_service import add_commands as add_service_commands
from fasciculate._cli_service import run as run_service_command
from fasciculate._errors import FasciculateError, InvalidBundle, InvalidPresentation
from fasciculate._kb import knowledge_base
from fasciculate._presentation import Presentation
from fasciculate._render import PrintVersion, assessment_text, rules_json, rules_text
from fasciculate._validation import MAX_INPUT_BYTES, encoding_problem

if TYPE_CHECKING:
    from fasciculate.fhir import BundleReading


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
        help="assess many presentations: JSON Lines in, JSON Lines out",
        description="Assess one presentation per line (JSON Lines: one JSON object per line; "
        'blank lines are skipped). Each record gives one line, in order: {"line": N, '
        '"assessment": {...}}, or {"line": N, "problems": [{"field": ..., "message": ..., '
        '"value": ...}]} for a record that is not a valid presentation. A record\'s identifier '
        '(its member "id", or the one named by --id-field) is taken out of the presentation and '
        'echoed as "id". A summary goes to standard error (with a progress bar while it runs, '
        "when standard error is a terminal and tqdm is installed); the status is 2 when any "
        "record was rejected.",
    )
    screen_cmd.add_argument("file", metavar="FILE", help="JSON Lines file, or -")
    screen_cmd.add_argument(
        "--id-field",
        metavar="NAME",
        default="id",
        help="the member of each record that identifies it (default: id)",
    )
    screen_cmd.add_argument(
        "--output",
        choices=("full", "summary"),
        default="full",
        help="full: the whole assessment; summary: urgency, fired rule ids, leading category, "
        "must-not-miss categories and the number of open questions (default: full)",
    )
    screen_cmd.add_argument(
        "--workers",
        metavar="N",
        type=int,
        default=1,
        help="processes assessing the records, in chunks of 64 written in order: the same "
        "output for any N (default: 1, which writes each record of a pipe or terminal as soon "
        "as it is assessed)",
    )

    add_bulk_command(commands)

    interview_cmd = commands.add_parser(
        "interview",
        help="ask the open questions one at a time, then assess",
        description="Ask the open questions one at a time (the one that decides fastest first), "
        "reading each answer from standard input: y / n / ? for present / absent / unknown, a "
        "choice by name or number, a number with its unit (10 d, 3 weeks, 200 mg). The running "
        "urgency is shown after each answer. Questions go to standard error; the assessment, "
        "once every question has been asked or the input ends (or q is answered), to standard "
        "output.",
    )
    interview_cmd.add_argument(
        "--from",
        dest="start",
        metavar="FILE",
        help="start from this presentation (JSON): only what it leaves open is asked",
    )
    interview_cmd.add_argument(
        "--save",
        metavar="FILE",
        help="write the answers as presentation JSON (input for `fasciculate assess`), "
        "rewritten after every answer; may be the --from file",
    )
    interview_cmd.add_argument(
        "--json", action="store_true", help="print the assessment as JSON instead of text"
    )

    commands.add_parser("questionnaire", help="print the SDC intake Questionnaire (FHIR R4)")
    commands.add_parser(
        "terminology",
        help="print fasciculate's code systems: FHIR R4 CodeSystems and ValueSets in a Bundle",
    )

    commands.add_parser("schema", help="print the JSON Schema of a presentation")

    rules_cmd = commands.add_parser("rules", help="print the referral rule table with sources")
    rules_cmd.add_argument("--format", choices=("text", "json"), default="text")
    add_export_command(commands)
    add_service_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with *argv* (default ``sys.argv[1:]``); return the exit status."""
    args = _parser().parse_args(argv)
    try:
        return export(args.output) if args.command == "export" else _run(args)
    except CommandFailed as failure:
        say(failure.message)
        return failure.status
    except KeyboardInterrupt:
        say("interrupted")
        return EXIT_INTERRUPTED


def _run(args: argparse.Namespace) -> int:  # noqa: PLR0911 - one return per command
    if args.command in SERVICE_COMMANDS:
        return run_service_command(args)
    if args.command == "screen":
        if args.id_field in Presentation.model_fields:
            say(f"--id-field {args.id_field} is a presentation field; name another member")
            return EXIT_BAD_INPUT
        return screen(args.file, id_field=args.id_field, output=args.output, workers=args.workers)
    if args.command == "screen-bulk":
        return run_bulk(args)
    if args.command == "assess":
        return _assess(args)
    if args.command == "interview":
        return interview(start=args.start, save=args.save, as_json=args.json)
    if args.command == "schema":
        text = json.dumps(Presentation.model_json_schema(), indent=2)
    elif args.command == "rules":
        kb = knowledge_base()
        text = json.dumps(rules_json(kb), indent=2) if args.format == "json" else rules_text(kb)
    elif args.command == "terminology":
        from fasciculate.fhir import terminology  # noqa: PLC0415 - only this command needs it

        text = json.dumps(terminology(), indent=2, ensure_ascii=False)
    else:
        from fasciculate.fhir import questionnaire  # noqa: PLC0415 - only this command needs it

        text = json.dumps(questionnaire(), indent=2)
    _print(text)
    return EXIT_OK


def _print(text: str) -> None:
    out = Output()
    out.write(text.encode() if text.endswith("\n") else f"{text}\n".encode())
    out.flush()


def _assess(args: argparse.Namespace) -> int:
    name = args.fhir or args.file
    misplaced = "--as-of" if args.as_of is not None else "--patient" if args.patient else None
    if misplaced and not args.fhir:
        say(
            f"{misplaced} applies to --fhir input; a presentation gives assessed_on instead "
            "and is about one patient"
        )
        return EXIT_BAD_INPUT
    Output()  # fails at once when standard output is closed, before anything is read
    data = read_input(name, limit=None if args.fhir else MAX_INPUT_BYTES)
    where = "standard input" if name == "-" else name
    reading = None
    try:
        if args.fhir:
            from fasciculate.fhir import read_bundle  # noqa: PLC0415 - keeps FHIR out of the core

            reading = read_bundle(_utf8(data, where), as_of=args.as_of, patient=args.patient)
            assessment = assess(reading.presentation)
        else:
            assessment = assess(data)
    except InvalidBundle as error:
        say(f"invalid FHIR Bundle in {where}\n{error}")
        return EXIT_BAD_INPUT
    except InvalidPresentation as error:
        say(f"invalid presentation in {where}\n{error}")
        return EXIT_BAD_INPUT
    except FasciculateError as error:  # pragma: no cover - a knowledge-base bug, not bad input
        say(str(error))
        return EXIT_BAD_INPUT
    _print(_render(assessment, reading, args.format))
    return EXIT_OK


def _utf8(data: bytes, where: str) -> bytes:
    """*data* without a UTF-8 byte order mark; UTF-16 or UTF-32 is bad input, said so."""
    problem = encoding_problem(data, what=where)
    if problem is not None:
        raise CommandFailed(problem.message, EXIT_BAD_INPUT)
    return data.removeprefix(codecs.BOM_UTF8)


def _render(assessment: Assessment, reading: BundleReading | None, form: str) -> str:
    if form == "json":
        return assessment.model_dump_json(indent=2)
    if form == "text":
        report = f"\n\n{reading.report.summary()}" if reading else ""
        return assessment_text(assessment) + report
    from fasciculate.fhir import assessment_to_cards, assessment_to_fhir  # noqa: PLC0415

    if form == "fhir":
        bundle = assessment_to_fhir(assessment, reading=reading)
        return json.dumps(bundle, indent=2, ensure_ascii=False)
    cards = assessment_to_cards(assessment, reading=reading)
    return json.dumps({"cards": cards}, indent=2, ensure_ascii=False)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
