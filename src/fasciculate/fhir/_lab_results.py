"""Lab result Observations: the analyte, the value in an accepted unit, the interpretation.

A result is read when its LOINC code is one of the knowledge base's analytes and it gives a
``valueQuantity`` in a unit the knowledge base accepts for that analyte (UCUM code or unit text,
either micro sign), or only an HL7 interpretation code (``LL``, ``H``...). A unit not accepted or a
value :class:`~fasciculate.LabResult` rejects is a problem, reported only if the result falls in
the lab window. Which results stand (the latest final per analyte) is decided in
:mod:`fasciculate.fhir._labs`, once every entry is read.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import pydantic

from fasciculate._errors import Problem
from fasciculate._kb import knowledge_base
from fasciculate._presentation import LabResult
from fasciculate._vocab import Analyte, Interpretation
from fasciculate.fhir._codes import INTERPRETATION, LOINC, UCUM, clean, code_maps
from fasciculate.fhir._elements import codes as concept_codes
from fasciculate.fhir._elements import label
from fasciculate.fhir._labs import FINAL, Result
from fasciculate.fhir._resources import Observation, Quantity, observation_when

if TYPE_CHECKING:
    from fasciculate.fhir._reader import Reader


def _interpretation(obs: Observation) -> Interpretation | None:
    """The worst HL7 interpretation code of *obs* fasciculate reads (LL, L, N, H, HH, A, AA)."""
    if not obs.get("interpretation"):
        return None
    found = [
        Interpretation(code)
        for concept in obs.get("interpretation", ())
        for system, code in concept_codes(concept)
        if system == INTERPRETATION and code in Interpretation.__members__
    ]
    return max(found, key=_SEVERITY.__getitem__, default=None)


#: The order of the interpretations, least to most abnormal, to keep the worst one given.
_SEVERITY = {
    Interpretation.N: 0,
    Interpretation.L: 1,
    Interpretation.H: 1,
    Interpretation.A: 2,
    Interpretation.LL: 3,
    Interpretation.HH: 3,
    Interpretation.AA: 4,
}


def lab_result(reader: Reader, obs: Observation, ref: str, path: str, loinc: str) -> None:
    """Read *obs*, a result for the analyte of LOINC *loinc*, as a result waiting for the window."""
    analyte = code_maps().loinc[loinc]
    entry = reader.entry
    code_text = f"{LOINC}|{loinc}"
    display = label(obs.get("code"))
    quantity = obs.get("valueQuantity")
    words = _interpretation(obs)
    if (quantity is None or quantity.value is None) and words is None:
        reason = f"{analyte} result without a valueQuantity value or an interpretation"
        reader.out.unmapped.append(entry(obs, ref, code=code_text, display=display, reason=reason))
        return
    text, field = observation_when(obs)
    when, moment = reader.calendar.instant(text, f"{path}.{field}") or (None, None)
    reader.dated_lab = reader.at
    result = functools.partial(
        Result,
        reader.at,
        obs,
        ref,
        analyte.value,
        code_text,
        when=when,
        moment=moment,
        interpretation=None if words is None else words.value,
    )
    status = obs.get("status")
    not_final = "" if status in FINAL else f" (status {status or 'missing'}: not final)"
    if quantity is None or quantity.value is None:
        # A result given only as an interpretation (no value): read as the words say.
        reason = f"{analyte} interpretation {words} without a value on {when or 'an unknown date'}"
        reader.labs.append(result(unit="", value=None, reason=reason + not_final))
        return
    key = (analyte, quantity.system, quantity.code, quantity.unit)
    if key not in reader.units:
        reader.units[key] = _unit(analyte, quantity)
    unit = reader.units[key]
    if unit is None:
        units = _given(quantity)
        problem = Problem(
            f"{path}.valueQuantity",
            f"unit {units[0] if units else 'missing'!r} is not accepted for {analyte} "
            f"(LOINC {loinc}); use a UCUM code, one of: {', '.join(reader_units(analyte))}",
        )
        reader.labs.append(result(problem=problem))
        return
    message = _implausible(reader, analyte, unit, quantity.value)
    if message is not None:
        problem = Problem(f"{path}.valueQuantity.value", message, repr(quantity.value))
        reader.labs.append(result(problem=problem))
        return
    reason = f"{analyte} {quantity.value:g} {unit} on {when or 'an unknown date'}"
    if quantity.comparator:
        reason += f" (reported as {quantity.comparator}{quantity.value:g}: read as the bound)"
    reader.labs.append(result(unit=unit, value=quantity.value, reason=reason + not_final))


def _given(quantity: Quantity) -> list[str]:
    """The units *quantity* gives: its UCUM code (another system's code is no unit), its text."""
    code = quantity.code if quantity.system in {UCUM, None} else None
    return [unit for unit in (code, quantity.unit) if unit]


def _unit(analyte: Analyte, quantity: Quantity) -> str | None:
    """The unit of *quantity* as the knowledge base writes it for *analyte* (``None``: refused).

    Decided once per distinct unit in a bundle (``Reader.units``).
    """
    accepted = reader_units(analyte)
    return next(
        (form for unit in _given(quantity) for form in _unit_forms(unit) if form in accepted),
        None,
    )


def _implausible(reader: Reader, analyte: Analyte, unit: str, value: float) -> str | None:
    """Why *value* in *unit* cannot be a result for *analyte* (``None`` when it can).

    Checked by :class:`~fasciculate.LabResult` itself, once per distinct result in a bundle.
    """
    key = (analyte, unit, value)
    if key not in reader.checked:
        try:
            LabResult(analyte=analyte, unit=unit, value=value)
        except pydantic.ValidationError as error:
            message = error.errors(include_url=False)[0]["msg"]
            reader.checked[key] = message.removeprefix("Value error, ")
        else:
            reader.checked[key] = None
    return reader.checked[key]


def _unit_forms(unit: str) -> tuple[str, ...]:
    """*unit* as written, and cleaned with either micro sign.

    NFKC turns the micro sign (U+00B5, as in ``µg/L`` in the knowledge base) into the Greek mu
    (U+03BC), which some systems send: both are read as the knowledge base's unit.
    """
    cleaned = clean(unit)
    return (unit.strip(), cleaned, cleaned.replace("\u03bc", "\u00b5"))


def reader_units(analyte: Analyte) -> tuple[str, ...]:
    """The units the knowledge base accepts for *analyte*."""
    return tuple(knowledge_base().labs[analyte].units)
