"""What screening a Bulk Data export answers: one outcome per patient or per unreadable line.

Every non-blank line read from the export is accounted for exactly once: in the ``records`` of
one :class:`PatientResult` (or of one :class:`RecordProblem` about a patient the reader rejected),
as a :class:`RecordProblem` of its own (``records`` 1), or, for a Medication (nobody's: it is
looked up by the patients' medication resources that reference it), in
:attr:`RunSummary.medications`. A problem with a whole file (a truncated ``.gz``) accounts for
no line (``records`` 0): the lines read before it are counted where they belong.
:class:`RunSummary` adds them up.
"""

from __future__ import annotations

import collections
import enum
from typing import Any

import attrs
from pydantic_core import to_json

from fasciculate._errors import FasciculateError, Problem
from fasciculate._vocab import Category, Urgency


class InvalidExport(FasciculateError, ValueError):
    """The folder given is not a Bulk Data export that can be read (no folder, no NDJSON file)."""


class ProblemKind(enum.StrEnum):
    """Why a line, a patient or a file of the export gave no assessment."""

    #: The line is not UTF-8 text.
    NOT_UTF8 = "not_utf8"
    #: The line is not JSON, or not a JSON object with a ``resourceType`` (a FHIR resource).
    NOT_JSON = "not_json"
    #: The line is longer than :data:`MAX_LINE_BYTES`.
    TOO_LONG = "too_long"
    #: A Patient without an id, or a resource whose ``subject`` (or ``patient``) names nobody.
    NO_SUBJECT = "no_subject"
    #: The resource names a patient the export holds no Patient resource for.
    UNKNOWN_PATIENT = "unknown_patient"
    #: A Medication that cannot be looked up: no valid id, or an id an earlier line gives to a
    #: Medication of other content (the earlier one is read).
    BAD_MEDICATION = "bad_medication"
    #: The FHIR reader rejected the patient's resources (each problem is listed).
    REJECTED = "rejected"
    #: The file could not be read to its end (a truncated or corrupt ``.gz``, an I/O error).
    UNREADABLE_FILE = "unreadable_file"
    #: fasciculate failed on this patient: a bug, to be reported (the run carries on).
    INTERNAL_ERROR = "internal_error"


#: A line longer than this many bytes is a problem (``too_long``), not a resource.
MAX_LINE_BYTES = 16 * 1024 * 1024


@attrs.frozen
class PatientResult:
    """One patient assessed.

    Attributes:
        patient: The Patient's id.
        records: How many lines of the export were about this patient (its Patient included).
        urgency: The referral urgency.
        rules: The ids of the rules that fired.
        leading: The category ranked first in the differential.
        must_not_miss: The categories flagged must-not-miss.
        open_questions: How many questions are still open.
        assessment: The whole assessment as JSON, when asked for (``full=True``).
    """

    patient: str
    records: int
    urgency: Urgency
    rules: tuple[str, ...]
    leading: Category
    must_not_miss: tuple[Category, ...]
    open_questions: int
    assessment: bytes | None = None

    def to_json(self) -> bytes:
        """One JSON line (with its newline)."""
        fields: dict[str, Any] = {
            "patient": self.patient,
            "records": self.records,
            "urgency": self.urgency,
            "rules": self.rules,
            "leading": self.leading,
            "must_not_miss": self.must_not_miss,
            "open_questions": self.open_questions,
        }
        line = to_json(fields)
        if self.assessment is None:
            return line + b"\n"
        return b'%s,"assessment":%s}\n' % (line[:-1], self.assessment)


