"""The Medications of a Bulk Data export, looked up by the patients' resources that reference them.

A Medication is nobody's: an ``$export`` writes it once (``Medication.ndjson``) for every
MedicationRequest or MedicationStatement that references it as ``Medication/<id>``. It is kept in
memory, by id, as the few elements the FHIR reader reads of it (``id`` and ``code``, re-written as
compact JSON) with the file and line it came from, and added to the group of each patient whose
resources reference it: the reader then resolves the reference as it does in a bundle that holds
the Medication. A reference to a Medication the export does not hold is left to the reader, which
reads the reference's ``display`` as a name (or reports no medication code or name).

The bound: one entry per Medication, about 250 bytes plus the size of its ``code`` (measured:
479 bytes each for a code of one RxNorm coding with its display and a text, 48 MB for 100,000),
whatever the size of the rest of the export. This assumes an export's Medications are its
formulary, one per product (thousands to a few hundred thousand); an EHR that writes one
Medication per order makes them grow with the orders instead.

Lines are added in file and line order. A Medication whose id an earlier line gives to other
content (a different ``code``) is a problem of its own (the earlier one is read); the same
Medication again is read (and counted) once more, harmlessly.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs

from fasciculate._bulk_types import ProblemKind, RecordProblem

if TYPE_CHECKING:
    from fasciculate._bulk_keys import Keyed
    from fasciculate._bulk_sort import Group


@attrs.define
class Medications:
    """The export's Medications by id: the file index and line of each, and what is read of it."""

    _by_id: dict[str, tuple[int, int, bytes]] = attrs.field(factory=dict)

    def add(self, line: Keyed, files: list[str]) -> RecordProblem | None:
        """Keep the Medication of *line*; a problem if its id is taken by another Medication."""
        ident, index, number, _, _, resource = line
        earlier = self._by_id.setdefault(ident, (index, number, resource))
        if earlier[2] == resource:
            return None
        message = (
            f"Medication {ident} again, with another code than at {files[earlier[0]]}:"
            f"{earlier[1]} (which is read): give each medicine its own id, or remove the copy"
        )
        return RecordProblem(ProblemKind.BAD_MEDICATION, 1, message, file=files[index], line=number)

    def attach(self, group: Group) -> Group:
        """*group* with the Medications its resources reference that are held, after them."""
        found = [self._by_id[ident] for ident in group.references if ident in self._by_id]
        if not found:
            return group
        return attrs.evolve(
            group,
            resources=group.resources + tuple(resource for _, _, resource in found),
            origins=group.origins + tuple((index, number) for index, number, _ in found),
        )

    @classmethod
    def of(
        cls, lines: Sequence[Keyed], files: list[str]
    ) -> tuple[Medications, list[RecordProblem]]:
        """The Medications of *lines* added in file and line order, and the problems met."""
        medications = cls()
        ordered = sorted(lines, key=lambda line: (line[1], line[2]))
        problems = [p for line in ordered if (p := medications.add(line, files)) is not None]
        return medications, problems
