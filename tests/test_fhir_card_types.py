"""Every card fasciculate writes has the shape its published type (CDS Hooks 2.0) says."""

from __future__ import annotations

import typing
from typing import Any, Literal, get_args, get_origin, get_type_hints, is_typeddict

import pytest
from hypothesis import given

import fasciculate
from _builders import negative
from conftest import EXAMPLES
from fasciculate.fhir import Action, Card, CardSource, Suggestion, assessment_to_cards, read_bundle
from fasciculate.testing import presentations


def _problems(value: object, kind: Any, where: str = "card") -> list[str]:
    """How *value* departs from the type *kind* (a TypedDict, list, Literal, dict or class)."""
    if is_typeddict(kind):
        if not isinstance(value, dict):
            return [f"{where}: not an object"]
        keys = kind.__required_keys__ | kind.__optional_keys__
        found = [f"{where}: missing {key}" for key in kind.__required_keys__ - value.keys()]
        found += [f"{where}: unknown key {key}" for key in value.keys() - keys]
        hints = get_type_hints(kind)
        for key in value.keys() & keys:
            found += _problems(value[key], hints[key], f"{where}.{key}")
        return found
    origin = get_origin(kind)
    if origin is list:
        if not isinstance(value, list):
            return [f"{where}: not a list"]
        (item,) = get_args(kind)
        return [p for n, entry in enumerate(value) for p in _problems(entry, item, f"{where}[{n}]")]
    if origin is Literal:
        return [] if value in get_args(kind) else [f"{where}: {value!r} not in {get_args(kind)}"]
    expected = origin or kind
    return [] if isinstance(value, expected) else [f"{where}: {value!r} is not {expected}"]


def test_the_card_types_follow_cds_hooks():
    """The required and optional keys of the card types are those of CDS Hooks 2.0."""
    assert {"summary", "indicator", "source"} == Card.__required_keys__
    assert {"uuid", "detail", "suggestions", "selectionBehavior", "overrideReasons", "links"} == (
        Card.__optional_keys__
    )
    assert {"label"} == CardSource.__required_keys__
    assert {"label"} == Suggestion.__required_keys__
    assert {"type", "description"} == Action.__required_keys__
    assert typing.get_args(get_type_hints(Card)["indicator"]) == ("info", "warning", "critical")


def test_the_checker_finds_departures():
    """The shape check reports a missing key, an unknown key and a value outside a literal."""
    (card,) = assessment_to_cards(fasciculate.assess(negative(findings={"pain": "present"})))
    broken = {**card, "indicator": "hint", "colour": "red"}
    del broken["summary"]
    assert sorted(_problems(broken, Card)) == [
        "card.indicator: 'hint' not in ('info', 'warning', 'critical')",
        "card: missing summary",
        "card: unknown key colour",
    ]


@pytest.mark.parametrize(
    "path", sorted((EXAMPLES / "fhir").glob("*.json")), ids=lambda path: path.stem
)
def test_cards_of_every_example_bundle_match_their_type(path):
    """The cards of each bundled FHIR example, with subject and evidence, match Card exactly."""
    reading = read_bundle(path.read_bytes())
    result = fasciculate.assess(reading.presentation)
    cards = assessment_to_cards(result, subject=reading.subject, evidence=reading.evidence)
    assert [] == [problem for card in cards for problem in _problems(card, Card)]


@given(presentations() | presentations(complete=True))
def test_cards_of_any_assessment_match_their_type(presentation):
    """Whatever the assessment, its cards match Card exactly."""
    (card,) = assessment_to_cards(fasciculate.assess(presentation), subject="Patient/1")
    assert [] == _problems(card, Card)
