"""An engine of one's own answers as the shared one, for the knowledge base it was given."""

from __future__ import annotations

import gc

import attrs
import pytest
from hypothesis import given

import fasciculate
from conftest import EXAMPLES
from fasciculate import caches
from fasciculate.engine import Engine, reset
from fasciculate.testing import presentations

PRESENTATIONS = sorted((EXAMPLES / "presentations").glob("*.json"))
SADDLE = {"findings": {"saddle_sensory_loss": "present"}}


@pytest.mark.parametrize("path", PRESENTATIONS, ids=lambda path: path.stem)
def test_an_engine_of_the_packaged_tables_gives_the_shared_engines_bytes(path):
    """assess, assess_json and next_questions: the same results as the package's functions."""
    document = path.read_bytes()
    engine = Engine()
    assert fasciculate.assess_json(document) == engine.assess_json(document)
    assert fasciculate.assess(document) == engine.assess(document)
    assert fasciculate.next_questions(document) == engine.next_questions(document)


@given(presentations())
def test_the_facts_are_those_the_assessment_cites(presentation):
    """Each fact an assessment cites has the level and input path the engine's facts give."""
    facts = Engine().facts(presentation)
    level = {"absent": 0, "unknown": 1, "present": 2}
    for fired in fasciculate.assess(presentation).rules_fired:
        for used in fired.facts:
            if used.fact in facts.levels and used.value in level:
                assert (level[used.value], used.input) == (
                    facts.levels[used.fact],
                    facts.path_of(used.fact),
                )


def test_an_engine_assesses_with_the_knowledge_base_it_was_given():
    """Without the saddle-anaesthesia rule, saddle anaesthesia alone is no emergency."""
    kb = fasciculate.knowledge_base()
    without = attrs.evolve(kb, rules=tuple(rule for rule in kb.rules if rule.id != "CES-SADDLE"))
    engine = Engine(kb=without)
    assert without is engine.kb
    assert "CES-SADDLE" not in [rule.id for rule in engine.assess(SADDLE).rules_fired]
    assert fasciculate.Urgency.EMERGENCY > engine.assess(SADDLE).urgency
    assert fasciculate.Urgency.EMERGENCY == fasciculate.assess(SADDLE).urgency  # shared: unchanged


def test_inputs_are_the_open_questions_inputs():
    """``inputs`` names what an open question on the same fact names; an unknown name raises."""
    engine = Engine()
    for question in fasciculate.assess({}).missing:
        assert question.inputs == engine.inputs(question.fact)
    with pytest.raises(KeyError, match="'colour' is neither a fact nor a quantity"):
        engine.inputs("colour")


def _advice_caches() -> tuple[int, int]:
    """How many ``json.advice`` caches are alive, and their entries (other tests' engines too)."""
    gc.collect()  # engines hold cycles (an engine's typed output writes with its JSON writer)
    rows = [row for row in caches.stats() if row.name == "json.advice"]
    return sum(row.caches for row in rows), sum(row.entries for row in rows)


def test_reset_starts_the_shared_engine_with_empty_caches():
    """After ``reset`` the next call builds its parts anew, and answers the same."""
    before = fasciculate.assess_json(SADDLE)
    alive, entries = _advice_caches()
    assert entries >= 1
    reset()
    gone_alive, gone_entries = _advice_caches()
    assert (alive - 1, True) == (gone_alive, gone_entries < entries)  # its caches went with it
    assert before == fasciculate.assess_json(SADDLE)
    assert (alive, gone_entries + 1) == _advice_caches()  # a new engine, its cache built anew
