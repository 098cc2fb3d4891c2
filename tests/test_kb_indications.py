"""The indications table (kb/indications.toml): loaded, checked, fingerprinted, read-only."""

from __future__ import annotations

import copy
import hashlib
import re
import tomllib
from importlib import resources
from typing import Any

import attrs
import pytest

import fasciculate
from fasciculate import KnowledgeBaseError
from fasciculate._kb_indications import askable, indication_tables
from fasciculate.conditions import Quantity

KB = fasciculate.knowledge_base()
_TABLE = tomllib.loads(
    resources.files("fasciculate").joinpath("kb", "indications.toml").read_text("utf-8")
)


def _load(data: dict[str, Any]) -> object:
    grammar = {key: Quantity(key, q.worse) for key, q in KB.quantities.items()}
    named = {key: row.value for key, row in KB.thresholds.items()}
    for lab in KB.labs.values():
        named.update({f"{lab.analyte}.{key}": value for key, value in lab.limits().items()})
    return indication_tables(
        data,
        facts=KB.facts,
        quantities=KB.quantities,
        grammar=grammar,
        named=named,
        sources=KB.sources,
        rules=KB.rules,
    )


def test_the_knowledge_base_holds_the_packaged_indications_read_only():
    """knowledge_base() exposes the core questions and indications as frozen, typed rows."""
    assert [row["id"] for row in _TABLE["indication"]] == [item.id for item in KB.indications]
    assert list(_TABLE["core"]["questions"]) == list(KB.core.questions)
    assert isinstance(KB.core, fasciculate.CoreQuestions)
    assert all(isinstance(item, fasciculate.Indication) for item in KB.indications)
    assert isinstance(KB.indications, tuple)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        KB.indications[0].when = "pain"  # type: ignore[misc]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        KB.core.questions = ()  # type: ignore[misc]


def test_every_question_the_referral_can_ask_is_core_or_indicated():
    """Each fact or quantity a rule reads that stays unknown until answered is covered."""
    covered = {*KB.core.questions, *(q for item in KB.indications for q in item.questions)}
    assert set(askable(KB.rules, KB.facts, KB.quantities)) <= covered


def test_every_indication_is_cited_and_its_sources_exist():
    """Every indication (and the core) cites a known source; expert estimates say so."""
    for source in [KB.core.source, *(item.source for item in KB.indications)]:
        assert source in KB.sources
    marked = [item.id for item in KB.indications if KB.sources[item.source].expert_estimate]
    assert marked == ["IND-METABOLIC", "IND-SPINAL-HAEMATOMA"]


def test_the_fingerprint_covers_the_indications_file():
    """The knowledge base's SHA-256 is taken over indications.toml with the other tables."""
    names = (
        "sources.toml",
        "thresholds.toml",
        "labs.toml",
        "facts.toml",
        "rules.toml",
        "derivations.toml",
        "differential.toml",
        "advice.toml",
        "medications.toml",
        "indications.toml",
    )
    digest = hashlib.sha256()
    for name in names:
        content = resources.files("fasciculate").joinpath("kb", name).read_bytes()
        digest.update(name.encode() + b"\0" + content + b"\0")
    assert digest.hexdigest() == KB.sha256


def _changed(change: dict[str, Any], *, core: dict[str, Any] | None = None) -> dict[str, Any]:
    data = copy.deepcopy(_TABLE)
    data["indication"][0].update(change)
    if core is not None:
        data["core"].update(core)
    return data


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_changed({"id": "CES"}), "indication CES in indications.toml: the id must start with"),
        (_changed({"id": "IND-RADICULOPATHY"}), "duplicate indication ids: IND-RADICULOPATHY"),
        (_changed({"when": "not back_pain"}), "must be negation-free"),
        (_changed({"when": "!back_pain"}), "must be negation-free"),
        (_changed({"when": "back_pain | lumbago"}), "unknown fact 'lumbago'"),
        (_changed({"when": "age <= 40"}), "age is worse when higher"),
        (_changed({"questions": ["saddle_numbness"]}), "lists unknown questions 'saddle_numbness'"),
        (_changed({"questions": []}), "`questions` is empty"),
        (_changed({"source": "girft-2099"}), "cites unknown source 'girft-2099'"),
        (
            _changed({"questions": ["bladder_dysfunction"]}),
            "neither core nor indicated: saddle_sensory_loss, bowel_dysfunction",
        ),
        (
            _changed({}, core={"questions": ["weakness"]}),
            "neither core nor indicated: duration_days, worsening",
        ),
    ],
    ids=[
        "id-prefix",
        "duplicate",
        "not",
        "bang",
        "unknown-fact",
        "better-direction",
        "unknown-question",
        "empty",
        "unknown-source",
        "uncovered",
        "core-shrunk",
    ],
)
def test_a_bad_indications_table_is_rejected_clearly(data: dict[str, Any], message: str):
    """Each inconsistency raises KnowledgeBaseError naming the entry and the fix."""
    with pytest.raises(KnowledgeBaseError, match=re.escape(message)):
        _load(data)


def test_a_table_without_core_is_rejected():
    """indications.toml must have its [core] table."""
    data = copy.deepcopy(_TABLE)
    del data["core"]
    with pytest.raises(KnowledgeBaseError, match=re.escape("needs a [core] table")):
        _load(data)
