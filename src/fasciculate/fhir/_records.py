"""Patients, conditions, medications and questionnaire responses of a bundle being read."""

from __future__ import annotations

import datetime as dt
import functools
from typing import TYPE_CHECKING, Any

import pydantic

from fasciculate._errors import Problem
from fasciculate._validation import problems_from
from fasciculate._vocab import Sex, TriState
from fasciculate.fhir._codes import clean, code_maps
from fasciculate.fhir._questionnaire import QUESTIONNAIRE_URL
from fasciculate.fhir._resources import (
    CodeableConcept,
    Condition,
    Medication,
    MedicationUse,
    Patient,
    QuestionnaireResponse,
)
from fasciculate.fhir._response import answers_from_response

if TYPE_CHECKING:
    from fasciculate.fhir._read import Reader

_ACTIVE_CONDITION = {"active", "recurrence", "relapse"}
_SEX = {"female": Sex.FEMALE, "male": Sex.MALE, "other": Sex.OTHER}


def _age(birth: dt.date, on: dt.date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _status(concept: CodeableConcept | None) -> str | None:
    if concept is None:
        return None
    codes = concept.codes()
    return clean(codes[0][1]) if codes else None


def patient(reader: Reader, patient: Patient, ref: str, path: str) -> None:
    if reader.subject is not None:
        reader.out.notes.append(f"second Patient {ref} ignored; the bundle should hold one")
        reader.out.skipped.append(reader.entry(patient, ref, reason="second Patient"))
        return
    reader.subject = ref
    sex = _SEX.get(patient.gender or "")
    if sex is not None:
        reader.out.set_once("patient", "sex", str(sex), ref)
        reader.out.mapped.append(reader.entry(patient, ref, field="patient.sex", reason="gender"))
    birth = reader.date(patient.birthDate, f"{path}.birthDate")
    death = reader.date(patient.deceasedDateTime, f"{path}.deceasedDateTime")
    if death is not None or patient.deceasedBoolean:
        reader.out.notes.append(f"the patient is recorded as deceased ({death or 'date unknown'})")
    if birth is None:
        return
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
    reader.out.set_once("patient", "age", _age(birth, on), ref)
    reason = f"age on {on} from birthDate {patient.birthDate}"
    reader.out.mapped.append(reader.entry(patient, ref, field="patient.age", reason=reason))


def condition(reader: Reader, condition: Condition, ref: str) -> None:
    maps = code_maps()
    status = _status(condition.clinicalStatus)
    verification = _status(condition.verificationStatus)
    concept = condition.code
    codes = concept.codes() if concept else []
    display = concept.label() if concept else None
    code_text = "|".join(codes[0]) if codes else None
    if verification == "entered-in-error":
        reason = "verificationStatus entered-in-error"
        reader.out.skipped.append(
            reader.entry(condition, ref, code=code_text, display=display, reason=reason)
        )
        return
    for system, raw in codes:
        code = clean(raw)
        if (system, code) in maps.twitching:
            reason = "the presenting complaint (twitching) itself"
            reader.out.mapped.append(
                reader.entry(
                    condition, ref, code=f"{system}|{code}", display=display, reason=reason
                )
            )
            return
        finding = maps.condition_finding(system, code)
        if finding is None:
            continue
        field = f"findings.{finding}"
        entry = functools.partial(
            reader.entry, condition, ref, code=f"{system}|{code}", display=display, field=field
        )
        if status is not None and status not in _ACTIVE_CONDITION:
            reason = f"clinicalStatus {status}: only active conditions count"
            reader.out.skipped.append(entry(reason=reason))
            return
        answer = TriState.ABSENT if verification == "refuted" else TriState.PRESENT
        stale = _not_recent(reader, condition, ref, finding) if answer is TriState.PRESENT else None
        if stale is not None:
            reader.out.skipped.append(entry(reason=stale))
            return
        reader.out.answer(field, answer, ref)
        reason = f"condition {status or 'without clinicalStatus'}, {verification or 'unverified'}"
        reader.out.mapped.append(entry(reason=reason))
        return
    reason = "no code in fasciculate's condition map (fhir/codes.toml)"
    reader.out.unmapped.append(
        reader.entry(condition, ref, code=code_text, display=display, reason=reason)
    )


def _not_recent(reader: Reader, condition: Condition, ref: str, finding: str) -> str | None:
    """Why a Condition cannot set a finding the rules call new (``None`` when it can)."""
    recency = code_maps().recent.get(finding)
    if recency is None:
        return None
    field, text = (
        ("onsetDateTime", condition.onsetDateTime)
        if condition.onsetDateTime
        else ("recordedDate", condition.recordedDate)
    )
    onset = reader.date(text, f"{ref}.{field}") if text else None
    window = f"{recency.days} days ({recency.source})"
    if onset is None or reader.as_of is None:
        return (
            f"no onsetDateTime or recordedDate and reference date: cannot tell whether "
            f"{finding} is new (window {window}); the question stays open"
        )
    if (reader.as_of - onset).days > recency.days:
        return (
            f"{field} {onset} is more than {window} before {reader.as_of}: a problem-list entry "
            f"does not show that {finding} is new; the question stays open"
        )
    return None


def _medication_concept(reader: Reader, use: MedicationUse, path: str) -> CodeableConcept | None:
    concept = use.medicationCodeableConcept
    if concept is None and use.medicationReference and use.medicationReference.reference:
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


def medication(reader: Reader, use: MedicationUse, ref: str, path: str) -> None:
    concept = _medication_concept(reader, use, path)
    codes = concept.codes() if concept else []
    name = clean(concept.label() or "") if concept else ""
    code_text = "|".join(codes[0]) if codes else None
    if use.status != "active":
        reason = f"status {use.status}: only active medications are read"
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


def questionnaire_response(
    reader: Reader, response: QuestionnaireResponse, ref: str, path: str
) -> None:
    canonical = (response.questionnaire or "").split("|")[0]
    if canonical != QUESTIONNAIRE_URL:
        reason = (
            f"answers another Questionnaire ({response.questionnaire}); "
            f"only {QUESTIONNAIRE_URL} is read"
        )
        reader.out.unmapped.append(reader.entry(response, ref, reason=reason))
        return
    answers, problems = answers_from_response(response, path)
    reader.out.problems.extend(problems)
    out = reader.out
    for field, value in answers.items():
        if field in {"medications", "labs"}:
            records = out.medications if field == "medications" else out.labs
            for item in value:
                out.cite(f"{field}.{len(records)}", ref)
                records.append(item)
        elif field == "assessed_on":
            out.notes.append(f"questionnaire date {value} noted; the reference date is as_of")
        elif isinstance(value, TriState):
            out.answer(field, value, ref)
        elif field == "twitching.regions":
            out.regions.extend(value)
            out.cite(field, ref)
        else:
            section, key = field.split(".", 1)
            out.data.setdefault(section, {})
            out.set_once(section, key, value, ref)
    reason = f"{len(answers)} answered items"
    reader.out.mapped.append(reader.entry(response, ref, reason=reason))