@attrs.frozen
class RecordProblem:
    """A line, a patient or a file that gave no assessment, and why.

    Attributes:
        kind: The class of problem.
        records: How many lines of the export it accounts for.
        message: What is wrong and how to fix it.
        patient: The Patient's id, when the problem is about a patient.
        file: The file of the export, when the problem is about a line or a file.
        line: The line number in that file (for a file that stopped, the line it stopped at).
        problems: The reader's problems, each with its path (``Observation.ndjson:7 ...``).
    """

    kind: ProblemKind
    records: int
    message: str
    patient: str | None = None
    file: str | None = None
    line: int | None = None
    problems: tuple[Problem, ...] = ()

    def to_json(self) -> bytes:
        """One JSON line (with its newline)."""
        fields: dict[str, Any] = {}
        if self.patient is not None:
            fields["patient"] = self.patient
        if self.file is not None:
            fields["file"] = self.file
        if self.line is not None:
            fields["line"] = self.line
        fields |= {"records": self.records, "problem": self.kind, "message": self.message}
        if self.problems:
            fields["problems"] = [
                {"field": p.path, "message": p.message, "value": p.value} for p in self.problems
            ]
        return to_json(fields) + b"\n"


#: What screening yields, in order.
Outcome = PatientResult | RecordProblem


@attrs.define
class RunSummary:
    """The run so far: records in and out, patients assessed, problems by class.

    Attributes:
        records_in: Non-blank lines read from the export.
        records_out: Lines accounted for by the outcomes yielded and by the Medications read
            (equal to ``records_in`` at the end of a run).
        medications: Medication lines read for look-up by reference (``Medication/<id>``); a
            Medication is nobody's, so no outcome counts it.
        outcomes: Outcomes yielded (output lines).
        by_urgency: Patients assessed, by urgency.
        rejected: Outcomes that are problems, by class.
        files: The files read, in the order read.
        not_read: Files left unread because fasciculate reads no resource of their type.
    """

    records_in: int = 0
    records_out: int = 0
    outcomes: int = 0
    medications: int = 0
    by_urgency: collections.Counter[Urgency] = attrs.field(factory=collections.Counter)
    rejected: collections.Counter[ProblemKind] = attrs.field(factory=collections.Counter)
    files: list[str] = attrs.field(factory=list)
    not_read: list[str] = attrs.field(factory=list)

    @property
    def assessed(self) -> int:
        """Patients assessed."""
        return sum(self.by_urgency.values())

    def read_medication(self) -> None:
        """Count a Medication line read for look-up (read and accounted for at once)."""
        self.medications += 1
        self.records_out += 1

    def count(self, outcome: Outcome) -> None:
        """Count *outcome*."""
        self.outcomes += 1
        self.records_out += outcome.records
        if isinstance(outcome, PatientResult):
            self.by_urgency[outcome.urgency] += 1
        else:
            self.rejected[outcome.kind] += 1

    def as_dict(self) -> dict[str, Any]:
        """The summary as plain JSON-ready data (counts keyed by name, every class present)."""
        return {
            "records_in": self.records_in,
            "records_out": self.records_out,
            "outcomes": self.outcomes,
            "medications": self.medications,
            "assessed": self.assessed,
            "by_urgency": {str(u): self.by_urgency[u] for u in sorted(Urgency, reverse=True)},
            "rejected": {str(kind): self.rejected[kind] for kind in ProblemKind},
            "files": list(self.files),
            "not_read": list(self.not_read),
        }

    def text(self) -> str:
        """``N records in, M out: A patients assessed (by urgency), R rejected (by class)``."""
        urgencies = ", ".join(f"{u} {self.by_urgency[u]}" for u in sorted(Urgency, reverse=True))
        rejected = sum(self.rejected.values())
        classes = ", ".join(f"{kind} {n}" for kind, n in sorted(self.rejected.items()))
        medications = (
            f"{self.medications} Medication{'s' if self.medications != 1 else ''} read, "
            if self.medications
            else ""
        )
        text = (
            f"{self.records_in} records in, {self.records_out} out: {medications}{self.assessed} "
            f"patients assessed ({urgencies}), {rejected} rejected"
        )
        if classes:
            text += f" ({classes})"
        if self.not_read:
            text += f"; not read (no resource type fasciculate reads): {', '.join(self.not_read)}"
        return text
