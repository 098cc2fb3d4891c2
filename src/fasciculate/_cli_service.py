"""The CDS Hooks service's commands: ``fasciculate serve`` and ``fasciculate feedback``.

Both need the optional extra ``fasciculate[service]`` only when they run: the rest of the command
line never imports the service, nor any HTTP library.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from fasciculate._cli_io import EXIT_BAD_INPUT, EXIT_IO, EXIT_OK, Output, say

if TYPE_CHECKING:
    from fasciculate.service import ServiceConfig

#: The subcommands this module adds.
COMMANDS = ("serve", "feedback")
_EXTRA = "the CDS Hooks service needs its extra: pip install 'fasciculate[service]'"


def add_commands(commands: Any) -> None:  # noqa: ANN401 - argparse's private subparsers action
    """Add ``serve`` and ``feedback`` to the subcommands *commands*."""
    serve = commands.add_parser(
        "serve",
        help="run the CDS Hooks service (needs fasciculate[service])",
        description="Run the CDS Hooks 2.0 service with uvicorn, one process, logging JSON lines "
        "to standard error. Stop it with Ctrl-C.",
    )
    serve.add_argument("--config", required=True, help="the service configuration (TOML)")
    serve.add_argument("--host", help="listen on this address (default: the configuration's)")
    serve.add_argument(
        "--port", type=int, help="listen on this port (default: the configuration's)"
    )
    feedback = commands.add_parser(
        "feedback",
        help="list the card feedback the service stored",
        description="Print the feedback records in the configuration's SQLite database.",
    )
    feedback.add_argument("--config", required=True, help="the service configuration (TOML)")
    feedback.add_argument("--service", help="only the feedback on this service id")
    feedback.add_argument("--format", choices=("text", "json"), default="text")


def run(args: argparse.Namespace) -> int:
    """Run ``serve`` or ``feedback``; the exit status."""
    from fasciculate.service import ConfigError, load_config  # noqa: PLC0415 - only these need it

    try:
        config = load_config(args.config)
    except ConfigError as error:
        say(str(error))
        return EXIT_BAD_INPUT
    if args.command == "feedback":
        return _feedback(config, args)
    return _serve(config, args)


def _serve(config: ServiceConfig, args: argparse.Namespace) -> int:
    from fasciculate.service import ConfigError  # noqa: PLC0415

    try:
        from fasciculate.service import serve  # noqa: PLC0415 - imports the HTTP stack
    except ModuleNotFoundError as error:
        say(f"{_EXTRA} ({error.name} is missing)")
        return EXIT_IO
    try:
        serve(config, host=args.host, port=args.port)
    except ConfigError as error:
        say(f"{args.config}: {error}")
        return EXIT_BAD_INPUT
    return EXIT_OK


def _feedback(config: ServiceConfig, args: argparse.Namespace) -> int:
    from fasciculate.service import feedback_records  # noqa: PLC0415

    try:
        records = feedback_records(config.database, service=args.service)
    except FileNotFoundError as error:
        say(f"{error} (the service creates it when it starts)")
        return EXIT_IO
    if args.format == "json":
        lines = [json.dumps(records, indent=2)]
    else:
        lines = [_line(record) for record in records]
        lines.append(f"{len(records)} feedback records in {config.database}")
    out = Output()
    out.write("".join(f"{line}\n" for line in lines).encode())
    out.flush()
    return EXIT_OK


def _line(r: dict[str, Any]) -> str:
    """One feedback record for people."""
    reason = f" ({r['override_code']}: {r['user_comment'] or 'no comment'})"
    accepted = f" accepting {', '.join(r['accepted_suggestions'])}"
    return (
        f"{r['received_at']} {r['service']} card {r['card']} {r['outcome']}"
        f"{reason if r['outcome'] == 'overridden' else ''}"
        f"{accepted if r['accepted_suggestions'] else ''} from {r['client'] or 'unknown'}"
    )
