"""Atoms and evidence shared by the evaluators.

The level of each atom for a set of facts, and the facts behind a decided condition, traced back
to the input.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import attrs

from fasciculate._cache import BoundedCache
from fasciculate._conditions import Atom, CompareAtom, FactAtom, compile_compares
from fasciculate._errors import KnowledgeBaseError
from fasciculate._fact_paths import fact_paths, traced
from fasciculate._facts import Facts
from fasciculate._kb import KnowledgeBase
from fasciculate._vocab import TRUE


@attrs.frozen(cache_hash=True)
class Evidence:
    """A fact a decision relied on.

    Attributes:
        fact: The fact or quantity id.
        label: Its human label.
        value: ``"present"`` / ``"absent"``, or the quantity with its unit (``"2.3 mmol/L"``).
        input: The input field it came from (``findings.weakness``, ``labs.0``).
        condition: For a quantity, the comparison that was decided (``potassium_lowest <= 2.5``).
    """

    fact: str
    label: str
    value: str
    input: str
    condition: str | None = None


#: The approximate size of a cached piece of evidence with its key, in bytes (measured).
_EVIDENCE_SIZE = 130


class AtomGroup:
    """The atoms of one condition, with a cheap key for the evidence they give.

    The evidence of a condition at a level depends only on the levels of its atoms, the input
    paths of its facts and quantities, and the quantities' values. :meth:`AtomTable.levels`
    lists all three for a presentation, so the key is one ``itemgetter`` call (in C) and a
    repeated pattern costs one dict lookup. A fact with a single input field (not in
    ``fact_paths().multi_source``) is given exactly when its level is decided, so its
    level already says its input path and its path is left out of the key.
    """

    __slots__ = ("key", "positions")

    def __init__(self, table: AtomTable, positions: tuple[int, ...]) -> None:
        self.positions = positions
        atoms = [table.atoms[p] for p in positions]
        quantities = [a.quantity for a in atoms if isinstance(a, CompareAtom)]
        multi = fact_paths().multi_source
        facts = [a.name for a in atoms if isinstance(a, FactAtom) and a.name in multi]
        #: What the group's evidence depends on, read from :meth:`AtomTable.levels`.
        self.key: Callable[[list[Any]], object] = operator.itemgetter(
            *positions,
            *(table.origin_at[name] for name in [*facts, *quantities]),
            *(table.amount_at[name] for name in quantities),
        )


class AtomTable:
    """The atoms an evaluator reads, with fast level computation and evidence lookup.

    The first atoms are every fact of the knowledge base, in its order, so their levels are
    ``facts.levels`` copied as they are; the quantity comparisons used follow.
    """

    def __init__(
        self, kb: KnowledgeBase, atoms: tuple[Atom, ...], *, ask_all: bool, name: str
    ) -> None:
        """Index the facts of *kb* and the comparisons among *atoms*.

        With *ask_all*, every missing quantity is unknown; otherwise only quantities marked
        ``when_missing = "ask"`` are, and unmeasured ones are false. *name* names the cache of
        evidence (``referral.evidence``).
        """
        self.kb = kb
        compares = tuple(dict.fromkeys(a for a in atoms if isinstance(a, CompareAtom)))
        self.atoms: tuple[Atom, ...] = (*(FactAtom(name) for name in kb.facts), *compares)
        self.index = {atom: position for position, atom in enumerate(self.atoms)}
        self._cache: BoundedCache[tuple[object, ...], Evidence] = BoundedCache(
            name, size=_EVIDENCE_SIZE
        )
        size = len(self.atoms)
        self.size = size
        named = traced(kb)  # the order of Facts.origin
        #: Where :meth:`levels` lists each fact's or quantity's input path, and each quantity.
        self.origin_at = {name: size + offset for offset, name in enumerate(named)}
        self.amount_at = {name: size + len(named) + n for n, name in enumerate(kb.quantities)}
        self._tail = len(named) + len(kb.quantities)
        asks = [ask_all or kb.quantities[a.quantity].when_missing == "ask" for a in compares]
        self._compare = compile_compares("quantity comparisons", compares, asks)

    def levels(self, facts: Facts) -> list[Any]:
        """The Kleene level of every atom for *facts*, then every input path and quantity.

        The first :attr:`size` entries are the levels the compiled conditions read; the input
        paths (in ``facts.origin`` order) and the quantities (in ``facts.quantities`` order)
        follow, for :class:`AtomGroup` keys.
        """
        values: list[Any] = facts.ordered + self._compare(facts.quantities)
        values += facts.trace
        if len(values) != self.size + self._tail:  # facts read with another knowledge base
            msg = "facts were read with another knowledge base"
            raise KnowledgeBaseError(msg)
        return values

    def evidence(
        self, positions: tuple[int, ...], values: list[int], wanted: int, facts: Facts
    ) -> tuple[Evidence, ...]:
        """The atoms among *positions* at level *wanted*, as evidence traced to the input."""
        found = []
        origin, quantities, cache = facts.origin, facts.quantities, self._cache
        get = cache.get
        for position in positions:
            if values[position] != wanted:
                continue
            atom = self.atoms[position]
            if isinstance(atom, FactAtom):
                key: tuple[object, ...] = (position, wanted, facts.path_of(atom.name))
            else:
                value = quantities[atom.quantity]
                if value is None:  # an unmeasured lab decided false: nothing in the input to cite
                    continue
                key = (position, wanted, origin[atom.quantity], value)
            item = get(key)
            if item is None:
                item = cache.store(key, self._make(atom, wanted, facts))
            found.append(item)
        cache.lookups += len(found)
        return tuple(found)

    def _make(self, atom: Atom, wanted: int, facts: Facts) -> Evidence:
        if isinstance(atom, FactAtom):
            return Evidence(
                fact=atom.name,
                label=self.kb.facts[atom.name].label,
                value="present" if wanted == TRUE else "absent",
                input=facts.path_of(atom.name),
            )
        quantity = self.kb.quantities[atom.quantity]
        held = "" if wanted == TRUE else "not "
        return Evidence(
            fact=atom.quantity,
            label=quantity.label,
            value=f"{facts.quantities[atom.quantity]:g} {quantity.unit}",
            input=facts.origin[atom.quantity],
            condition=f"{held}{atom.render()}",
        )
