"""The exceptions fasciculate raises.

Every exception derives from :class:`FasciculateError`, and each leaf also derives from the
matching built-in exception so that callers who only know the built-ins still catch it::

    FasciculateError
    ├── InvalidPresentation (ValueError)       the input does not describe a valid presentation
    │   └── InvalidBundle                      a FHIR resource could not be read
    └── KnowledgeBaseError (RuntimeError)      the packaged knowledge base is inconsistent
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

#: At most this many problems are kept and listed; the message says how many more were found.
MAX_PROBLEMS = 20


class FasciculateError(Exception):
    """The root of every exception fasciculate raises on purpose."""


@attrs.frozen
class Problem:
    """One thing wrong with an input, located by its field path.

    Attributes:
        path: Where the problem is, as a dotted path (``labs.0.unit``); empty for the whole input.
        message: What is wrong and how to fix it.
        value: A short ``repr`` of the offending value, or ``None`` when there is none to show.
    """

    path: str
    message: str
    value: str | None = None

    def __str__(self) -> str:
        """Render as ``path: message (got value)``."""
        where = self.path or "(input)"
        got = f" (got {self.value})" if self.value is not None else ""
        return f"{where}: {self.message}{got}"


class InvalidPresentation(FasciculateError, ValueError):
    """The input does not describe a valid presentation.

    The problems found are reported at once, in :attr:`problems`, each naming its field path: the
    first 20 of them (``MAX_PROBLEMS``), with :attr:`total` counting every one found, so that a
    document with a hundred thousand unknown fields gives a short message. The exception pickles
    with its problems (it crosses process boundaries, as in ``ProcessPoolExecutor``).
    """

    #: What the input was, for the message.
    what = "the presentation"

    def __init__(self, problems: Sequence[Problem], *, total: int | None = None) -> None:
        """Keep the first ``MAX_PROBLEMS`` of *problems*, out of *total* found (default: all)."""
        self.problems: tuple[Problem, ...] = tuple(problems[:MAX_PROBLEMS])
        self.total: int = max(len(problems), total or 0)
        head = f"{self.total} problem{'s' if self.total != 1 else ''} in {self.what}"
        lines = [head, *(f"  {problem}" for problem in self.problems)]
        if self.total > len(self.problems):
            more = self.total - len(self.problems)
            lines.append(f"  ... and {more:,} more not listed; fix these and check again")
        super().__init__("\n".join(lines))

    def __reduce__(self) -> tuple[object, ...]:
        """Pickle as the problems and the count, from which the message is rebuilt."""
        return _rebuild, (type(self), self.problems, self.total)


def _rebuild(
    kind: type[InvalidPresentation], problems: tuple[Problem, ...], total: int
) -> InvalidPresentation:
    return kind(problems, total=total)


class InvalidBundle(InvalidPresentation):
    """A FHIR resource could not be read into a presentation."""

    what = "the FHIR input"


class KnowledgeBaseError(FasciculateError, RuntimeError):
    """The packaged knowledge base is inconsistent (a bug in fasciculate, never in the input)."""
