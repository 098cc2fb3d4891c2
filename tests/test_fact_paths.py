"""Every decided fact is traced to an input field that the presentation really gave."""

from __future__ import annotations

from hypothesis import given

from fasciculate import Presentation, TriState
from fasciculate._fact_paths import MULTI_SOURCE, SOURCE_PATH
from fasciculate._facts import facts_from
from fasciculate._kb import knowledge_base
from fasciculate._vocab import UNKNOWN
from fasciculate.testing import presentations

KB = knowledge_base()


def _given(presentation: Presentation, path: str) -> bool:
    """Whether the dotted input *path* holds an answer (not missing, not ``unknown``)."""
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
    assert set(KB.facts) == set(SOURCE_PATH) | MULTI_SOURCE
    assert not set(SOURCE_PATH) & MULTI_SOURCE


@given(presentations() | presentations(complete=True))
def test_every_decided_fact_comes_from_a_field_the_input_gave(presentation):
    """A present or absent fact names an input field that holds an answer in the presentation."""
    facts = facts_from(presentation, KB)
    for name, level in facts.levels.items():
        if level == UNKNOWN:
            continue
        path = facts.path_of(name)
        if path == "medications":  # a class not taken, read from the list of medications
            assert presentation.medications
            continue
        assert _given(presentation, path), (name, path)


@given(presentations() | presentations(complete=True))
def test_every_given_quantity_comes_from_a_field_the_input_gave(presentation):
    """A quantity with a value names the input field it was read from."""
    facts = facts_from(presentation, KB)
    for name, value in facts.quantities.items():
        if value is not None:
            assert _given(presentation, facts.path_of(name)), name
