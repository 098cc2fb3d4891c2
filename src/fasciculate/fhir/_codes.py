"""The FHIR code maps (``fhir/codes.toml``), loaded once into frozen lookup tables.

Symptom SNOMED CT codes come from the knowledge base's fact table and lab LOINC codes from its lab
table, so each code is written once; this module adds what only FHIR reading needs: conditions,
medications, body-site words and smoking status.
"""

from __future__ import annotations

import functools
import re
import tomllib
import unicodedata
from collections.abc import Mapping
from importlib import resources
from typing import Any

import attrs

from fasciculate._errors import KnowledgeBaseError
from fasciculate._kb import knowledge_base
from fasciculate._vocab import Analyte, MedicationClass, Region

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
#: WHO ICD-10 (the international edition), read beside ICD-10-CM through its own code list.
ICD10 = "http://hl7.org/fhir/sid/icd-10"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ATC = "http://www.whocc.no/atc"
UCUM = "http://unitsofmeasure.org"
#: HL7 v3 ObservationInterpretation (Observation.interpretation): LL, L, N, H, HH, A, AA, ...
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"

#: Characters that EHR exports leave in text and codes and that must never change a match.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))


def clean(text: str) -> str:
    """*text* without invisible characters, NFKC-normalised and stripped."""
    if text.isascii():
        return text.strip()
    return unicodedata.normalize("NFKC", text.translate(_INVISIBLE)).strip()


#: Examination facts recorded as yes/no Observations, and the presentation field each fills.
_EXAMINATION = {
    "babinski": "examination.babinski",
    "exam_wasting": "examination.wasting",
    "exam_sensory_loss": "examination.sensory_loss",
    "anal_sphincter_laxity": "examination.anal_sphincter_laxity",
}


@attrs.frozen
class ConditionMap:
    """Condition codes that mean one finding is present (a ``[[condition]]`` of ``codes.toml``).

    Attributes:
        finding: The finding (a key of the knowledge base's fact table) the codes set present.
        icd10cm: ICD-10-CM codes or categories (a code below a category maps too).
        snomed: SNOMED CT concepts.
        source: Where the codes come from.
        verified: Whether the SNOMED CT concepts were checked against a release.
        icd10: WHO ICD-10 codes or categories, read through this list only.
    """

    finding: str
    icd10cm: tuple[str, ...]
    snomed: tuple[str, ...]
    source: str
    verified: bool
    icd10: tuple[str, ...] = ()


@attrs.frozen
class Recency:
    """How recent a problem-list Condition must be to set a finding the rules call new."""

    days: int
    source: str


@attrs.frozen
class MedicationMap:
    """The codes and names of one medication class (a ``[[medication]]`` of ``codes.toml``).

    Attributes:
        drug_class: The class the codes and names mean.
        atc: ATC code prefixes of the class.
        rxnorm: RxNorm concepts of the class (beside the knowledge base's ingredient codes).
        names: Brand and other names the knowledge base's medication names lack, lower case.
    """

    drug_class: MedicationClass
    atc: tuple[str, ...]
    rxnorm: tuple[str, ...]
    names: tuple[str, ...]


@attrs.frozen
class Referral:
    """The SNOMED CT concept written as the ServiceRequest's code."""

    system: str
    code: str
    display: str
    source: str


