"""Symbolic proof: for every assignment of every screening item, the rule table is safe.

The rule table (walked from ``knowledge_base().rules``) and the independent specification are
compiled into z3 formulas; each property is proved by showing that its violation is unsatisfiable.
A counterexample fails the test and is printed as a readable presentation.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from _safety_report import record
from fasciculate import knowledge_base
from safety_indications import CORE, FINDINGS, INDICATIONS, SpecIndication
from safety_spec import ASKED_QUANTITIES, CLAUSES
from safety_symbolic import (
    BACKGROUNDS,
    Proof,
    RecordingAlgebra,
    Violation,
    describe,
    quantity_classes,
    timed,
)

KB = knowledge_base()
PROPERTIES = (
    "below_spec",
    "above_spec",
    "not_monotone",
    "self_care_while_open",
    "escalates_as_before",
    "indication_withdrawn",
    "unexplained",
)


def proof_for(name: str) -> Proof:
    return Proof.build(KB, BACKGROUNDS[name])


def fail_on(proof: Proof, violation: Violation | None) -> None:
    if violation is not None:
        pytest.fail(describe(violation, proof.background, KB), pytrace=False)


def assignments(proof: Proof) -> int:
    return 3 ** len(proof.world.items) * quantity_classes(proof)


@pytest.mark.parametrize("background", sorted(BACKGROUNDS))
@pytest.mark.parametrize("prop", PROPERTIES)
def test_property_holds_for_every_assignment(background: str, prop: str):
    """Safe, specific, monotone, no self-care on an open screen, a cited rule behind each result."""
    proof = proof_for(background)
    violation, seconds = timed(getattr(proof, prop))
    record(
        "proof",
        f"{prop} [{background}]",
        items=len(proof.world.items),
        assignments=assignments(proof),
        seconds=seconds,
    )
    fail_on(proof, violation)


@pytest.mark.parametrize("background", sorted(BACKGROUNDS))
def test_monotone_item_by_item(background: str):
    """absent <= unknown <= present for each screening item in turn, every other item free."""
    proof = proof_for(background)

    def check_all() -> list[Violation]:
        found = (proof.not_monotone_in(item) for item in proof.world.items)
        return [violation for violation in found if violation is not None]

    violations, seconds = timed(check_all)
    record(
        "proof",
        f"monotone item by item [{background}]",
        items=len(proof.world.items),
        assignments=assignments(proof),
        seconds=seconds,
    )
    if violations:
        fail_on(proof, violations[0])


@pytest.mark.parametrize("background", sorted(BACKGROUNDS))
def test_every_fired_rule_is_justified_by_the_facts_it_cites(background: str):
    """Each fired rule's cited facts alone meet a specification clause of at least its urgency."""
    proof = proof_for(background)

    def check_all() -> list[Violation]:
        found = (proof.unjustified(position) for position in range(len(KB.rules)))
        return [violation for violation in found if violation is not None]

    violations, seconds = timed(check_all)
    record(
        "proof",
        f"explanation [{background}]",
        items=len(proof.world.items),
        assignments=assignments(proof),
        seconds=seconds,
    )
    if violations:
        fail_on(proof, violations[0])


def test_every_rule_cites_a_known_source():
    """Every rule, and the open-screen rule, cites a source of the bibliography."""
    rules = [*KB.rules, KB.screen_incomplete]
    assert [] == [rule.id for rule in rules if rule.source not in KB.sources]


@pytest.mark.parametrize("module", ["safety_spec.py", "safety_indications.py"])
def test_the_specification_is_written_apart_from_the_knowledge_base(module: str):
    """The specification reads nothing from the rule table, the indications or the KB's files."""
    source = (Path(__file__).parent / module).read_text()
    imports = [line for line in source.splitlines() if line.startswith(("import ", "from "))]
    assert [] == [
        line for line in imports if any(name in line for name in ("_kb", "_referral", "_screen"))
    ]
    assert "rules.toml" not in source.replace("kb/rules.toml``", "")
    assert "indications.toml" not in source.replace("kb/indications.toml``", "")


def test_the_knowledge_base_asks_every_question_the_specification_calls_for():
    """Each question the specification indicates, unanswered, that could raise the urgency, is
    indicated by the knowledge base: self-care or not, it is among the open questions.

    Proved on the background with every quantity free, which holds the others.
    """
    proof = proof_for("any")
    violation, seconds = timed(proof.asks_less)
    record(
        "proof",
        "asks what the specification calls for [any]",
        items=len(proof.world.items),
        assignments=assignments(proof),
        seconds=seconds,
    )
    fail_on(proof, violation)


@pytest.mark.parametrize("finding", FINDINGS, ids=lambda finding: finding.id)
def test_each_finding_is_a_question_the_knowledge_base_does_not_ask(
    finding: SpecIndication, capsys: pytest.CaptureFixture[str]
):
    """With a finding of the review added, the knowledge base asks less than the specification.

    It answers below it, or leaves a question it calls for unasked. The counterexample is printed
    (``pytest -s``): it is the finding, as a presentation. When the knowledge base comes to ask
    the question, this fails: move the finding into ``INDICATIONS``.
    """
    proof = Proof.build(KB, BACKGROUNDS["any"], indications=(*INDICATIONS, finding))
    violation, seconds = timed(lambda: proof.below_spec() or proof.asks_less())
    record("proof", f"finding {finding.id} [any]", items=len(proof.world.items), seconds=seconds)
    assert violation is not None, f"{finding.id} is now asked: move it into INDICATIONS"
    with capsys.disabled():
        print(f"\n{finding.id}: {finding.says}\n{describe(violation, None, KB)}")  # noqa: T201


class _DirectItems(RecordingAlgebra):
    """The items a clause reads itself, not through an implication."""

    def item(self, name: str) -> int:
        self.items.add(name)
        return 0


def test_every_question_a_clause_reads_is_core_or_indicated():
    """Each item or asked quantity a clause reads is core or listed by a specification indication.

    Results in words are never unanswered (given or not), and quantities that are not asked are
    not measured when missing, so neither is a question.
    """
    recorder = _DirectItems()
    for clause in CLAUSES:
        clause.holds(recorder)  # type: ignore[arg-type]
    questions = {name for name in recorder.items if "_reported_" not in name}
    questions |= recorder.quantities & ASKED_QUANTITIES
    listed = CORE.union(*(indication.questions for indication in INDICATIONS))
    assert [] == sorted(questions - listed)
