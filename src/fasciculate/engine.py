"""Assessing against a knowledge base of one's own, and the facts an assessment is decided from.

:func:`fasciculate.assess` and its siblings share one engine: the packaged knowledge base
compiled into evaluators and output writers, with caches (:mod:`fasciculate.caches`). An
:class:`Engine` of one's own compiles the knowledge base it is given, the packaged one or a
changed copy (a mutation test of the rule table, a what-if on one threshold), and keeps caches of
its own; its answers for the packaged knowledge base are the shared engine's, byte for byte.
:meth:`Engine.facts` shows what the evaluators read from a presentation: the level of every
yes/no fact (``0`` absent, ``1`` unknown, ``2`` present; :mod:`fasciculate.conditions`), the
value of every quantity, and the input field each came from.

>>> import attrs, fasciculate
>>> from fasciculate.engine import Engine
>>> saddle = {"findings": {"saddle_sensory_loss": "present"}}
>>> facts = Engine().facts(saddle)
>>> facts.levels["saddle_sensory_loss"], facts.path_of("saddle_sensory_loss")
(2, 'findings.saddle_sensory_loss')
>>> kb = fasciculate.knowledge_base()
>>> without = attrs.evolve(kb, rules=tuple(r for r in kb.rules if r.id != "CES-SADDLE"))
>>> fasciculate.assess(saddle).urgency, Engine(kb=without).assess(saddle).urgency
(<Urgency.EMERGENCY: 'emergency'>, <Urgency.ROUTINE: 'routine'>)

:func:`reset` drops the shared engine, so that the next call compiles the knowledge base anew with
empty caches (a test suite run under a mutation tester needs that; nothing else does).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fasciculate import _assess
from fasciculate._assessment import Assessment, OpenQuestion
from fasciculate._fact_paths import answered_in
from fasciculate._facts import Facts
from fasciculate._kb import knowledge_base
from fasciculate._kb_types import KnowledgeBase
from fasciculate._presentation import Presentation

__all__ = ["Engine", "Facts", "reset"]


class Engine:
    """A knowledge base compiled into evaluators and output writers, with caches of its own.

    Args:
        kb: The knowledge base to assess with (default: the packaged one,
            :func:`fasciculate.knowledge_base`); a copy changed with ``attrs.evolve`` is compiled
            as it is, without the checks the packaged tables pass when they load.

    Every method takes what :func:`fasciculate.assess` takes (a :class:`~fasciculate.Presentation`,
    or a mapping or JSON text that validates into one) and raises
    :class:`~fasciculate.InvalidPresentation` as it does.
    """

    __slots__ = ("_engine",)

    def __init__(self, *, kb: KnowledgeBase | None = None) -> None:
        """Compile *kb* (default: the packaged knowledge base)."""
        self._engine = _assess.Engine(kb or knowledge_base())

    @property
    def kb(self) -> KnowledgeBase:
        """The knowledge base this engine assesses with."""
        return self._engine.kb

    def facts(self, presentation: Presentation | Mapping[str, Any] | str | bytes) -> Facts:
        """What the evaluators read from *presentation*, under this engine's knowledge base."""
        return self._engine.facts(presentation)

    def inputs(self, name: str) -> tuple[str, ...]:
        """The input fields that answer fact or quantity *name* (an open question's ``inputs``).

        ``labs`` for a laboratory value; a finding other fields can also set names them all.

        Example:
            >>> from fasciculate.engine import Engine
            >>> Engine().inputs("duration_days")
            ('twitching.duration_days', 'twitching.onset_date')

        Raises:
            KeyError: If *name* is neither a fact nor a quantity of the knowledge base.
        """
        kb = self._engine.kb
        if name not in kb.facts and name not in kb.quantities:
            message = f"{name!r} is neither a fact nor a quantity of the knowledge base"
            raise KeyError(message)
        return answered_in(name, kb)

    def assess(self, presentation: Presentation | Mapping[str, Any] | str | bytes) -> Assessment:
        """:func:`fasciculate.assess`, with this engine's knowledge base and caches."""
        return self._engine.assess(presentation)

    def assess_json(self, presentation: Presentation | Mapping[str, Any] | str | bytes) -> bytes:
        """:func:`fasciculate.assess_json`, with this engine's knowledge base and caches."""
        return self._engine.assess_json(presentation)

    def next_questions(
        self, presentation: Presentation | Mapping[str, Any] | str | bytes
    ) -> tuple[OpenQuestion, ...]:
        """:func:`fasciculate.next_questions`, with this engine's knowledge base and caches."""
        return self._engine.next_questions(presentation)


def reset() -> None:
    """Drop the engine :func:`fasciculate.assess` shares: the next call compiles it anew.

    Its caches go with it when the garbage collector next runs (the new engine's start empty);
    results never change, only how soon they come. For a test suite under a mutation tester,
    whose runs must each compile the evaluators afresh.
    """
    _assess.reset()
