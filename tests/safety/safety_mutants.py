"""Mutants of the rule table, generated programmatically.

Each mutant is the packaged knowledge base with one change that could make it less safe or less
specific: a rule dropped, a rule's urgency lowered one step, one term of a condition dropped, one
threshold moved one step in the unsafe direction (and, as half a step, made strict), or one
implication between facts (``kb/derivations.toml``) dropped. The focused screen
(``kb/indications.toml``) is mutated the ways that ask less: an indication dropped, a question
dropped from an indication, an indicator (a disjunct of ``when``) dropped, or a question moved out
of the core. Mutants are built with ``attrs.evolve`` and run by a real ``ReferralEvaluator`` on
facts read with the mutant.
"""

from __future__ import annotations

from collections.abc import Iterator

import attrs

from fasciculate import Indication, KnowledgeBase, Rule, Urgency
from fasciculate.conditions import All, Any_, CompareAtom, Condition

# One step of each quantity: the precision laboratories and clinicians report it in.
STEP = {
    "duration_days": 1.0,
    "region_count": 1.0,
    "potassium": 0.1,
    "magnesium": 0.01,
    "calcium_adjusted": 0.01,
    "calcium_ionised": 0.01,
    "calcium_total": 0.01,
    "vitamin_d": 1.0,
    "vitamin_b12": 1.0,
    "creatine_kinase": 1.0,
    "albumin": 1.0,
    "power_lowest": 1.0,  # MRC grades are whole numbers
    "age": 1.0,
    "tsh": 0.01,
}
_UNSAFE = {">=": 1, ">": 1, "<=": -1, "<": -1}
_STRICT = {">=": ">", "<=": "<"}


@attrs.frozen
class Mutant:
    """A rule table with one change."""

    id: str
    kind: str
    kb: KnowledgeBase = attrs.field(repr=False, eq=False)


def _step(quantity: str) -> float:
    for prefix, step in STEP.items():
        if quantity == prefix or quantity.startswith(f"{prefix}_"):
            return step
    raise KeyError(quantity)  # pragma: no cover - a new quantity needs a step


def _subtrees(condition: Condition, path: tuple[int, ...] = ()) -> Iterator[tuple[int, ...]]:
    yield path
    if isinstance(condition, All | Any_):
        for position, part in enumerate(condition.parts):
            yield from _subtrees(part, (*path, position))


def _at(condition: Condition, path: tuple[int, ...]) -> Condition:
    for position in path:
        assert isinstance(condition, All | Any_)
        condition = condition.parts[position]
    return condition


def _replace(condition: Condition, path: tuple[int, ...], new: Condition | None) -> Condition:
    """*condition* with the node at *path* replaced by *new* (``None``: dropped)."""
    if not path:
        assert new is not None
        return new
    assert isinstance(condition, All | Any_)
    head, rest = path[0], path[1:]
    parts = list(condition.parts)
    if rest:
        parts[head] = _replace(parts[head], rest, new)
    elif new is None:
        del parts[head]
    else:
        parts[head] = new
    return parts[0] if len(parts) == 1 else type(condition)(tuple(parts))


def _with_rule(kb: KnowledgeBase, position: int, rule: Rule | None) -> KnowledgeBase:
    rules = list(kb.rules)
    if rule is None:
        del rules[position]
    else:
        rules[position] = rule
    return attrs.evolve(kb, rules=tuple(rules))


def _text(condition: Condition) -> str:
    return condition.render()


