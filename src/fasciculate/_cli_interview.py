"""``fasciculate interview``: the open questions asked one at a time in the terminal.

The questions are those of :func:`~fasciculate.next_questions`, read again after every answer
(an answer can open questions, such as the cauda equina screen after back pain, or close them).

Each question is asked through the first of its input fields that takes a one-line answer (see
:mod:`fasciculate._cli_answers`); the answer is written into the presentation and checked by the
same models as :func:`~fasciculate.assess`, so a value out of range is named with its field and
asked again. After each answer the running urgency is shown. Questions, hints and the running
urgency go to standard error; the final assessment (text, or JSON with ``--json``) goes to
standard output. The end of standard input (or ``q``) ends the interview early, cleanly: what was
answered is assessed, and saved with ``--save``, which is rewritten after every answer.
"""

from __future__ import annotations

import contextlib
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import attrs

from fasciculate._assess import assess, next_questions
from fasciculate._assessment import OpenQuestion
from fasciculate._cli_answers import UNANSWERED, AnswerError, Asking, asking, given, put
from fasciculate._cli_io import (
    EXIT_BAD_INPUT,
    EXIT_INTERRUPTED,
    EXIT_IO,
    EXIT_OK,
    CommandFailed,
    Interrupts,
    Output,
    read_input,
    say,
)
from fasciculate._errors import InvalidPresentation
from fasciculate._presentation import Presentation
from fasciculate._render import render_text
from fasciculate._validation import MAX_INPUT_BYTES, parse_presentation
from fasciculate._vocab import TriState

_STOP = frozenset({"q", "quit", "stop", "end"})
_LONGEST = 200  # bytes of an answer: longer than any (all regions), short enough to show


def open_questions(presentation: Presentation) -> tuple[OpenQuestion, ...]:
    """The questions still open about *presentation*, the one to ask first first.

    The indicated, unanswered questions that could raise the urgency (``Assessment.missing``);
    the one place the interview learns what to ask.
    """
    return next_questions(presentation)


def _tell(text: str) -> None:
    """Write *text* to standard error (the interview's side of the conversation), if possible."""
    stream = sys.stderr
    if stream is None:
        return
    with contextlib.suppress(OSError, ValueError):
        stream.write(text)
        stream.flush()


def _read_line() -> bytes:
    """One line of standard input (empty at its end), as bytes: a bad byte is not fatal.

    A line longer than :data:`_LONGEST` is read to its end and replaced by a line of its first
    :data:`_LONGEST` bytes, which no answer matches.
    """
    stdin = sys.stdin
    buffer = getattr(stdin, "buffer", None)  # absent for a text stream in memory
    read = buffer.readline if buffer is not None else lambda n: stdin.readline(n).encode()
    try:
        line: bytes = read(_LONGEST)
        rest = line
        while len(rest) >= _LONGEST and not rest.endswith(b"\n"):
            rest = read(_LONGEST)
    except OSError as error:
        message = f"cannot read standard input: {error.strerror or error}"
        raise CommandFailed(message, EXIT_IO) from None
    return line


def _is_terminal() -> bool:
    try:
        return sys.stdin.isatty()
    except (OSError, ValueError):
        return False


def _answers(count: int) -> str:
    return f"{count} answer{'' if count == 1 else 's'}"


def _questions(count: int) -> str:
    return f"{count} question{'' if count == 1 else 's'}"


