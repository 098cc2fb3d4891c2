"""Agreement on generated presentations: z3 formulas, the Python evaluator and the specification.

Each generated presentation is read by the specification's own reader (not ``fasciculate._facts``)
into item levels and quantities; z3 evaluates the compiled rule table on them, and the answer must
equal ``fasciculate.assess()`` and the specification.
"""

from __future__ import annotations

from hypothesis import given

import fasciculate
from _safety_report import record
from fasciculate import Presentation, knowledge_base
from fasciculate.testing import presentations
from safety_spec import screen_of, spec_urgency
from safety_symbolic import Proof, concrete, rank_of

PROOF = Proof.build(knowledge_base(), None)


@given(presentations())
def test_formulas_evaluator_and_specification_agree(presentation: Presentation):
    """For any presentation: z3 formulas == assess() == specification (and z3's spec too)."""
    record("properties", "formulas_evaluator_and_specification_agree", runs=1)
    screen = screen_of(presentation)
    assignment = concrete(PROOF.world, screen.levels, screen.quantities)
    formulas = rank_of(PROOF.compiled.result.as_int(), assignment)
    spec_formulas = rank_of(PROOF.spec.as_int(), assignment)
    actual = fasciculate.assess(presentation).urgency.rank
    expected = spec_urgency(screen).rank
    assert (expected, expected, expected) == (actual, formulas, spec_formulas)


@given(presentations(complete=True))
def test_agreement_on_complete_screens(presentation: Presentation):
    """The same agreement when every finding is answered present or absent."""
    record("properties", "agreement_on_complete_screens", runs=1)
    screen = screen_of(presentation)
    assignment = concrete(PROOF.world, screen.levels, screen.quantities)
    actual = fasciculate.assess(presentation).urgency.rank
    assert (
        spec_urgency(screen).rank == actual == rank_of(PROOF.compiled.result.as_int(), assignment)
    )
