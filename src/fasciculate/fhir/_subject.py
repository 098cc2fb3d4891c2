"""Whose bundle it is: the patient being assessed, and which resources are about someone else.

A Patient is known by its entry's ``fullUrl`` and by ``Patient/<id>``; a reference names it by
either, or by an absolute URL ending in ``Patient/<id>`` (a version, ``/_history/<n>``, is ignored).
The patient being assessed is the one named by ``patient=``, else the bundle's only Patient, else
the only patient its resources name. Several Patients and no choice is an error that says how to
choose. A resource naming no subject is read as the patient's only when the bundle concerns that
patient alone (no other Patient, no resource about anyone else); otherwise it is skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import attrs

from fasciculate._errors import InvalidBundle, Problem
from fasciculate.fhir._resources import Entry, Patient

_TAIL = re.compile(r"(?:^|/)(Patient/[A-Za-z0-9\-.]{1,64})(?:/_history/[^/]+)?$")

#: How to choose the patient, for messages.
HOW_TO_CHOOSE = (
    "choose one with read_bundle(..., patient='Patient/<id>') or, on the command line, "
    "fasciculate assess --fhir BUNDLE --patient Patient/<id>"
)


def names(reference: str) -> set[str]:
    """The forms under which *reference* can name a Patient."""
    found = _TAIL.search(reference)
    return {reference, found[1]} if found else {reference}


def patient_id(reference: str) -> str | None:
    """The Patient id that *reference* names (``Patient/<id>``, or a URL ending so), if any."""
    found = _TAIL.search(reference)
    return found[1].removeprefix("Patient/") if found else None


def _key(reference: str) -> str:
    found = _TAIL.search(reference)
    return found[1] if found else reference


def _patient_names(entry: Entry, resource: Patient) -> set[str]:
    url = entry.get("fullUrl")
    known = names(url) if url else set()
    if resource.id:
        known.add(f"Patient/{resource.id}")
    return known


@attrs.frozen
class Subject:
    """The patient being assessed.

    Attributes:
        reference: How outputs refer to the patient (``None`` when nothing names it).
        known: Every form of reference that names the patient.
        lone: Whether the bundle concerns this patient alone, so that a resource naming no
            subject is theirs.
    """

    reference: str | None
    known: frozenset[str]
    lone: bool

    def about(self, reference: str | None) -> bool | None:
        """Whether a resource whose subject is *reference* is about the patient (None: unsaid)."""
        if reference is None:
            return None
        return reference in self.known or bool(names(reference) & self.known)

    def owns(self, reference: str | None) -> bool:
        """Whether a resource whose subject is *reference* is read as the patient's."""
        about = self.about(reference)
        return about is True or (about is None and self.lone)


def _groups(patients: Iterable[tuple[int, Entry]]) -> list[tuple[str, set[str]]]:
    """Each distinct Patient of the bundle: its reference and names (copies merged)."""
    groups: list[tuple[str, set[str]]] = []
    for index, entry in patients:
        resource = entry.get("resource")
        if not isinstance(resource, Patient):
            continue
        known = _patient_names(entry, resource)
        ref = entry.get("fullUrl") or (
            f"Patient/{resource.id}" if resource.id else f"entry.{index}"
        )
        same = next((group for group in groups if group[1] & known), None)
        if same is None:
            groups.append((ref, known or {ref}))
        else:
            same[1].update(known)
    return groups


def _shown(references: Iterable[str]) -> str:
    listed = list(references)
    more = f" and {len(listed) - 5} more" if len(listed) > 5 else ""
    return ", ".join(listed[:5]) + more


def choose(
    patients: Iterable[tuple[int, Entry]], subjects: Sequence[str], patient: str | None
) -> Subject:
    """The patient being assessed, given the bundle's *patients* and the *subjects* it names.

    *patients* are the entries that hold a Patient, with their indexes in the bundle.

    Raises:
        InvalidBundle: If *patient* names no Patient of the bundle, or the bundle holds (or its
            resources name) several patients and *patient* was not given.
    """
    groups = _groups(patients)
    if patient is not None and (not isinstance(patient, str) or not patient.strip()):
        message = "expected a reference such as 'Patient/123', a fullUrl or a Patient id"
        raise InvalidBundle([Problem("patient", message, repr(patient))])
    if patient is not None:
        wanted = names(patient) | {f"Patient/{patient}"}
        chosen = next((group for group in groups if group[1] & wanted), None)
        if chosen is None and groups:
            message = (
                f"no Patient {patient!r} in the bundle; its Patients are "
                f"{_shown(group[0] for group in groups)}"
            )
            raise InvalidBundle([Problem("patient", message)])
        if chosen is None:
            known = names(patient) if "/" in patient or ":" in patient else set(wanted)
            reference = patient if "/" in patient or ":" in patient else f"Patient/{patient}"
            chosen = (reference, known)
    elif len(groups) > 1:
        message = (
            f"the bundle holds {len(groups)} Patients "
            f"({_shown(group[0] for group in groups)}); {HOW_TO_CHOOSE}"
        )
        raise InvalidBundle([Problem("entry", message)])
    elif groups:
        chosen = groups[0]
    else:
        named = list({_key(subject): subject for subject in subjects}.values())
        if len(named) > 1:
            message = (
                f"the bundle has no Patient and its resources are about {len(named)} subjects "
                f"({_shown(named)}); {HOW_TO_CHOOSE}"
            )
            raise InvalidBundle([Problem("entry", message)])
        return Subject(reference=None, known=frozenset(names(named[0]) if named else ()), lone=True)
    reference, patient_names = chosen
    others = any(not (names(subject) & patient_names) for subject in set(subjects))
    return Subject(
        reference=reference, known=frozenset(patient_names), lone=len(groups) <= 1 and not others
    )
