"""The focused screen: which unanswered questions a presentation calls for.

A question is *indicated* when it is core (``[core]`` of ``kb/indications.toml``) or when an
indication listing it is not known to be false on the presentation's answers (Kleene: an
unanswered indicator indicates). The referral reads an unanswered question that is not indicated
as absent when it decides whether the screen is complete, and never when it decides which rules
fire. Every ``when`` is negation-free, so a more present answer never takes a question away.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Protocol, TypeVar

from fasciculate._conditions import Atom, CompareAtom, FactAtom, atoms, compile_table
from fasciculate._vocab import FALSE, TRUE, UNKNOWN

if TYPE_CHECKING:
    from fasciculate._kb import Indication, KnowledgeBase
    from fasciculate._vocab import Urgency


class _Question(Protocol):
    @property
    def fact(self) -> str: ...

    @property
    def could_raise_to(self) -> Urgency: ...


_Q = TypeVar("_Q", bound=_Question)


def _name(atom: Atom) -> str:
    return atom.name if isinstance(atom, FactAtom) else atom.quantity


class Indications:
    """The indications of a knowledge base, compiled over the referral's atom levels."""

    @staticmethod
    def atoms_of(kb: KnowledgeBase) -> tuple[CompareAtom, ...]:
        """The comparisons the indications read (facts are always among the atoms)."""
        return tuple(
            atom
            for item in kb.indications
            for atom in atoms(item.condition)
            if isinstance(atom, CompareAtom)
        )

    def __init__(
        self, kb: KnowledgeBase, table_atoms: Sequence[Atom], index: Mapping[Atom, int]
    ) -> None:
        """Compile the indications of *kb* over the atoms *table_atoms*, placed by *index*."""
        self.rows: tuple[Indication, ...] = kb.indications
        self._levels: Callable[[list[int]], tuple[int, ...]] = compile_table(
            tuple(item.condition for item in self.rows),
            index,
            name="indications",
            labels=tuple(item.id for item in self.rows),
        )
        core = frozenset(kb.core.questions)
        listed: dict[str, list[int]] = {}
        for number, item in enumerate(self.rows):
            for question in item.questions:
                listed.setdefault(question, []).append(number)
        #: The indications listing each question that is not core.
        self._listing = {
            name: tuple(numbers) for name, numbers in listed.items() if name not in core
        }
        #: The atoms that a set-aside question can leave unknown, grouped by the indications
        #: listing their question: set aside when every one of those is known to be false.
        guards: dict[tuple[int, ...], list[int]] = {}
        for position, atom in enumerate(table_atoms):
            if _name(atom) not in core:
                guards.setdefault(self._listing.get(_name(atom), ()), []).append(position)
        self._guards = tuple((numbers, tuple(positions)) for numbers, positions in guards.items())
        #: The questions each indication reads, for the order of the open questions.
        self._reads = tuple(frozenset(map(_name, atoms(item.condition))) for item in self.rows)
        self._core = core
        texts = {name: info.question for name, info in kb.quantities.items()}
        texts |= {name: info.question for name, info in kb.facts.items()}
        asked = {*kb.facts, *kb.quantities} - {
            name
            for table in (kb.facts, kb.quantities)
            for name, info in table.items()
            if info.when_missing != "ask"
        }
        #: For each indication, the questions that answer the atoms it reads (the fact, and the
        #: question asking it: the regions answer every ``region_*`` fact at once).
        self._indicators = tuple(
            tuple(
                dict.fromkeys(
                    (index[atom], texts[_name(atom)])
                    for atom in atoms(item.condition)
                    if _name(atom) in asked
                )
            )
            for item in self.rows
        )
        self._table_atoms = tuple(table_atoms)

    def gates(
        self, values: Sequence[int], levels: tuple[int, ...], open_facts: frozenset[str]
    ) -> dict[str, list[int]]:
        """The unanswered indicators worth asking, each with the indications it could decide.

        An undecided indication is decided "no" only once every indicator it reads is answered
        "no", and one "yes" among them wastes the others; so its indicators are asked first only
        when they take at most half as many questions (not counting open questions, asked
        anyway) as the open questions it alone keeps asked (those no indication known to hold
        lists): tingling, one question, before tetany and seizure. *open_facts* are the open
        questions.
        """
        found: dict[str, list[int]] = {}
        for number, level in enumerate(levels):
            if level != UNKNOWN:
                continue
            kept = sum(
                1
                for question in self.rows[number].questions
                if question in open_facts
                and question not in self._core
                and all(levels[other] != TRUE for other in self._listing.get(question, ()))
            )
            unknown = [
                (_name(self._table_atoms[position]), text)
                for position, text in self._indicators[number]
                if values[position] == UNKNOWN
            ]
            cost = len({text for name, text in unknown if name not in open_facts})
            if 2 * cost > kept:
                continue
            for name, _ in unknown:
                found.setdefault(name, []).append(number)
        return found

    def levels(self, values: list[int]) -> tuple[int, ...]:
        """The Kleene level of every indication, in table order, on the atom *values*."""
        return self._levels(values)

    def indicated(self, question: str, levels: tuple[int, ...]) -> bool:
        """Whether *question* is core or some indication listing it is not known to be false."""
        if question in self._core:
            return True
        return any(levels[number] != FALSE for number in self._listing.get(question, ()))

    def unmet(self, question: str, levels: tuple[int, ...]) -> tuple[Indication, ...]:
        """The indications listing *question* that are known to be false."""
        return tuple(
            self.rows[number]
            for number in self._listing.get(question, ())
            if levels[number] == FALSE
        )

    def focus(self, values: list[int], levels: tuple[int, ...]) -> list[int]:
        """*values* with every unknown atom of a question that is not indicated read as absent."""
        focused = list(values)
        for numbers, positions in self._guards:
            if all(levels[n] == FALSE for n in numbers):
                for position in positions:
                    if focused[position] == UNKNOWN:
                        focused[position] = FALSE
        return focused

    def order(
        self,
        questions: tuple[_Q, ...],
        levels: tuple[int, ...],
        ranks: Mapping[str, int],
        order: Mapping[str, int],
    ) -> tuple[_Q, ...]:
        """*questions* in the order that decides fastest.

        First the highest urgency the answer bears on: the urgency the question could raise the
        referral to itself, or that of an open question it could take away (an indicator of an
        undecided indication); then the questions whose answer could decide the most undecided
        indications; then the knowledge base's order. *ranks* gives the urgency rank each open
        question could reach, *order* the knowledge base's order of facts and quantities.
        """
        undecided = [number for number, level in enumerate(levels) if level == UNKNOWN]
        reach = {
            number: max(
                (ranks.get(q, 0) for q in self.rows[number].questions if q not in self._core),
                default=0,
            )
            for number in undecided
        }

        def key(question: _Q) -> tuple[int, int, int]:
            gates = [number for number in undecided if question.fact in self._reads[number]]
            bears = max([question.could_raise_to.rank, *(reach[number] for number in gates)])
            return (-bears, -len(gates), order[question.fact])

        return tuple(sorted(questions, key=key))