@attrs.frozen
class CodeMaps:
    """Every lookup table the FHIR reader uses, from ``fhir/codes.toml`` and the knowledge base.

    Shared by every reading in the process: read them, never change them.

    Attributes:
        version: The version of ``codes.toml``.
        conditions: Each finding's condition codes, as written.
        medications: Each medication class's codes and names, as written.
        icd10cm: ICD-10-CM code or category -> finding.
        condition_snomed: SNOMED CT condition concept -> finding.
        symptom_snomed: SNOMED CT concept -> finding, from the knowledge base's fact table.
        coded_fields: SNOMED CT concept -> the presentation field it answers.
        loinc: LOINC code -> analyte, from the knowledge base's lab table.
        rxnorm: RxNorm concept (a class's, or an ingredient's of ``kb/medications.toml``) -> class.
        atc: ATC prefixes with their class, the longest first.
        names: Matches any medication name, the knowledge base's or a brand.
        name_class: Medication name -> class.
        regions: Body-site phrases with the twitching region each names, the longest first.
        smoking_loinc: The LOINC code of the smoking-status Observation.
        smoking: Smoking-status answer code -> whether it means the patient smokes.
        twitching: The (system, code) pairs of a fasciculation Condition.
        icd10: WHO ICD-10 code or category -> finding.

    Beside them, ``recent`` (for findings the rules call new, how recent their Condition must be)
    and ``referral`` (the concept written as the ServiceRequest's code).
    """

    version: str
    conditions: tuple[ConditionMap, ...]
    medications: tuple[MedicationMap, ...]
    icd10cm: Mapping[str, str]
    condition_snomed: Mapping[str, str]
    symptom_snomed: Mapping[str, str]
    coded_fields: Mapping[str, str]
    loinc: Mapping[str, Analyte]
    rxnorm: Mapping[str, MedicationClass]
    atc: tuple[tuple[str, MedicationClass], ...]
    names: re.Pattern[str]
    name_class: Mapping[str, MedicationClass]
    regions: tuple[tuple[re.Pattern[str], Region], ...]
    smoking_loinc: str
    smoking: Mapping[str, bool]
    twitching: frozenset[tuple[str, str]]
    recent: Mapping[str, Recency] = attrs.field(factory=dict)
    icd10: Mapping[str, str] = attrs.field(factory=dict)
    referral: Referral | None = None

    def condition_finding(self, system: str, code: str) -> str | None:
        """The finding a condition code means, or ``None``.

        An ICD-10-CM or WHO ICD-10 code maps when it, or a category above it, is in that
        edition's list (``N18.31`` -> ``N18.3`` -> ``N18``).
        """
        if system in {ICD10CM, ICD10}:
            table = self.icd10cm if system == ICD10CM else self.icd10
            code = code.upper().replace(" ", "")
            if "." not in code and len(code) > 3:
                code = f"{code[:3]}.{code[3:]}"
            while code:
                if code in table:
                    return table[code]
                code = code[:-1].rstrip(".")
            return None
        if system == SNOMED:
            return self.condition_snomed.get(code) or self.symptom_snomed.get(code)
        return None

    def medication_class(self, system: str, code: str) -> MedicationClass | None:
        """The class of a coded medication, or ``None``."""
        if system == RXNORM:
            return self.rxnorm.get(code)
        if system == ATC:
            code = code.upper()
            return next((cls for prefix, cls in self.atc if code.startswith(prefix)), None)
        return None

    def medication_class_by_name(self, name: str) -> MedicationClass | None:
        """The class of a medication named *name* (ingredient or brand), or ``None``."""
        match = self.names.search(clean(name).lower())
        return None if match is None else self.name_class[match.group(0)]

    def region(self, text: str) -> Region | None:
        """The twitching region a body-site text names, or ``None``."""
        lowered = clean(text).lower()
        return next((region for pattern, region in self.regions if pattern.search(lowered)), None)


def _words(phrases: list[str]) -> re.Pattern[str]:
    ordered = sorted(phrases, key=len, reverse=True)
    return re.compile(r"\b(?:" + "|".join(re.escape(phrase) for phrase in ordered) + r")\b")