def mutants(kb: KnowledgeBase) -> Iterator[Mutant]:
    """Every mutant of *kb*'s rule table, its derivations and its focused screen."""
    yield from indication_mutants(kb)
    for position, derivation in enumerate(kb.derivations):
        kept = kb.derivations[:position] + kb.derivations[position + 1 :]
        yield Mutant(
            f"drop {derivation.id}", "drop a derivation", attrs.evolve(kb, derivations=kept)
        )
    for position, rule in enumerate(kb.rules):
        yield Mutant(f"drop {rule.id}", "drop a rule", _with_rule(kb, position, None))
        lower = attrs.evolve(rule, urgency=Urgency.from_rank(rule.urgency.rank - 1))
        yield Mutant(
            f"lower {rule.id} to {lower.urgency}",
            "lower a rule's urgency one step",
            _with_rule(kb, position, lower),
        )
        for path in _subtrees(rule.condition):
            node = _at(rule.condition, path)
            if path:
                dropped = _replace(rule.condition, path, None)
                yield Mutant(
                    f"{rule.id}: drop term {_text(node)!r}",
                    "drop a term of a condition",
                    _with_rule(kb, position, attrs.evolve(rule, condition=dropped)),
                )
            if isinstance(node, CompareAtom):
                yield from _threshold_mutants(kb, position, rule, path, node)


def _threshold_mutants(
    kb: KnowledgeBase, position: int, rule: Rule, path: tuple[int, ...], atom: CompareAtom
) -> Iterator[Mutant]:
    moved = attrs.evolve(atom, threshold=atom.threshold + _UNSAFE[atom.op] * _step(atom.quantity))
    changes = [(moved, f"{atom.render()} -> {moved.threshold:g}")]
    if atom.op in _STRICT:
        strict = attrs.evolve(atom, op=_STRICT[atom.op])
        changes.append((strict, f"{atom.render()} -> strict {strict.op}"))
    for new, text in changes:
        condition = _replace(rule.condition, path, new)
        yield Mutant(
            f"{rule.id}: {text}",
            "move a threshold the unsafe way",
            _with_rule(kb, position, attrs.evolve(rule, condition=condition)),
        )


# --- the focused screen (kb/indications.toml) -----------------------------------------------------


def _with_indication(kb: KnowledgeBase, position: int, new: Indication | None) -> KnowledgeBase:
    found = list(kb.indications)
    if new is None:
        del found[position]
    else:
        found[position] = new
    return attrs.evolve(kb, indications=tuple(found))


def _disjuncts(condition: Condition) -> Iterator[tuple[int, ...]]:
    """The paths of the parts of every disjunction in *condition*."""
    for path in _subtrees(condition):
        node = _at(condition, path)
        if isinstance(node, Any_):
            yield from ((*path, position) for position in range(len(node.parts)))


#: The kinds of mutant that can change which questions are indicated: the indications read facts
#: after the derivations, so a dropped derivation is one of them.
ASKING_KINDS = frozenset(
    {
        "drop a derivation",
        "drop an indication",
        "drop a question from an indication",
        "drop an indicator (a disjunct of an indication's condition)",
        "move a question out of the core",
    }
)


def indication_mutants(kb: KnowledgeBase) -> Iterator[Mutant]:
    """Every mutant of the focused screen that asks less than the packaged one."""
    for position, indication in enumerate(kb.indications):
        yield Mutant(
            f"drop {indication.id}", "drop an indication", _with_indication(kb, position, None)
        )
        for question in indication.questions:
            fewer = tuple(name for name in indication.questions if name != question)
            yield Mutant(
                f"{indication.id}: drop question {question}",
                "drop a question from an indication",
                _with_indication(kb, position, attrs.evolve(indication, questions=fewer)),
            )
        for path in _disjuncts(indication.condition):
            dropped = _replace(indication.condition, path, None)
            changed = attrs.evolve(indication, condition=dropped, when=_text(dropped))
            yield Mutant(
                f"{indication.id}: drop indicator {_text(_at(indication.condition, path))!r}",
                "drop an indicator (a disjunct of an indication's condition)",
                _with_indication(kb, position, changed),
            )
    for question in kb.core.questions:
        fewer = tuple(name for name in kb.core.questions if name != question)
        yield Mutant(
            f"move {question} out of the core",
            "move a question out of the core",
            attrs.evolve(kb, core=attrs.evolve(kb.core, questions=fewer)),
        )