@attrs.define
class _Interview:
    """The presentation so far (as JSON data and validated), what was asked, where it is saved."""

    data: dict[str, Any]
    presentation: Presentation
    save: Path | None
    interrupts: Interrupts
    skipped: set[str] = attrs.field(factory=set)  # questions answered "unknown"
    answered: set[str] = attrs.field(factory=set)  # input fields given a value
    answers: int = 0

    def run(self) -> str:
        """Ask every open question once; how the interview ended."""
        while (following := self.next_question()) is not None:
            question, way = following
            if way is None:  # answered only by a list of records (labs, medications)
                self.skipped.add(question.fact)
                _tell(
                    f"\n(not asked here) {question.question}: give {', '.join(question.inputs)}"
                    " in the presentation file\n"
                )
            elif not self.ask(question, way):
                return "interview ended"
        return "no more questions"

    def next_question(self) -> tuple[OpenQuestion, Asking | None] | None:
        """The first open question not yet asked, with a field to ask it by (None: not here).

        A question stays open after one of its fields was answered when another can still
        answer it (brisk reflexes: the knee reflex normal, the ankle reflex not yet examined).
        """
        for question in open_questions(self.presentation):
            if question.fact in self.skipped:
                continue
            fields = [path for path in question.inputs if path not in self.answered]
            if fields:
                ways = (asking(path) for path in fields)
                return question, next((way for way in ways if way is not None), None)
        return None

    def ask(self, question: OpenQuestion, way: Asking) -> bool:
        """Ask until an answer is taken; ``False`` when the input ends or the user stops."""
        _tell(
            f"\n[{self.answers + 1}] {question.question}\n"
            f"    could raise the urgency to {question.could_raise_to}; answers {way.path}\n"
        )
        while True:
            _tell(f"    {way.hint}\n> ")
            line = _read_line()
            text = line.decode("utf-8", "replace").strip()
            if line and not _is_terminal():  # answers from a file or pipe: show them, as typed
                _tell(f"{text}\n")
            if not line or text.lower() in _STOP:
                _tell("\n" if not line else "")
                return False
            try:
                self.take(question, way, way.read(text))
            except AnswerError as error:
                _tell(f"    not understood: {error}\n")
            except InvalidPresentation as error:
                for problem in error.problems:
                    _tell(f"    not accepted: {problem.path}: {problem.message}\n")
            else:
                return True

    def take(self, question: OpenQuestion, way: Asking, value: object) -> None:
        """Write *value* at the question's field (unless it stays unset), save, show the urgency."""
        before = assess(self.presentation).urgency
        if value is UNANSWERED or value == TriState.UNKNOWN.value:
            self.skipped.add(question.fact)
        if value is not UNANSWERED:
            data = put(self.data, way.path, value)
            self.presentation = parse_presentation(data)
            self.data = data
            self.answered.add(way.path)
        self.answers += 1
        with self.interrupts.held():  # the file is whole, and counted, or not written
            self.write()
        now = assess(self.presentation)
        change = "" if now.urgency == before else f" (was {before})"
        rules = ", ".join(rule.id for rule in now.rules_fired)
        still = len(open_questions(self.presentation))
        _tell(
            f"    urgency: {now.urgency}{change}{f'; rules: {rules}' if rules else ''}; "
            f"{_questions(still)} open\n"
        )

    def write(self) -> None:
        """Rewrite the save file, whole or not at all."""
        if self.save is None:
            return
        text = json.dumps(self.data, indent=2, ensure_ascii=False) + "\n"
        temporary: Path | None = None
        try:
            with tempfile.NamedTemporaryFile(
                "w", encoding="utf-8", dir=self.save.parent, prefix=".fasciculate-", delete=False
            ) as file:
                temporary = Path(file.name)
                file.write(text)
            temporary.replace(self.save)
        except OSError as error:
            if temporary is not None:
                with contextlib.suppress(OSError):
                    temporary.unlink(missing_ok=True)
            message = f"cannot write {self.save}: {error.strerror or error}"
            raise CommandFailed(message, EXIT_IO) from None


def _asked_before(data: dict[str, Any], presentation: Presentation) -> set[str]:
    """The open questions a starting file already answered "unknown" (not asked again)."""
    unknown = TriState.UNKNOWN.value
    return {
        question.fact
        for question in open_questions(presentation)
        if any(given(data, path) == unknown for path in question.inputs)
    }


def _start(name: str | None) -> tuple[dict[str, Any], Presentation]:
    """The presentation to start from: empty, or read from file *name*."""
    if name is None:
        return {}, Presentation()
    if name == "-":
        message = "--from - would read the presentation from the answers; give a file"
        raise CommandFailed(message, EXIT_BAD_INPUT)
    raw = read_input(name, limit=MAX_INPUT_BYTES)
    try:
        presentation = parse_presentation(raw)
    except InvalidPresentation as error:
        raise CommandFailed(f"invalid presentation in {name}\n{error}", EXIT_BAD_INPUT) from None
    return json.loads(raw.decode("utf-8-sig")), presentation


def interview(*, start: str | None, save: str | None, as_json: bool) -> int:
    """Run the interview; the exit status."""
    out = Output()  # fails at once when standard output is closed
    if sys.stdin is None:
        raise CommandFailed("cannot read standard input (the answers): it is closed", EXIT_IO)
    data, presentation = _start(start)
    with Interrupts() as interrupts:
        session = _Interview(data, presentation, Path(save) if save else None, interrupts)
        session.skipped.update(_asked_before(data, presentation))
        try:
            with interrupts.held():
                session.write()
            ended = session.run()
        except KeyboardInterrupt:
            _tell("\n")  # off the prompt's line
            saved = f"; {save} holds them" if save else ""
            say(f"interrupted after {_answers(session.answers)}{saved}")
            return EXIT_INTERRUPTED
    still = len(open_questions(session.presentation))
    _tell(f"\n{ended}: {_answers(session.answers)}, {_questions(still)} still open\n\n")
    final = assess(session.presentation)
    text = final.model_dump_json(indent=2) if as_json else render_text(final)
    out.write(f"{text.rstrip()}\n".encode())
    out.flush()
    return EXIT_OK