def _unique_keys(kind: str, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    table: dict[str, Any] = {}
    for key, value in pairs:
        if key in table and table[key] != value:
            raise KnowledgeBaseError(f"fhir/codes.toml: {kind} {key!r} maps to two values")
        table[key] = value
    return table


@functools.cache
def code_maps() -> CodeMaps:
    """The code maps the FHIR reader reads a bundle with, loaded and checked once per process.

    For an integrator checking that the codes an EHR sends are the codes fasciculate reads.

    Example:
        >>> from fasciculate.fhir import code_maps
        >>> maps = code_maps()
        >>> maps.condition_finding("http://hl7.org/fhir/sid/icd-10-cm", "N18.31")
        'kidney_disease'
        >>> maps.loinc["6298-4"]
        <Analyte.POTASSIUM: 'potassium'>

    Raises:
        KnowledgeBaseError: If a map names an unknown finding or gives one code two meanings.
    """
    raw = resources.files("fasciculate.fhir").joinpath("codes.toml").read_text("utf-8")
    data = tomllib.loads(raw)
    kb = knowledge_base()
    findings = {key for key, fact in kb.facts.items() if fact.kind == "finding"}
    conditions = tuple(
        ConditionMap(
            finding=row["finding"],
            icd10cm=tuple(row.get("icd10cm", ())),
            snomed=tuple(row.get("snomed", ())),
            source=row["source"],
            verified=row["verified"],
            icd10=tuple(row.get("icd10", ())),
        )
        for row in data["condition"]
    )
    for condition in conditions:
        if condition.finding not in findings:
            raise KnowledgeBaseError(f"fhir/codes.toml: unknown finding {condition.finding!r}")
    recent = _unique_keys(
        "recent finding",
        [
            (finding, Recency(days=row["days"], source=row["source"]))
            for row in data.get("recent", ())
            for finding in row["findings"]
        ],
    )
    unknown = sorted(set(recent) - findings)
    if unknown:
        raise KnowledgeBaseError(f"fhir/codes.toml: [[recent]] names unknown findings {unknown}")
    medications = tuple(
        MedicationMap(
            drug_class=MedicationClass(row["drug_class"]),
            atc=tuple(row.get("atc", ())),
            rxnorm=tuple(row.get("rxnorm", ())),
            names=tuple(row.get("names", ())),
        )
        for row in data["medication"]
    )
    atc = sorted(
        ((prefix, med.drug_class) for med in medications for prefix in med.atc),
        key=lambda pair: len(pair[0]),
        reverse=True,
    )
    name_class = _unique_keys(
        "medication name",
        [*kb.medication_names.items()]
        + [(name, med.drug_class) for med in medications for name in med.names],
    )
    regions = sorted(
        (
            (phrase, Region(region))
            for region, phrases in data["regions"].items()
            for phrase in phrases
        ),
        key=lambda pair: len(pair[0]),
        reverse=True,
    )
    smoking = data["smoking"]
    symptoms = {
        fact.snomed: key
        for key, fact in kb.facts.items()
        if fact.kind == "finding" and fact.snomed is not None
    }
    return CodeMaps(
        version=data["version"],
        conditions=conditions,
        medications=medications,
        icd10cm=_unique_keys(
            "ICD-10-CM code", [(code, c.finding) for c in conditions for code in c.icd10cm]
        ),
        condition_snomed=_unique_keys(
            "SNOMED CT code", [(code, c.finding) for c in conditions for code in c.snomed]
        ),
        symptom_snomed=symptoms,
        coded_fields={
            **{
                fact.snomed: field
                for key, field in _EXAMINATION.items()
                if (fact := kb.facts[key]).snomed is not None and fact.snomed not in symptoms
            },
            **{code: f"findings.{finding}" for code, finding in symptoms.items()},
        },
        loinc=_unique_keys(
            "LOINC code", [(code, lab.analyte) for lab in kb.labs.values() for code in lab.loinc]
        ),
        rxnorm=_unique_keys(
            "RxNorm code",
            [(code, med.drug_class) for med in medications for code in med.rxnorm]
            + _ingredients(kb.medication_names, kb.sources),
        ),
        atc=tuple(atc),
        names=_words(list(name_class)),
        name_class=name_class,
        regions=tuple((_words([phrase]), region) for phrase, region in regions),
        smoking_loinc=smoking["loinc"],
        smoking={
            **dict.fromkeys(smoking["present"], True),
            **dict.fromkeys(smoking["absent"], False),
        },
        twitching=frozenset(
            [(SNOMED, code) for code in data["twitching"]["snomed"]]
            + [(ICD10CM, code) for code in data["twitching"]["icd10cm"]]
            + [(ICD10, code) for code in data["twitching"]["icd10"]]
        ),
        recent=recent,
        icd10=_unique_keys(
            "WHO ICD-10 code", [(code, c.finding) for c in conditions for code in c.icd10]
        ),
        referral=Referral(**data["referral"]),
    )


def _ingredients(
    classes: Mapping[str, MedicationClass], sources: Mapping[str, object]
) -> list[tuple[str, MedicationClass]]:
    """The RxNorm ingredient codes of ``kb/medications.toml``, each with its name's class."""
    raw = resources.files("fasciculate").joinpath("kb", "medications.toml").read_text("utf-8")
    table = tomllib.loads(raw).get("ingredients", {})
    if table and table.get("source") not in sources:
        raise KnowledgeBaseError("kb/medications.toml: [ingredients] cites an unknown source")
    rxnorm: dict[str, str] = table.get("rxnorm", {})
    unknown = sorted(set(rxnorm) - set(classes))
    if unknown:
        raise KnowledgeBaseError(f"kb/medications.toml: ingredients without a class {unknown}")
    return [(code, classes[name]) for name, code in rxnorm.items()]
