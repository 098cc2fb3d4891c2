"""Patients, conditions and medications of a bundle being read (responses: ``_responses_read``).

What counts: a Condition that is active (``clinicalStatus`` active, recurrence or relapse, or no
status and no ``abatement[x]``) and not ``refuted`` or ``entered-in-error``; a MedicationStatement
that is active, and a MedicationRequest that is active, an order (not a proposal or a plan) and
not ``doNotPerform``.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import TYPE_CHECKING, Any

import attrs
import pydantic

from fasciculate._errors import Problem
from fasciculate._validation import problems_from
from fasciculate._vocab import Sex, TriState
from fasciculate.fhir import _recent
from fasciculate.fhir._codes import clean, code_maps
from fasciculate.fhir._elements import CodeableConcept, ConceptData, concept_key, label
from fasciculate.fhir._elements import codes as concept_codes
from fasciculate.fhir._resources import (
    Condition,
    Medication,
    MedicationUse,
    Patient,
)

if TYPE_CHECKING:
    from fasciculate.fhir._reader import Reader

#: Condition clinical statuses read as a current condition (also the CQL library's).
ACTIVE_CONDITION = {"active", "recurrence", "relapse"}
#: Condition verification statuses that are ignored.
SKIPPED_VERIFICATION = {"entered-in-error", "refuted"}
#: MedicationRequest intents that count as the patient taking the drug.
ORDERS = {"order", "original-order", "reflex-order", "filler-order", "instance-order"}
_SEX = {"female": Sex.FEMALE, "male": Sex.MALE, "other": Sex.OTHER}
#: A Condition's code as read: its code text, its display and what it means (:func:`_meaning`).
Coded = tuple[str | None, str | None, tuple[str | None, str] | None]


def _age(birth: dt.date, on: dt.date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _status(concept: CodeableConcept | None) -> str | None:
    if concept is None:
        return None
    codes = concept_codes(concept)
    return clean(codes[0][1]) if codes else None


def patient(reader: Reader, patient: Patient, ref: str, path: str) -> None:
    if reader.patient_seen:
        reader.out.notes.append(f"second copy of the Patient, {ref}, ignored")
        reader.out.skipped.append(reader.entry(patient, ref, reason="second copy of the Patient"))
        return
    reader.patient_seen = True
    reader.subject = ref
    sex = _SEX.get(patient.gender or "")
    if sex is not None:
        reader.out.set_once("patient", "sex", str(sex), ref)
        reader.out.mapped.append(reader.entry(patient, ref, field="patient.sex", reason="gender"))
    birth = reader.date(patient.birthDate, f"{path}.birthDate")
    death = reader.date(patient.deceasedDateTime, f"{path}.deceasedDateTime")
    if death is not None or patient.deceasedBoolean:
        reader.out.notes.append(f"the patient is recorded as deceased ({death or 'date unknown'})")
    if birth is not None:  # the age needs the reference date: see age()
        first = "age" not in reader.out.data["patient"]
        reader.birth = Birth(patient, ref, path, birth, death, first=first)


@attrs.frozen
class Birth:
    """The Patient's birth (and death) date, read before the reference date is known."""

    patient: Patient
    ref: str
    path: str
    birth: dt.date
    death: dt.date | None
    first: bool  # whether the Patient came before any other source of the age


def age(reader: Reader) -> None:
    """Set the patient's age at the reference date, as if it had been known while reading."""
    if reader.birth is None:
        return
    patient, ref, path, birth, death = attrs.astuple(reader.birth, recurse=False)[:5]
    on = reader.as_of if death is None or reader.as_of is None else min(reader.as_of, death)
    if on is None:
        reader.out.notes.append("age not computed: no reference date; pass as_of")
        return
    if birth > on:
        reader.out.problems.append(
            Problem(
                f"{path}.birthDate",
                "birth date is after the reference date (as_of); check both",
                repr(patient.birthDate),
            )
        )
        return
    value = _age(birth, on)
    given = reader.out.data["patient"].get("age")
    if reader.birth.first and given is not None and given != value:
        # A later source gave the age while the reference date was unknown: the first one wins.
        later = ", ".join(reader.out.evidence.get("patient.age", []))
        reader.out.notes.append(f"patient.age: kept {value!r}, ignored {given!r} from {later}")
        reader.out.forget("patient.age")
        del reader.out.data["patient"]["age"]
    reader.out.set_once("patient", "age", value, ref)
    reason = f"age on {on} from birthDate {patient.birthDate}"
    reader.out.mapped.append(reader.entry(patient, ref, field="patient.age", reason=reason))


def _meaning(concept: CodeableConcept | None) -> Coded:
    """A Condition's code as read: its code text, its display, and what it means.

    What it means is its first coding that is twitching itself (the finding ``None``) or a
    finding, as ``(finding, system|code)``; ``None`` when no coding is either.
    """
    maps = code_maps()
    codes = concept_codes(concept)
    meaning: tuple[str | None, str] | None = None
    for system, raw in codes:
        code = clean(raw)
        if (system, code) in maps.twitching:
            meaning = (None, f"{system}|{code}")
            break
        if (finding := maps.condition_finding(system, code)) is not None:
            meaning = (finding, f"{system}|{code}")
            break
    return "|".join(codes[0]) if codes else None, label(concept), meaning


