"""The static vocabulary module matches the knowledge base, and its generator keeps it so."""

from __future__ import annotations

import subprocess
import sys

import attrs

import fasciculate
from fasciculate import FactInfo, _codegen

KB = fasciculate.knowledge_base()


def test_the_committed_module_is_current():
    """_generated_vocab.py is what the generator writes now (a snapshot of kb/facts.toml)."""
    committed = _codegen.TARGET.read_text(encoding="utf-8")
    assert committed == _codegen.vocab_source(), _codegen.stale_message()


def test_the_stale_message_names_the_command():
    """When the snapshot is stale, the failure says which command regenerates it."""
    assert "make generate" in _codegen.stale_message()
    assert "python -m fasciculate._codegen" in _codegen.stale_message()


def test_finding_lists_every_finding_of_the_fact_table_in_order():
    """Finding has one member per fact of kind finding, named by its upper-cased id."""
    findings = [fact.id for fact in KB.facts.values() if fact.kind == "finding"]
    assert findings == [member.value for member in fasciculate.Finding]
    assert findings == [member.name.lower() for member in fasciculate.Finding]
    assert fasciculate.Finding.WEAKNESS == "weakness"


def test_a_new_finding_changes_the_generated_source():
    """A finding added to the fact table appears in the generated module with its label."""
    new = FactInfo("calf_cramp", "finding", "other", "Calf cramps at night", "Any cramps?")
    source = _codegen.vocab_source(attrs.evolve(KB, facts={**KB.facts, new.id: new}))
    assert '    #: Calf cramps at night.\n    CALF_CRAMP = "calf_cramp"\n' in source
    assert source.startswith(_codegen.vocab_source())


def test_generator_writes_then_checks(tmp_path, monkeypatch, capsys):
    """`make generate` writes the module; `--check` passes then, and fails once it is edited."""
    target = tmp_path / "_generated_vocab.py"
    monkeypatch.setattr(_codegen, "TARGET", target)
    assert 0 == _codegen.main([])
    assert target.read_text(encoding="utf-8") == _codegen.vocab_source()
    assert 0 == _codegen.main(["--check"])
    target.write_text(target.read_text(encoding="utf-8").replace("WEAKNESS", "WEAK"))
    capsys.readouterr()
    assert 1 == _codegen.main(["--check"])
    assert "make generate" in capsys.readouterr().err
    assert 0 == _codegen.main([])
    assert 0 == _codegen.main(["--check"])


def test_check_passes_from_the_command_line():
    """`python -m fasciculate._codegen --check` exits 0 on the committed module."""
    result = subprocess.run(
        [sys.executable, "-m", "fasciculate._codegen", "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (0, "") == (result.returncode, result.stderr)
