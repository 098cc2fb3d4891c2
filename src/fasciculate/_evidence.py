"""Atoms and evidence shared by the evaluators.

The level of each atom for a set of facts, and the facts behind a decided condition, traced back
to the input.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from fasciculate._conditions import Atom, CompareAtom, FactAtom
from fasciculate._facts import Facts
from fasciculate._kb import KnowledgeBase
from fasciculate._vocab import FALSE, TRUE, UNKNOWN


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


_CACHE_LIMIT = 65536


def _getter(keys: tuple[Any, ...]) -> Callable[[Any], object]:
    """``operator.itemgetter`` over *keys*; with no keys, a function returning ``()``."""
    if not keys:
        return lambda _: ()
    return operator.itemgetter(*keys)


class AtomGroup:
    """The atoms of one condition, with a cheap key for the evidence they give.

    The evidence of a condition at a level depends only on the levels of its atoms, the input
    paths of its facts and quantities, and the quantities' values: the key is those three,
    read with ``itemgetter`` (one C call each), so a repeated pattern costs one dict lookup.
    """

    __slots__ = ("amounts", "origins", "positions", "values")

    def __init__(self, table: AtomTable, positions: tuple[int, ...]) -> None:
        self.positions = positions
        names = [table.atoms[p] for p in positions]
        quantities = tuple(a.quantity for a in names if isinstance(a, CompareAtom))
        facts = tuple(a.name for a in names if isinstance(a, FactAtom))
        #: Read the group's atom levels, input paths and quantity values (each one C call).
        self.values = _getter(positions)
        self.origins = _getter(facts + quantities)
        self.amounts = _getter(quantities)

    def key(self, values: list[int], facts: Facts) -> tuple[object, object, object]:
        """What the evidence of this group depends on, for *values* and *facts*."""
        return (
            self.values(values),
            self.origins(facts.origin),
            self.amounts(facts.quantities),
        )


class AtomTable:
    """A fixed list of atoms, with fast level computation and evidence lookup."""

    def __init__(self, kb: KnowledgeBase, atoms: tuple[Atom, ...], *, ask_all: bool) -> None:
        """Index *atoms*.

        With *ask_all*, every missing quantity is unknown; otherwise only quantities marked
        ``when_missing = "ask"`` are, and unmeasured ones are false.
        """
        self.kb = kb
        self.atoms = atoms
        self.index = {atom: position for position, atom in enumerate(atoms)}
        self._facts = tuple(
            (position, atom.name)
            for position, atom in enumerate(atoms)
            if isinstance(atom, FactAtom)
        )
        self._cache: dict[tuple[object, ...], Evidence] = {}
        self._fact_positions = tuple(position for position, _ in self._facts)
        names = [name for _, name in self._facts] or ["unused"]
        getter = operator.itemgetter(*names)
        # itemgetter of one name returns the item itself, of several a tuple: always a tuple here.
        self._fact_getter: Callable[[Mapping[str, int]], tuple[int, ...]] = (
            getter if len(names) > 1 else (lambda levels: (getter(levels),))
        )
        self._compares = tuple(
            (position, atom, ask_all or kb.quantities[atom.quantity].when_missing == "ask")
            for position, atom in enumerate(atoms)
            if isinstance(atom, CompareAtom)
        )

    def levels(self, facts: Facts) -> list[int]:
        """The Kleene level of every atom for *facts*."""
        values = [FALSE] * len(self.atoms)
        if self._facts:
            for position, level in zip(
                self._fact_positions, self._fact_getter(facts.levels), strict=True
            ):
                values[position] = level
        quantities = facts.quantities
        for position, atom, ask in self._compares:
            value = quantities[atom.quantity]
            if value is None:
                values[position] = UNKNOWN if ask else FALSE
            else:
                values[position] = TRUE if atom.holds(value) else FALSE
        return values

    def evidence(
        self, positions: tuple[int, ...], values: list[int], wanted: int, facts: Facts
    ) -> tuple[Evidence, ...]:
        """The atoms among *positions* at level *wanted*, as evidence traced to the input."""
        found = []
        origin, quantities, cache = facts.origin, facts.quantities, self._cache
        for position in positions:
            if values[position] != wanted:
                continue
            atom = self.atoms[position]
            if isinstance(atom, FactAtom):
                key: tuple[object, ...] = (position, wanted, origin.get(atom.name, ""))
            else:
                value = quantities[atom.quantity]
                if value is None:  # an unmeasured lab decided false: nothing in the input to cite
                    continue
                key = (position, wanted, origin.get(atom.quantity, ""), value)
            item = cache.get(key)
            if item is None:
                item = self._make(atom, wanted, facts)
                if len(cache) < _CACHE_LIMIT:
                    cache[key] = item
            found.append(item)
        return tuple(found)

    def _make(self, atom: Atom, wanted: int, facts: Facts) -> Evidence:
        if isinstance(atom, FactAtom):
            return Evidence(
                fact=atom.name,
                label=self.kb.facts[atom.name].label,
                value="present" if wanted == TRUE else "absent",
                input=facts.origin.get(atom.name, ""),
            )
        quantity = self.kb.quantities[atom.quantity]
        held = "" if wanted == TRUE else "not "
        return Evidence(
            fact=atom.quantity,
            label=quantity.label,
            value=f"{facts.quantities[atom.quantity]:g} {quantity.unit}",
            input=facts.origin.get(atom.quantity, ""),
            condition=f"{held}{atom.render()}",
        )
