"""Observations: symptoms (HL7 Symptoms IG), plain coded findings, lab results, smoking status.

An Observation is routed by its code: LOINC 75325-1 "Symptom" (the finding present, in
``valueCodeableConcept``), LOINC 111551-8 "Symptom absent" (a pertinent negative), a LOINC lab code
of the knowledge base (``valueQuantity`` in UCUM), the smoking-status code, or the SNOMED CT code of
a finding or a yes/no examination sign (Babinski, wasting) used directly as the Observation's code.
Anything else is reported as not understood. Codings are tried in document order; an Observation
whose codes name two different lab analytes is a problem, never a guess (see :func:`read`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from fasciculate._errors import Problem
from fasciculate._vocab import Course, Frequency, Side, TriState
from fasciculate.fhir._codes import LOINC, SNOMED, clean, code_maps
from fasciculate.fhir._elements import CodeableConcept, concept_key, label
from fasciculate.fhir._lab_results import lab_result
from fasciculate.fhir._resources import Observation, observation_when

if TYPE_CHECKING:
    from fasciculate.fhir._reader import Reader

#: An Observation code's codings, its LOINC codes, and the symptom answer it gives, if any.
Route = tuple[list[tuple[str, str]], list[str], TriState | None]

SYMPTOM = "75325-1"
SYMPTOM_ABSENT = "111551-8"
_TREND = {"89253-9", "89261-2"}
_FREQUENCY = "104156-5"
#: Observation statuses that are ignored (also in the CQL library).
SKIP_STATUS = {"entered-in-error", "cancelled"}
_SYMPTOM_REASON = {answer: f"symptom {answer} (Symptoms IG)" for answer in TriState}
_YES = {(LOINC, "LA33-6"), (SNOMED, "373066001")}
#: The codes of a "no" answer (also in the CQL library).
NO_CODES = {(LOINC, "LA32-8"), (SNOMED, "373067005")}
_COURSE = (
    (re.compile(r"\b(worse|worsening|increas|progress)"), Course.WORSENING),
    (re.compile(r"\b(improv|better|decreas|resolv)"), Course.IMPROVING),
    (re.compile(r"\b(stable|unchanged|same)"), Course.STABLE),
)
_OFTEN = (
    (re.compile(r"\b(constant|continuous|all the time|most of the time)"), Frequency.CONSTANT),
    (re.compile(r"\b(daily|every day|several times a day)"), Frequency.DAILY),
    (re.compile(r"\b(occasional|sometimes|weekly|rarely|intermittent)"), Frequency.OCCASIONAL),
)
_SIDES = (
    (re.compile(r"\b(both|bilateral)\b"), Side.BOTH),
    (re.compile(r"\bleft\b"), Side.LEFT),
    (re.compile(r"\bright\b"), Side.RIGHT),
)


def _words(concept: CodeableConcept | None) -> str:
    if concept is None:
        return ""
    codings = concept.get("coding", ())
    parts = [concept.get("text") or "", *(display or "" for _, _, display in codings)]
    return clean(" ".join(parts)).lower()


def _first(patterns: tuple[tuple[re.Pattern[str], object], ...], text: str) -> object | None:
    return next((value for pattern, value in patterns if pattern.search(text)), None)


def _codes(concept: CodeableConcept | None) -> list[tuple[str, str]]:
    if concept is None:
        return []
    return [
        (system, clean(code)) for system, code, _ in concept.get("coding", ()) if system and code
    ]


def read(reader: Reader, obs: Observation, ref: str, path: str) -> None:
    """Route one Observation to the field it fills, or report it.

    Every choice follows the order of the codings: a lab Observation whose LOINC codes belong to
    two analytes (potassium and magnesium, say) is reported as a problem rather than read as
    either, since either reading could give the wrong urgency.
    """
    concept, status = obs.get("code"), obs.get("status")
    code_key = concept_key(concept)
    if (route := reader.codes.get(code_key)) is None:
        route = reader.codes[code_key] = _route(concept)
    codes, loinc, symptom = route
    if symptom is not None and status not in SKIP_STATUS:
        _symptom(reader, obs, ref, path, symptom)
        return
    code_text = "|".join(codes[0]) if codes else None
    display = label(concept)
    entry = reader.entry
    if status in SKIP_STATUS:
        reason = f"status {status}"
        reader.out.skipped.append(entry(obs, ref, code=code_text, display=display, reason=reason))
        return
    maps = code_maps()
    if analyte_codes := [code for code in loinc if code in maps.loinc]:
        analytes = list(dict.fromkeys(str(maps.loinc[code]) for code in analyte_codes))
        if len(analytes) > 1:
            message = (
                f"the codes name {len(analytes)} analytes ({', '.join(analytes)}); a lab result "
                "measures one: keep only the coding of the analyte measured"
            )
            reader.out.problems.append(Problem(f"{path}.code", message, repr(analyte_codes)))
            return
        lab_result(reader, obs, ref, path, analyte_codes[0])
    elif maps.smoking_loinc in loinc:
        _smoking(reader, obs, ref, path)
    elif field := next(
        (
            maps.coded_fields[code]
            for system, code in codes
            if system == SNOMED and code in maps.coded_fields
        ),
        None,
    ):
        answer = _coded_answer(obs)
        reader.out.answer(field, answer, ref)
        reason = f"coded finding, value read as {answer}"
        reader.out.mapped.append(
            entry(obs, ref, code=code_text, display=display, field=field, reason=reason)
        )
    else:
        reason = "code not used by fasciculate"
        reader.out.unmapped.append(entry(obs, ref, code=code_text, display=display, reason=reason))


def _route(concept: CodeableConcept | None) -> Route:
    """What an Observation's code says: its codes, its LOINC codes, and the symptom answer.

    The answer is ``None`` unless the code is LOINC Symptom (present) or Symptom absent.
    """
    codes = _codes(concept)
    loinc = [code for system, code in codes if system == LOINC]  # in document order
    symptom = None
    if SYMPTOM in loinc or SYMPTOM_ABSENT in loinc:
        symptom = TriState.ABSENT if SYMPTOM_ABSENT in loinc else TriState.PRESENT
    return codes, loinc, symptom


def _coded_answer(obs: Observation) -> TriState:
    if (value := obs.get("valueBoolean")) is not None:
        return TriState.PRESENT if value else TriState.ABSENT
    values = set(_codes(obs.get("valueCodeableConcept")))
    if values & NO_CODES:
        return TriState.ABSENT
    return TriState.PRESENT


def _symptom(reader: Reader, obs: Observation, ref: str, path: str, answer: TriState) -> None:
    concept = obs.get("valueCodeableConcept")
    decided = reader.symptoms.get(decision := (concept_key(concept), answer))
    if decided is None:
        field, fields = _symptom_field(concept, answer)
        decided = reader.symptoms[decision] = field, reader.entry(obs, ref, **fields)
    field, entry = decided
    if field == "twitching":
        _twitching(reader, obs, ref, path, answer)
    elif field is not None:
        reader.out.answer(field, answer, ref)
    listed = reader.out.unmapped if field is None else reader.out.mapped
    listed.append(reader.entry_as(entry, ref))


def _symptom_field(
    concept: CodeableConcept | None, answer: TriState
) -> tuple[str | None, dict[str, str | None]]:
    """The field a symptom coded as *concept* fills (``None``: none) and its report entry."""
    maps = code_maps()
    values = _codes(concept)
    fields: dict[str, str | None] = {
        "code": "|".join(values[0]) if values else None,
        "display": label(concept),
    }
    finding = None
    for pair in values:
        if pair in maps.twitching:
            return "twitching", {**fields, "field": "twitching", "reason": f"twitching {answer}"}
        if finding is None and pair[0] == SNOMED:
            finding = maps.symptom_snomed.get(pair[1])
    if finding is None:
        return None, {**fields, "reason": f"symptom ({answer}) not in fasciculate's fact table"}
    field = f"findings.{finding}"
    return field, {**fields, "field": field, "reason": _SYMPTOM_REASON[answer]}


def _twitching(reader: Reader, obs: Observation, ref: str, path: str, answer: TriState) -> None:
    if answer is TriState.ABSENT:
        reader.out.notes.append(
            f"{ref} records twitching as absent; the presentation is about twitching"
        )
        return
    site = _words(obs.get("bodySite"))
    region = code_maps().region(site) if site else None
    if region is not None:
        reader.out.regions.append(str(region))
        reader.out.cite("twitching.regions", ref)
    elif site:
        reader.out.notes.append(f"{ref}: body site {site!r} is not a known twitching region")
    side = _first(_SIDES, site)
    if side is not None:
        known = reader.out.data["twitching"].get("side")
        # Twitching on the left in one place and on the right in another is on both sides.
        both = known is not None and known != str(side)
        reader.out.data["twitching"]["side"] = str(Side.BOTH if both else side)
        reader.out.cite("twitching.side", ref)
    for component in obs.get("component", ()):
        codes = {code for _, code in _codes(component.code)}
        text = _words(component.valueCodeableConcept) + " " + (component.valueString or "").lower()
        if codes & _TREND and (course := _first(_COURSE, text)) is not None:
            reader.out.set_once("twitching", "course", str(course), ref)
        if _FREQUENCY in codes and (often := _first(_OFTEN, text)) is not None:
            reader.out.set_once("twitching", "frequency", str(often), ref)
    period = obs.get("effectivePeriod")
    if period is not None and period.start:
        onset = reader.date(period.start, f"{path}.effectivePeriod.start")
        if onset is not None:
            reader.out.set_once("twitching", "onset_date", onset.isoformat(), ref)


def _smoking(reader: Reader, obs: Observation, ref: str, path: str) -> None:
    maps = code_maps()
    values = _codes(obs.get("valueCodeableConcept"))
    smokes = next(
        (
            maps.smoking[code]
            for system, code in values
            if system == SNOMED and code in maps.smoking
        ),
        None,
    )
    display = label(obs.get("valueCodeableConcept"))
    if smokes is None:
        reason = "smoking status code not in fasciculate's map"
        reader.out.unmapped.append(
            reader.entry(
                obs, ref, code=f"{LOINC}|{maps.smoking_loinc}", display=display, reason=reason
            )
        )
        return
    text, field = observation_when(obs)
    when = reader.date(text, f"{path}.{field}")
    answer = TriState.PRESENT if smokes else TriState.ABSENT
    reader.out.set_latest("exposures.nicotine", str(answer), when, ref)
    reason = f"smoking status {display!r} on {when}: nicotine {answer} (the latest record wins)"
    reader.out.mapped.append(
        reader.entry(
            obs,
            ref,
            code=f"{LOINC}|{maps.smoking_loinc}",
            display=display,
            field="exposures.nicotine",
            reason=reason,
        )
    )
