"""What reading a bundle produced: the presentation and a report of every mapping decision.

Nothing read from a bundle is dropped silently: each resource is either mapped into the
presentation (:attr:`MappingReport.mapped`), not understood (:attr:`MappingReport.unmapped`), or
deliberately left out with the reason (:attr:`MappingReport.skipped`). Present and absent answers
for the same finding are resolved towards present and listed in :attr:`MappingReport.conflicts`.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from fasciculate._presentation import Presentation


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ReportEntry(_Out):
    """One resource (or one coding of it) and what became of it."""

    reference: str = Field(description="The entry's fullUrl, or ResourceType/id.")
    resource_type: str
    code: str | None = Field(default=None, description="system|code of the coding concerned.")
    display: str | None = None
    field: str | None = Field(default=None, description="The presentation field it filled.")
    reason: str = Field(description="Why it was mapped this way, skipped, or not understood.")


#: A report entry's fields (keys as :class:`ReportEntry`'s), before the report validates them.
EntryData = dict[str, Any]


class Conflict(_Out):
    """A finding reported both present and absent; it was resolved towards present (safety)."""

    field: str
    present_in: tuple[str, ...]
    absent_in: tuple[str, ...]
    resolved: str = "present"


class MappingReport(_Out):
    """Every decision the reader made, so that nothing is dropped silently."""

    as_of: dt.date | None = Field(description="The reference date used for age and lab windows.")
    mapped: tuple[ReportEntry, ...]
    unmapped: tuple[ReportEntry, ...]
    skipped: tuple[ReportEntry, ...]
    conflicts: tuple[Conflict, ...]
    notes: tuple[str, ...]

    def summary(self) -> str:
        """A few lines for people: counts, conflicts, notes and what was not understood."""
        skipped = Counter(entry.resource_type for entry in self.skipped)
        kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(skipped.items())) or "none"
        head = (
            f"FHIR mapping (as of {self.as_of or 'unknown date'}): {len(self.mapped)} mapped, "
            f"{len(self.unmapped)} not understood, {len(self.skipped)} skipped ({kinds})."
        )
        lines = [head]
        lines += [
            f"  conflict: {c.field} present in {', '.join(c.present_in)} and absent in "
            f"{', '.join(c.absent_in)}; read as present"
            for c in self.conflicts
        ]
        lines += [f"  note: {note}" for note in self.notes]
        lines += [
            f"  not understood: {e.resource_type} {e.code or ''} {e.display or ''}: {e.reason}"
            for e in self.unmapped
            if e.resource_type != "Observation"
        ]
        observations = sum(1 for e in self.unmapped if e.resource_type == "Observation")
        if observations:
            lines.append(f"  not understood: {observations} Observations (see the JSON report)")
        return "\n".join(lines)


class BundleReading(_Out):
    """The result of :func:`read_bundle`."""

    presentation: Presentation
    report: MappingReport
    subject: str | None = Field(description="Reference to the Patient, when the bundle has one.")
    evidence: Mapping[str, tuple[str, ...]] = Field(
        description="For each presentation field filled from the bundle, the resources it came "
        "from (pass to assessment_to_fhir to cite them as supporting information)."
    )
    reference_types: Mapping[str, str] = Field(
        default_factory=dict,
        description="The resource type behind each reference of the bundle (urn:uuid: "
        "references do not show it); pass to assessment_to_fhir with the evidence.",
    )
    server_references: Mapping[str, str] = Field(
        default_factory=dict,
        description="For the subject and each evidence reference whose resource has an id on "
        "the server the bundle came from, that server reference (Patient/123): what the "
        "written-back bundle refers to. A resource the bundle was to create (POST) has none.",
    )
