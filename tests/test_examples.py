"""The bundled example presentations give the urgency each was written for."""

from __future__ import annotations

import tomllib
from collections import Counter

import pytest

import fasciculate
from conftest import EXAMPLES
from fasciculate import Category, Urgency

PRESENTATIONS = EXAMPLES / "presentations"
EXPECTED = tomllib.loads((PRESENTATIONS / "expected.toml").read_text())


def test_every_example_has_an_expectation_and_every_urgency_is_covered():
    """Each example file is listed in expected.toml, and together they span all four urgencies."""
    files = {path.stem for path in PRESENTATIONS.glob("*.json")}
    assert files == set(EXPECTED)
    assert len(files) >= 8
    assert set(Urgency) == {Urgency(entry["urgency"]) for entry in EXPECTED.values()}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_gives_its_intended_urgency(name: str):
    """The example's assessment has the urgency recorded for it."""
    result = fasciculate.assess((PRESENTATIONS / f"{name}.json").read_bytes())
    assert Urgency(EXPECTED[name]["urgency"]) == result.urgency


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_ranks_its_intended_category_first(name: str):
    """The example's differential puts the category recorded for it first, led by its condition."""
    result = fasciculate.assess((PRESENTATIONS / f"{name}.json").read_bytes())
    first = result.differential[0]
    expected = EXPECTED[name]
    assert (Category(expected["category"]), expected["condition"]) == (
        first.category,
        first.leading_condition,
    )


def test_each_category_leads_in_at_least_two_examples():
    """Every differential category is the intended leader of two examples or more."""
    counts = Counter(Category(entry["category"]) for entry in EXPECTED.values())
    assert set(Category) == set(counts)
    assert min(counts.values()) >= 2
