"""The specification cites its sources by the ids of the knowledge base's bibliography."""

from __future__ import annotations

import re

import pytest

from fasciculate import knowledge_base
from safety_spec import CLAUSES

# The ids before any explanation in parentheses or after a colon: "nice-ng42, nice-ng127 (...)".
_IDS = re.compile(r"^([a-z0-9-]+(?:, [a-z0-9-]+)*)(?: \(.*\)|: .*)?$")


@pytest.mark.parametrize("clause", CLAUSES, ids=lambda clause: clause.id)
def test_every_clause_cites_known_source_ids(clause):
    """Each clause's source starts with ids listed in kb/sources.toml, never a document's name."""
    match = _IDS.match(clause.source)
    assert match is not None, clause.source
    assert set(match.group(1).split(", ")) <= set(knowledge_base().sources)
