"""Property-based checks over the whole input model, with the strategies of fasciculate.testing."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from typing import Any

import jsonschema
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import fasciculate
from _safety_report import record
from _schema_strategy import from_schema
from fasciculate import (
    Analyte,
    Assessment,
    Course,
    FactUsed,
    FasciculateError,
    Interpretation,
    InvalidPresentation,
    LabFlag,
    LabResult,
    Presentation,
    Reflex,
    Region,
    Strength,
    TriState,
    Urgency,
    knowledge_base,
)
from fasciculate.engine import Engine
from fasciculate.testing import (
    RED_FLAGS,
    lab_results,
    negative_screens,
    presentations,
    red_flags,
    tri_states,
)

KB = knowledge_base()
SCHEMA = Presentation.model_json_schema()
_UP = {TriState.ABSENT: TriState.UNKNOWN, TriState.UNKNOWN: TriState.PRESENT}


def raised(presentation: Presentation) -> Iterator[tuple[str, Presentation]]:
    """Every presentation one step more present in one tri-state item (absent->unknown->present)."""

    def nested(part: str, **update: Any) -> Presentation:
        section = getattr(presentation, part)
        return presentation.model_copy(update={part: section.model_copy(update=update)})

    for finding in fasciculate.Finding:
        answer = presentation.findings.get(finding, TriState.UNKNOWN)
        if answer in _UP:
            findings = {**presentation.findings, finding: _UP[answer]}
            yield f"findings.{finding}", presentation.model_copy(update={"findings": findings})
    for part, names in (
        ("examination", ("babinski", "wasting", "sensory_loss", "anal_sphincter_laxity")),
        ("twitching", ("at_rest", "after_exercise")),
        ("exposures", ("strenuous_exercise_48h", "dehydration", "nicotine")),
    ):
        for name in names:
            answer = getattr(getattr(presentation, part), name)
            if answer in _UP:
                yield f"{part}.{name}", nested(part, **{name: _UP[answer]})
    # Ordered fields: the "absent" answers, then not given, then the red-flag answer.
    ordered: list[tuple[str, str, tuple[Any, ...], Any]] = [
        ("examination", "strength", (Strength.NORMAL,), Strength.REDUCED),
        ("examination", "knee_reflex", (Reflex.NORMAL, Reflex.REDUCED), Reflex.BRISK),
        ("examination", "ankle_reflex", (Reflex.NORMAL, Reflex.REDUCED), Reflex.BRISK),
        ("twitching", "course", (Course.STABLE, Course.IMPROVING), Course.WORSENING),
    ]
    for part, name, lows, high in ordered:
        value = getattr(getattr(presentation, part), name)
        if value in lows:
            yield f"{part}.{name}", nested(part, **{name: None})
        elif value is None:
            yield f"{part}.{name}", nested(part, **{name: high})


@given(presentations())
def test_totality(presentation: Presentation):
    """Every valid presentation is assessed without error, to one of the four urgencies."""
    record("properties", "totality", runs=1)
    assert fasciculate.assess(presentation).urgency in set(Urgency)


@given(presentations())
def test_determinism(presentation: Presentation):
    """One presentation, as an object, as JSON or via a fresh evaluator, gets one answer."""
    record("properties", "determinism", runs=1)
    first = fasciculate.assess(presentation).model_dump()
    assert first == fasciculate.assess(presentation).model_dump()
    assert first == fasciculate.assess(presentation.model_dump_json()).model_dump()
    fresh = Engine(kb=KB).assess(presentation)
    assert (first["urgency"], [r["id"] for r in first["rules_fired"]]) == (
        fresh.urgency,
        [fired.id for fired in fresh.rules_fired],
    )
    assert first == fresh.model_dump()


@given(presentations())
def test_monotone_in_every_tri_state_item(presentation: Presentation):
    """Moving any one item from absent to unknown to present never lowers the urgency."""
    record("properties", "monotone_in_every_tri_state_item", runs=1)
    before = fasciculate.assess(presentation).urgency
    for where, after in raised(presentation):
        assert before <= fasciculate.assess(after).urgency, where


@given(presentations(), st.floats(min_value=0, max_value=36500))
def test_monotone_in_duration(presentation: Presentation, longer: float):
    """A longer duration never lowers the urgency."""
    record("properties", "monotone_in_duration", runs=1)
    duration = presentation.twitching.duration_days
    assume(duration is not None and presentation.twitching.onset_date is None)
    assert duration is not None
    twitching = presentation.twitching.model_copy(update={"duration_days": max(duration, longer)})
    after = presentation.model_copy(update={"twitching": twitching})
    assert fasciculate.assess(presentation).urgency <= fasciculate.assess(after).urgency


@given(presentations(), st.sampled_from(Region))
def test_monotone_in_the_number_of_regions(presentation: Presentation, region: Region):
    """Twitching in one more place never lowers the urgency (once any region is given)."""
    record("properties", "monotone_in_the_number_of_regions", runs=1)
    regions = presentation.twitching.regions
    assume(regions and region not in regions)
    twitching = presentation.twitching.model_copy(update={"regions": [*regions, region]})
    after = presentation.model_copy(update={"twitching": twitching})
    assert fasciculate.assess(presentation).urgency <= fasciculate.assess(after).urgency


@given(presentations(), lab_results(), st.floats(min_value=0, max_value=1))
def test_monotone_as_a_lab_moves_away_from_normal(presentation, result, fraction):
    """A result further from the middle of its reference range never lowers the urgency."""
    record("properties", "monotone_as_a_lab_moves_away_from_normal", runs=1)
    lab = KB.labs[result.analyte]
    limits = [limit for limit in (lab.lower, lab.upper) if limit is not None]
    assume(limits and result.value is not None and result.unit is not None)
    middle = sum(limits) / len(limits)
    low, high = (limit / lab.units[result.unit] for limit in lab.plausible)
    value, centre = result.value, middle / lab.units[result.unit]
    target = (
        low + (value - low) * fraction if value <= centre else value + (high - value) * fraction
    )
    target = min(max(target, low * (1 + 1e-9)), high * (1 - 1e-9))
    assume(abs(target - centre) >= abs(value - centre))
    moved = result.model_copy(update={"value": target})
    before = presentation.model_copy(update={"labs": [*presentation.labs, result]})
    after = presentation.model_copy(update={"labs": [*presentation.labs, moved]})
    assert fasciculate.assess(before).urgency <= fasciculate.assess(after).urgency


# Where an assessment cites input facts. The differential's supporting and conflicting evidence
# will join here: add one function per place that cites FactUsed objects.
CITATIONS: list[Callable[[Assessment], Iterator[tuple[str, FactUsed]]]] = [
    lambda result: ((rule.id, fact) for rule in result.rules_fired for fact in rule.facts),
]


def resolve(document: Any, path: str) -> Any:
    """The value at a dotted *path* (``labs.0``, ``findings.weakness``) of a JSON document."""
    for part in path.split("."):
        document = document[int(part)] if isinstance(document, list) else document[part]
    return document


@given(presentations())
def test_every_cited_fact_exists_in_the_input(presentation: Presentation):
    """Every fact the assessment cites points at a field the caller actually sent."""
    record("properties", "every_cited_fact_exists_in_the_input", runs=1)
    document = json.loads(presentation.model_dump_json(exclude_defaults=True))
    result = fasciculate.assess(presentation)
    for cite in CITATIONS:
        for where, fact in cite(result):
            for path in fact.input.split(","):  # a computed value names each of its inputs
                value = resolve(document, path)
                assert value not in (None, [], "unknown"), (where, fact)
            if fact.input.startswith("findings."):
                assert "present" == value, (where, fact)


@given(presentations())
def test_json_round_trip_of_input_and_output(presentation: Presentation):
    """Input and output survive a JSON round trip unchanged."""
    record("properties", "json_round_trip_of_input_and_output", runs=1)
    assert presentation == Presentation.model_validate_json(presentation.model_dump_json())
    result = fasciculate.assess(presentation)
    assert result == Assessment.model_validate_json(result.model_dump_json())


@given(negative_screens())
def test_negative_screens_are_self_care(presentation: Presentation):
    """A complete screen with every red flag absent is self-care with nothing left to ask."""
    record("properties", "negative_screens_are_self_care", runs=1)
    result = fasciculate.assess(presentation)
    assert (Urgency.SELF_CARE, ()) == (result.urgency, result.missing)


@given(red_flags())
def test_red_flags_are_never_self_care(presentation: Presentation):
    """Any red flag present means at least routine review, with a cited rule behind it."""
    record("properties", "red_flags_are_never_self_care", runs=1)
    result = fasciculate.assess(presentation)
    assert result.urgency >= Urgency.ROUTINE
    assert any(rule.urgency == result.urgency for rule in result.rules_fired)


def test_every_red_flag_of_the_strategy_is_a_screening_item():
    """The red flags the strategy draws are findings of the input vocabulary."""
    assert set(RED_FLAGS) <= set(fasciculate.Finding)


# Problems only the model (not the JSON Schema) can find: cross-field and knowledge-base checks.
_CROSS_FIELD = (
    "unknown unit",
    "not a plausible",
    "onset_date",
    "give at least one of",
    "needs a value with its unit, or an interpretation",
    "needs its value too",
    "needs its unit too",
)


@given(from_schema(SCHEMA))
def test_schema_valid_documents_are_accepted(document: dict[str, Any]):
    """A document valid against the JSON Schema is accepted, or fails only a cross-field check."""
    record("properties", "schema_valid_documents_are_accepted", runs=1)
    jsonschema.validate(document, SCHEMA)
    try:
        fasciculate.assess(document)
    except InvalidPresentation as error:
        for problem in error.problems:
            assert any(reason in problem.message for reason in _CROSS_FIELD), str(problem)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)


def only_our_errors(data: Any) -> None:
    with contextlib.suppress(FasciculateError):
        fasciculate.assess(data)


@given(st.binary())
def test_random_bytes_raise_only_fasciculate_errors(data: bytes):
    """Random bytes are rejected with a FasciculateError, never another exception."""
    record("properties", "random_bytes_raise_only_fasciculate_errors", runs=1)
    only_our_errors(data)


@given(_JSON)
def test_random_json_raises_only_fasciculate_errors(data: Any):
    """Random JSON values, as objects or as text, raise nothing but FasciculateError."""
    record("properties", "random_json_raises_only_fasciculate_errors", runs=1)
    only_our_errors(data)
    only_our_errors(json.dumps(data))


def _paths(document: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(document, dict):
        for key, value in document.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            yield from _paths(value, (*prefix, index))


@st.composite
def broken(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    """A valid document with one field made invalid: wrong type, out of range or unknown."""
    document = json.loads(draw(presentations()).model_dump_json())
    how = draw(st.sampled_from(["wrong type", "out of range", "unknown field"]))
    if how == "unknown field":
        objects = [p for p in _paths(document) if isinstance(resolve_path(document, p), dict)]
        target = resolve_path(document, draw(st.sampled_from(objects)))
        target[draw(st.text(min_size=1, max_size=8).filter(lambda k: k not in target))] = 1
        return document, how
    if how == "out of range":
        field = draw(st.sampled_from(["age", "duration_days", "caffeine", "sleep"]))
        where = {
            "age": ("patient", "age", draw(st.integers(121, 10**6) | st.integers(-(10**6), -1))),
            "duration_days": ("twitching", "duration_days", draw(st.floats(36501, 1e9))),
            "caffeine": ("exposures", "caffeine_mg_per_day", draw(st.floats(-1e9, -0.01))),
            "sleep": ("exposures", "sleep_hours", draw(st.floats(24.01, 1e9))),
        }[field]
        document[where[0]][where[1]] = where[2]
        return document, how
    leaves = [
        p for p in _paths(document) if p and not isinstance(resolve_path(document, p), dict | list)
    ]
    assume(leaves)
    path = draw(st.sampled_from(leaves))
    parent = resolve_path(document, path[:-1])
    # A scalar field given an array or an object is the wrong type for every field of the model.
    parent[path[-1]] = draw(st.sampled_from([[1, 2], {"x": 1}, [], {}]))
    return document, how


def resolve_path(document: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        document = document[part]
    return document


@given(broken())
def test_invalid_documents_raise_invalid_presentation(case: tuple[dict[str, Any], str]):
    """Wrong types, out-of-range values and unknown fields are rejected as InvalidPresentation."""
    record("properties", "invalid_documents_raise_invalid_presentation", runs=1)
    document, how = case
    with pytest.raises(InvalidPresentation):
        fasciculate.assess(document)
    with pytest.raises(InvalidPresentation):
        fasciculate.parse_presentation(json.dumps(document))
    assert how


@given(tri_states())
def test_tri_states_cover_the_vocabulary(answer: TriState):
    """The tri-state strategy draws members of TriState."""
    record("properties", "tri_states_cover_the_vocabulary", runs=1)
    assert answer in set(TriState)


#: The interpretations from the best to the worst reading, at each end.
_WORSE_WORDS = (
    (Interpretation.N, Interpretation.L, Interpretation.LL, Interpretation.AA),
    (Interpretation.N, Interpretation.H, Interpretation.HH, Interpretation.AA),
    (Interpretation.N, Interpretation.A, Interpretation.AA),
)


@given(presentations(), st.sampled_from(Analyte), st.sampled_from(_WORSE_WORDS), st.data())
def test_monotone_as_a_laboratory_word_gets_worse(presentation, analyte, scale, data):
    """A result given in words never lowers the urgency as its interpretation gets worse."""
    record("properties", "monotone_as_a_laboratory_word_gets_worse", runs=1)
    better = data.draw(st.integers(min_value=0, max_value=len(scale) - 2))
    worse = data.draw(st.integers(min_value=better + 1, max_value=len(scale) - 1))
    before, after = (
        presentation.model_copy(
            update={"labs": [*presentation.labs, LabResult(analyte=analyte, interpretation=word)]}
        )
        for word in (scale[better], scale[worse])
    )
    assert fasciculate.assess(before).urgency <= fasciculate.assess(after).urgency


@given(presentations(), lab_results())
def test_a_result_outside_its_range_is_never_self_care(presentation, result):
    """Any laboratory result flagged outside its range gives at least routine, never self-care."""
    record("properties", "a_result_outside_its_range_is_never_self_care", runs=1)
    assessed = fasciculate.assess(
        presentation.model_copy(update={"labs": [*presentation.labs, result]})
    )
    flags = {lab.flag for lab in assessed.labs}
    if flags - {LabFlag.NORMAL, LabFlag.NOT_CLASSIFIED}:
        assert assessed.urgency >= Urgency.ROUTINE, flags
        assert "no red flags found" not in assessed.summary
