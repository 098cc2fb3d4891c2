"""Directives that show what the command line prints, by running it at build time.

``cli-help [SUBCOMMAND]`` shows the ``--help`` text; ``cli-run ARGS`` runs ``fasciculate ARGS`` from
the repository root (the directive's content, if any, is its standard input, one line a line) and
shows the command, its output and a non-zero exit status.
"""

from __future__ import annotations

import contextlib
import io
import os
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

from fasciculate import cli

if TYPE_CHECKING:
    from sphinx.application import Sphinx

ROOT = Path(__file__).resolve().parents[3]
_WIDTH = "88"


def run_cli(argv: list[str], stdin: str = "") -> tuple[int, str]:
    """Run ``fasciculate`` with *argv* in-process; return its exit status and combined output."""
    out = io.StringIO()
    saved = os.environ.get("COLUMNS"), Path.cwd(), sys.stdin
    os.environ["COLUMNS"] = _WIDTH  # argparse wraps help text to the terminal width
    os.chdir(ROOT)
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin.encode()))
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            try:
                status = cli.main(argv)
            except SystemExit as exit_:  # --help exits
                status = int(exit_.code or 0)
    finally:
        columns, cwd, sys.stdin = saved
        os.chdir(cwd)
        if columns is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = columns
    return status, out.getvalue()


def _block(command: str, status: int, output: str) -> nodes.literal_block:
    shown = f"$ {command}\n{output.rstrip()}"
    if status:
        shown += f"\n$ echo $?\n{status}"
    block = nodes.literal_block(shown, shown)
    block["language"] = "console"
    return block


class CliHelp(SphinxDirective):
    """``fasciculate [SUBCOMMAND] --help``."""

    optional_arguments = 1

    def run(self) -> list[nodes.Node]:
        """Run the help and show it."""
        self.env.note_dependency(cli.__file__)
        self.env.note_dependency(__file__)
        argv = [*self.arguments, "--help"]
        status, output = run_cli(argv)
        return [_block(shlex.join(["fasciculate", *argv]), status, output)]


class CliRun(SphinxDirective):
    """``fasciculate ARGS``, with the directive's content as standard input."""

    required_arguments = 1
    final_argument_whitespace = True
    has_content = True

    def run(self) -> list[nodes.Node]:
        """Run the command and show its output."""
        self.env.note_dependency(cli.__file__)
        self.env.note_dependency(__file__)
        argv = shlex.split(self.arguments[0])
        stdin = "\n".join(self.content)
        command = shlex.join(["fasciculate", *argv])
        if len(self.content) > 1:  # one answer a line, as `fasciculate interview` reads them
            command = f"printf '%s\\n' {shlex.join(self.content)} | {command}"
        elif stdin:
            command = f"echo '{' '.join(line.strip() for line in self.content)}' | {command}"
        for name in argv:
            if (ROOT / name).is_file():
                self.env.note_dependency(str(ROOT / name))
        status, output = run_cli(argv, stdin)
        return [_block(command, status, output)]


def setup(app: Sphinx) -> None:
    """Register ``cli-help`` and ``cli-run``."""
    app.add_directive("cli-help", CliHelp)
    app.add_directive("cli-run", CliRun)
