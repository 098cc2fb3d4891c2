"""The condition language of the knowledge base, for proofs and tools that read its tables.

Every rule, indication, derivation and differential feature of :func:`fasciculate.knowledge_base`
holds its ``when`` as parsed here: a monotone formula of :class:`FactAtom` (a yes/no fact) and
:class:`CompareAtom` (a quantity against a threshold), joined by :class:`All` (``&``) and
:class:`Any_` (``|``). It is evaluated in Kleene's three-valued logic on the levels
``FALSE`` < ``UNKNOWN`` < ``TRUE`` (absent, unknown, present): ``&`` is ``min``, ``|``
is ``max``, and there is no negation, so making a fact more present never breaks a condition.

This module is the documented surface for code that reasons about the tables themselves (a z3
proof, a translation to CQL, a mutation test of the knowledge base), as fasciculate's own safety
proofs do; an integrator who only assesses patients needs :func:`fasciculate.assess` alone.

>>> import fasciculate
>>> from fasciculate.conditions import FactAtom, atoms, evaluate, TRUE, UNKNOWN
>>> rule = next(r for r in fasciculate.knowledge_base().rules if r.id == "CES-SADDLE")
>>> rule.condition
FactAtom(name='saddle_sensory_loss')
>>> [atom.render() for atom in atoms(rule.condition)]
['saddle_sensory_loss']
>>> evaluate(rule.condition, lambda atom: TRUE) == TRUE
True
"""

from __future__ import annotations

from fasciculate._conditions import (
    All,
    Any_,
    Atom,
    CompareAtom,
    Condition,
    FactAtom,
    Quantity,
    atoms,
    evaluate,
    parse,
)
from fasciculate._vocab import FALSE, TRUE, UNKNOWN

__all__ = [
    "FALSE",
    "TRUE",
    "UNKNOWN",
    "All",
    "Any_",
    "Atom",
    "CompareAtom",
    "Condition",
    "FactAtom",
    "Quantity",
    "atoms",
    "evaluate",
    "parse",
]
