"""Every decided fact is traced to an input field that the presentation really gave."""

from __future__ import annotations

from hypothesis import given

from fasciculate import Finding, Presentation, TriState, knowledge_base
from fasciculate._fact_paths import fact_paths
from fasciculate.conditions import UNKNOWN
from fasciculate.engine import Engine
from fasciculate.testing import presentations

KB = knowledge_base()
ENGINE = Engine(kb=KB)


def _given(presentation: Presentation, path: str) -> bool:
    """Whether the dotted input *path* holds an answer (not missing, not ``unknown``).

    A computed value (albumin-adjusted calcium) names every input it was computed from.
    """
    if "," in path:
        return all(_given(presentation, part) for part in path.split(","))
    head, _, rest = path.partition(".")
    if head == "findings":
        return presentation.findings.get(rest, TriState.UNKNOWN) is not TriState.UNKNOWN
    if head in {"labs", "medications"}:
        items = getattr(presentation, head)
        return rest.isdigit() and int(rest) < len(items)
    field, _, key = rest.partition(".")
    value = getattr(getattr(presentation, head), field)
    if key:  # a grade per movement: examination.power.<movement>
        return key in value
    return value not in (None, TriState.UNKNOWN, [])


def test_each_fact_has_one_path_or_is_listed_as_multi_source():
    """Every fact of the knowledge base is either single-source with a path, or multi-source."""
    known = fact_paths()
    assert set(KB.facts) == set(known.source_path) | known.multi_source
    assert not set(known.source_path) & known.multi_source


@given(presentations() | presentations(complete=True))
def test_every_decided_fact_comes_from_a_field_the_input_gave(presentation):
    """A present or absent fact names an input field that holds an answer in the presentation."""
    facts = ENGINE.facts(presentation)
    for name, level in facts.levels.items():
        if level == UNKNOWN:
            continue
        path = facts.path_of(name)
        if not path and KB.facts[name].when_missing == "not_measured":
            continue  # absent because nothing was reported, like a laboratory value not measured
        if path == "medications":  # a class not taken, read from the list of medications
            assert presentation.medications
            continue
        assert _given(presentation, path), (name, path)


@given(presentations() | presentations(complete=True))
def test_every_given_quantity_comes_from_a_field_the_input_gave(presentation):
    """A quantity with a value names the input field it was read from."""
    facts = ENGINE.facts(presentation)
    for name, value in facts.quantities.items():
        if value is not None:
            assert _given(presentation, facts.path_of(name)), name


def _field(path: str) -> str:
    """An input field: without a list index (``labs.2`` -> ``labs``) or a graded movement
    (``examination.power.foot_dorsiflexion`` -> ``examination.power``)."""
    head, _, rest = path.partition(".")
    if path.startswith("examination.power."):
        return "examination.power"
    return head if rest.isdigit() or not rest else path


@given(presentations() | presentations(complete=True))
def test_every_decided_fact_came_from_a_field_its_open_question_names(presentation):
    """The field that set a fact or quantity is among those an open question on it would name."""
    facts = ENGINE.facts(presentation)
    decided = [name for name, level in facts.levels.items() if level != UNKNOWN]
    decided += [name for name, value in facts.quantities.items() if value is not None]
    for name in decided:
        path = facts.path_of(name)
        if not path and name in KB.facts and KB.facts[name].when_missing == "not_measured":
            continue  # absent because nothing was measured: no field set it, and none is asked
        for part in path.split(","):  # a computed value (adjusted calcium) names its inputs
            assert _field(part) in ENGINE.inputs(name), (name, path)


def _exists(path: str) -> bool:
    """Whether the dotted *path* names a field of the presentation (or a finding)."""
    head, _, rest = path.partition(".")
    if head not in Presentation.model_fields or not rest:
        return head in Presentation.model_fields
    if head == "findings":
        return rest in set(Finding)
    section = Presentation.model_fields[head].annotation
    return rest in section.model_fields


def test_every_fact_and_quantity_has_an_input_field():
    """Every fact and quantity of the knowledge base can be answered by fields that exist."""
    for name in [*KB.facts, *KB.quantities]:
        paths = ENGINE.inputs(name)
        assert paths
        assert all(_exists(path) for path in paths), (name, paths)
    assert not _exists("examination.sphincter")
    assert not _exists("findings.not_a_finding")
