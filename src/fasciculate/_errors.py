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

    Every problem found is reported at once, in :attr:`problems`, each naming its field path.
    """

    #: What the input was, for the message.
    what = "the presentation"

    def __init__(self, problems: Sequence[Problem]) -> None:
        """Collect *problems*; the message lists each on its own line."""
        self.problems: tuple[Problem, ...] = tuple(problems)
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in {self.what}"
        super().__init__("\n".join([head, *(f"  {problem}" for problem in self.problems)]))


class InvalidBundle(InvalidPresentation):
    """A FHIR resource could not be read into a presentation."""

    what = "the FHIR input"


class KnowledgeBaseError(FasciculateError, RuntimeError):
    """The packaged knowledge base is inconsistent (a bug in fasciculate, never in the input)."""
