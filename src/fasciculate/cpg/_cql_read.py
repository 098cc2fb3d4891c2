"""The CQL that reads facts and quantities from FHIR R4, generated from the FHIR reader's tables.

Every code list comes from the tables :mod:`fasciculate.fhir` reads with (:func:`code_maps`, the
knowledge base's ``labs.toml``): nothing here is a second hand-written copy. Each fact is one
``define "Read <fact>"`` returning ``true`` (present), ``false`` (absent) or ``null`` (unknown),
and each quantity one ``define "Quantity <name>"`` (a ``Decimal``, ``null`` when not measured).

What the CQL reads, as the reader does: the answers of fasciculate's intake QuestionnaireResponse,
Symptoms IG Observations (present and absent), yes/no coded-finding Observations, active
Conditions (SNOMED CT, ICD-10-CM and WHO ICD-10 categories), MedicationRequests that are current
orders (RxNorm, ATC), laboratory Observations (LOINC, every accepted unit converted, the
laboratory's interpretation), the albumin-adjusted calcium, and the patient's age. A fact or
quantity with no reading here would be listed by :func:`fasciculate.cpg.unread` (none is today).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from fasciculate._fact_paths import FINDING_PATH, fact_paths
from fasciculate._kb import KnowledgeBase
from fasciculate._vocab import (
    BODY_REGION,
    INTERPRETATION_ENDS,
    NEURAXIS_REGIONS,
    Course,
    Interpretation,
    MedicationClass,
    Reflex,
    Region,
    Strength,
)
from fasciculate.cpg._cql_text import decimal, string, strings
from fasciculate.fhir._codes import ATC, ICD10, ICD10CM, RXNORM, SNOMED, code_maps
from fasciculate.fhir._items import item_specs

_SEVERITY = {"N": 0, "L": 1, "H": 1, "A": 2, "LL": 3, "HH": 3, "AA": 4}


def _field(fact: str) -> str | None:
    return FINDING_PATH.get(fact) or fact_paths().source_path.get(fact)


def _finding(fact: str, default: str) -> str | None:
    """The CQL reading yes/no fact *fact* from Observations and Conditions, or ``None``."""
    maps = code_maps()
    field = _field(fact)
    symptoms = [code for code, name in maps.symptom_snomed.items() if name == fact]
    coded = [code for code, path in maps.coded_fields.items() if path == field]
    snomed = [code for code, name in maps.condition_snomed.items() if name == fact]
    icd10cm = [code for code, name in maps.icd10cm.items() if name == fact]
    icd10 = [code for code, name in maps.icd10.items() if name == fact]
    present: list[str] = []
    absent: list[str] = []
    spec = item_specs().get(field or "")
    if field is not None and spec is not None and spec.kind == "tri":
        answers = f'("Tri Answers"({string(field)}))'
        present.append(f"exists ({answers} V where V = 'present')")
        absent.append(f"exists ({answers} V where V = 'absent')")
    if symptoms:
        value = f"O.value as FHIR.CodeableConcept, {string(SNOMED)}, {strings(symptoms)}"
        present.append(f'exists ("Symptoms Present" O where "Has Code"({value}))')
        absent.append(f'exists ("Symptoms Absent" O where "Has Code"({value}))')
    if coded:
        where = f'"Has Code"(O.code, {string(SNOMED)}, {strings(coded)})'
        present.append(f'exists ("Coded Findings" O where {where} and not "Says No"(O))')
        absent.append(f'exists ("Coded Findings" O where {where} and "Says No"(O))')
    matches = [
        f'"{helper}"(C.code, {string(system)}, {strings(codes)})'
        for helper, system, codes in (
            ("Has Code", SNOMED, [*snomed, *symptoms]),
            ("Has Code Under", ICD10CM, icd10cm),
            ("Has Code Under", ICD10, icd10),
        )
        if codes
    ]
    if matches:
        present.append(f'exists ("Active Conditions" C where {" or ".join(matches)})')
    if not present:
        return None
    return _tri(present, absent, default)


def _tri(present: list[str], absent: list[str], default: str) -> str:
    text = "  if " + "\n    or ".join(present) + " then true"
    if absent:
        text += "\n  else if " + "\n    or ".join(absent) + " then false"
    return text + f"\n  else {default}"


def _medication(drug_class: MedicationClass) -> str:
    maps = code_maps()
    rxnorm = [code for code, found in maps.rxnorm.items() if found is drug_class]
    atc = [prefix for prefix, found in maps.atc if found is drug_class]
    concept = "M.medication as FHIR.CodeableConcept"
    matches = [f'"Has Code"({concept}, {string(RXNORM)}, {strings(rxnorm)})'] if rxnorm else []
    if atc:
        matches.append(f'"Has Code Under"({concept}, {string(ATC)}, {strings(atc)})')
    where = " or ".join(matches) or "false"
    return _tri(
        [f'exists ("Current Medication Orders" M where {where})'],
        ['exists "Current Medication Orders"'],
        "null",
    )


def _reported(kb: KnowledgeBase, fact: str, default: str) -> str | None:
    """The CQL of ``<analyte>_reported_<end>``: the worst interpretation given names *end*."""
    for analyte, lab in kb.labs.items():
        prefix = f"{analyte}_reported_"
        if not fact.startswith(prefix):
            continue
        end = fact.removeprefix(prefix)
        tests = [
            f'"Interpreted"(O, {{ {string(code)} }}, '
            + strings(c for c, level in _SEVERITY.items() if level > _SEVERITY[code])
            + ")"
            for code in _SEVERITY
            if end in INTERPRETATION_ENDS[Interpretation(code)]
        ]
        results = f'("Final Results"({strings(lab.loinc)})) O'
        return _tri([f"exists ({results} where {' or '.join(tests)})"], [], default)
    return None


def facts(kb: KnowledgeBase, names: Iterable[str]) -> Iterator[tuple[str, str | None]]:
    """For each fact of *names*, the body of its ``Read`` define (``None``: not read from FHIR)."""
    classes = {f"med_{drug_class}": drug_class for drug_class in MedicationClass}
    scope_min_age = decimal(kb.thresholds["scope_min_age"].value)
    for name in names:
        default = "false" if kb.facts[name].when_missing == "not_measured" else "null"
        if name in classes:
            yield name, _medication(classes[name])
        elif name in _SPECIAL:
            yield name, _SPECIAL[name]
        elif name == "age_under_16":
            yield name, f'  "Quantity age" < {scope_min_age}'
        else:
            yield name, _reported(kb, name, default) or _finding(name, default)


_REGIONS = "(\"Choice Answers\"('twitching.regions'))"
_COURSE = "First(\"Choice Answers\"('twitching.course'))"
_STRENGTH = "First(\"Choice Answers\"('examination.strength'))"
_KNEE = "First(\"Choice Answers\"('examination.knee_reflex'))"
_ANKLE = "First(\"Choice Answers\"('examination.ankle_reflex'))"
#: The facts the presentation's structured answers give (``_facts``), read from the response.
_SPECIAL = {
    "reduced_knee_reflex": _tri(
        [f"{_KNEE} = {string(Reflex.REDUCED)}"], [f"{_KNEE} is not null"], "null"
    ),
    # Brisk when either reflex is; not brisk only when both were examined (as _facts reads it).
    "brisk_reflexes": _tri(
        [f"{_KNEE} = {string(Reflex.BRISK)} or {_ANKLE} = {string(Reflex.BRISK)}"],
        [f"{_KNEE} is not null and {_ANKLE} is not null"],
        "null",
    ),
    "worsening": _tri(
        [f"{_COURSE} = {string(Course.WORSENING)}"], [f"{_COURSE} is not null"], "null"
    ),
    "exam_weakness": _tri(
        [f"{_STRENGTH} = {string(Strength.REDUCED)}"],
        [f"{_STRENGTH} = {string(Strength.NORMAL)}"],
        "null",
    ),
    **{
        f"region_{region}": _tri(
            [f"exists ({_REGIONS} R where R = {string(region)})"],
            [f"exists {_REGIONS}"],
            "null",
        )
        for region in Region
    },
}


def quantity(kb: KnowledgeBase, name: str) -> str | None:
    """The body of the ``Quantity`` define of *name*, or ``None`` when the CQL does not read it."""
    for analyte in kb.labs:
        for end, aggregate in (("lowest", "Min"), ("highest", "Max")):
            if name == f"{analyte}_{end}":
                source = f'"Values {analyte}"'
                if analyte == "calcium_adjusted":
                    source = f'flatten {{ {source}, "Computed calcium_adjusted" }}'
                return f"  {aggregate}({source})"
    if name == "age":
        return "  years between Patient.birthDate.value and Today()"
    if name == "power_lowest":
        movements = sorted(key for key in item_specs() if key.startswith("examination.power."))
        answers = ",\n    ".join(f"\"Number Answer\"({string(key)}, '1')" for key in movements)
        return f"  Min({{\n    {answers}\n  }})"
    if name == "duration_days":
        # Given, or from the onset date to the evaluation date: the larger (Presentation).
        return (
            "  Max({\n    \"Number Answer\"('twitching.duration_days', 'd'),\n"
            '    ToDecimal(days between "Onset Date" and Today())\n  })'
        )
    if name == "region_count":
        cases = " ".join(
            f"when {string(region)} then {string(BODY_REGION[region])}"
            for region in Region
            if BODY_REGION[region] in NEURAXIS_REGIONS
        )
        return (
            f"  if exists {_REGIONS} then ToDecimal(Count(distinct (\n"
            f"    {_REGIONS} R return case R {cases} else null end\n"
            "  ) X where X is not null))\n  else null"
        )
    return None


def lab_values(kb: KnowledgeBase) -> Iterator[str]:
    """For each analyte, its results in the canonical unit, converted as ``labs.toml`` says."""
    for analyte, lab in kb.labs.items():
        cases = " ".join(
            f"when {string(unit)} then {decimal(factor)}" for unit, factor in lab.units.items()
        )
        yield f"""\
define function "{analyte} in {lab.unit}"(Q FHIR.Quantity):
  Q.value.value * (case "Unit Of"(Q, {strings(lab.units)}) {cases} else null end)

define "Values {analyte}":
  (("Final Results"({strings(lab.loinc)})) O
    where O.value is FHIR.Quantity
    return "{analyte} in {lab.unit}"(O.value as FHIR.Quantity)) V
    where V is not null
"""
