"""The output models: what :func:`fasciculate.assess` returns.

Plain pydantic models, JSON-serialisable and deterministic, carrying everything a clinician needs to
check the basis of the recommendation: every fired rule with the facts it used and its source, the
open questions, the cited sources and the fingerprint of the knowledge base.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from fasciculate._vocab import Urgency


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FactUsed(_Out):
    """A fact a fired rule relied on, traced back to the input."""

    fact: str = Field(description="The fact or quantity id.")
    label: str
    value: str = Field(description="'present', or the quantity with its unit.")
    input: str = Field(description="The input field it came from, e.g. findings.weakness.")
    condition: str | None = Field(default=None, description="For a quantity, the comparison.")


class FiredRule(_Out):
    """A rule of the referral table that fired."""

    id: str
    urgency: Urgency
    title: str
    condition: str = Field(description="The rule's condition as written in the rule table.")
    rationale: str
    source: str = Field(description="Source id; see Assessment.sources.")
    facts: tuple[FactUsed, ...]


class OpenQuestion(_Out):
    """An unanswered question that could raise the urgency."""

    fact: str
    question: str
    could_raise_to: Urgency
    rules: tuple[str, ...] = Field(description="The rules it could make fire.")


class SourceRef(_Out):
    """A cited source."""

    id: str
    title: str
    publisher: str
    year: int
    url: str | None = None
    expert_estimate: bool = False


class KnowledgeBaseStamp(_Out):
    """Which knowledge base produced the result: its version and the SHA-256 of its tables."""

    version: str
    sha256: str


class Assessment(_Out):
    """The result of assessing one presentation."""

    urgency: Urgency
    summary: str = Field(description="One line for a list view.")
    rules_fired: tuple[FiredRule, ...]
    missing: tuple[OpenQuestion, ...]
    sources: tuple[SourceRef, ...] = Field(description="Every source the fired rules cite.")
    knowledge_base: KnowledgeBaseStamp
    fasciculate_version: str