def condition(reader: Reader, condition: Condition, ref: str, path: str) -> None:
    status = _status(condition.clinicalStatus)
    verification = _status(condition.verificationStatus)
    concept = condition.code
    if (coded := reader.conditions.get(code_key := concept_key(concept))) is None:
        coded = reader.conditions[code_key] = _meaning(concept)
    code_text, display, meaning = coded
    if verification in SKIPPED_VERIFICATION:
        reason = f"verificationStatus {verification}"
        reader.out.skipped.append(
            reader.entry(condition, ref, code=code_text, display=display, reason=reason)
        )
        return
    if meaning is not None:
        finding, code = meaning
        if finding is None:
            reason = "the presenting complaint (twitching) itself"
            reader.out.mapped.append(
                reader.entry(condition, ref, code=code, display=display, reason=reason)
            )
            return
        field = f"findings.{finding}"
        entry = functools.partial(
            reader.entry, condition, ref, code=code, display=display, field=field
        )
        if status is not None and status not in ACTIVE_CONDITION:
            reason = f"clinicalStatus {status}: only active conditions count"
            reader.out.skipped.append(entry(reason=reason))
            return
        if status is None and condition.abated:
            reason = "abatement given and no clinicalStatus: resolved, only active conditions count"
            reader.out.skipped.append(entry(reason=reason))
            return
        reason = f"condition {status or 'without clinicalStatus'}, {verification or 'unverified'}"
        recency = _recent.window(finding)
        if recency is not None:  # decided at the reference date, once every entry is read
            waiting = _recent.Waiting(condition, path, finding, recency, entry, reason, ref)
            _recent.wait(reader, waiting)
            return
        reader.out.answer(field, TriState.PRESENT, ref)
        reader.out.mapped.append(entry(reason=reason))
        return
    reason = "no code in fasciculate's condition map (fhir/codes.toml)"
    reader.out.unmapped.append(
        reader.entry(condition, ref, code=code_text, display=display, reason=reason)
    )


def _medication_concept(reader: Reader, use: MedicationUse, path: str) -> CodeableConcept | None:
    """The medication's code, given inline or in the Medication referenced.

    The Medication may be contained or in the bundle; one the bundle does not hold (a server
    reference) is known by the reference's ``display``, read as a name.
    """
    concept = use.medicationCodeableConcept
    reference = use.medicationReference
    if concept is None and reference is not None:
        concept = _referenced(reader, use, path)
        if concept is None and reference.display and reference.display.strip():
            concept = ConceptData(text=reference.display)
    return concept


def _referenced(reader: Reader, use: MedicationUse, path: str) -> CodeableConcept | None:
    concept = None
    if use.medicationReference and use.medicationReference.reference:
        target = use.medicationReference.reference
        if target.startswith("#"):
            for index, contained in enumerate(use.contained):
                if contained.get("id") != target[1:]:
                    continue
                try:
                    return Medication.model_validate(contained).code
                except pydantic.ValidationError as error:
                    where = f"{path}.contained.{index}"
                    reader.out.problems.extend(
                        Problem(f"{where}.{p.path}" if p.path else where, p.message, p.value)
                        for p in problems_from(error, Medication)
                    )
        elif target in reader.medications:
            concept = reader.medications[target].code
    return concept


def _not_current(use: MedicationUse) -> str | None:
    """Why *use* is not a current medication, or ``None`` when it is."""
    if use.status != "active":
        return f"status {use.status}: only active medications are read"
    if use.resourceType != "MedicationRequest":
        return None
    if use.doNotPerform:
        return "doNotPerform: a request not to give the medication"
    if use.intent is not None and use.intent not in ORDERS:
        return f"intent {use.intent}: only orders are current medication"
    return None


def medication(reader: Reader, use: MedicationUse, ref: str, path: str) -> None:
    concept = _medication_concept(reader, use, path)
    codes = concept_codes(concept)
    name = clean(label(concept) or "")
    code_text = "|".join(codes[0]) if codes else None
    reason = _not_current(use)
    if reason is not None:
        reader.out.skipped.append(
            reader.entry(use, ref, code=code_text, display=name or None, reason=reason)
        )
        return
    if not codes and not name:
        reason = "no medication code or name"
        reader.out.unmapped.append(reader.entry(use, ref, reason=reason))
        return
    maps = code_maps()
    drug_class = next(
        (cls for system, code in codes if (cls := maps.medication_class(system, clean(code)))),
        None,
    )
    how = "by code"
    if drug_class is None and name:
        drug_class, how = maps.medication_class_by_name(name), "by name"
    item: dict[str, Any] = {}
    if name:
        item["name"] = name[:200]
    if drug_class is not None:
        item["drug_class"] = str(drug_class)
    if codes:
        system, code = codes[0]
        item["code"] = {"system": system, "code": clean(code)}
    field = f"medications.{len(reader.out.medications)}"
    reader.out.medications.append(item)
    reader.out.cite(field, ref)
    if drug_class is None:
        reason = "active; class not in fasciculate's medication map (kept by name and code)"
        reader.out.unmapped.append(
            reader.entry(use, ref, code=code_text, display=name or None, field=field, reason=reason)
        )
    else:
        reason = f"active; class {drug_class} {how}"
        reader.out.mapped.append(
            reader.entry(use, ref, code=code_text, display=name or None, field=field, reason=reason)
        )
