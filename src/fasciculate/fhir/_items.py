"""The intake questionnaire's answerable items: wording, codes, answers and units.

Every item's ``linkId`` is the presentation field it fills. Its wording, code and unit come from
``fhir/questionnaire.toml`` (findings: the fact table's question and SNOMED CT code), so that the
form speaks to a clinician and a field name never reaches it. Yes/no items offer the LOINC answer
list (LA33-6 Yes, LA32-8 No, LA4489-6 Unknown); the project's own present / absent / unknown
codes and ``valueBoolean`` are read as well.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import re
import tomllib
import types
import typing
from collections.abc import Mapping
from importlib import resources
from typing import Any, Literal

import attrs
from pydantic import BaseModel  # noqa: TC002 - read at run time (model_fields)

from fasciculate._errors import KnowledgeBaseError
from fasciculate._kb import knowledge_base
from fasciculate._presentation import Examination, Exposures, Patient, Twitching
from fasciculate._vocab import Analyte, Interpretation, MedicationClass, TriState
from fasciculate.fhir._codes import INTERPRETATION, LOINC, SNOMED

BASE = "https://fasciculate.readthedocs.io/fhir"

Kind = Literal["tri", "choice", "integer", "decimal", "quantity", "date", "string", "coding"]
SECTIONS: tuple[tuple[str, type[BaseModel], str], ...] = (
    ("patient", Patient, "Patient"),
    ("twitching", Twitching, "The twitching"),
    ("examination", Examination, "Examination"),
    ("exposures", Exposures, "Everyday exposures"),
)

#: The LOINC answer list for yes / no / unknown, and what each answer means.
YES_NO_UNKNOWN: tuple[tuple[str, str, TriState], ...] = (
    ("LA33-6", "Yes", TriState.PRESENT),
    ("LA32-8", "No", TriState.ABSENT),
    ("LA4489-6", "Unknown", TriState.UNKNOWN),
)
_INTERPRETATION_WORDS = {
    Interpretation.LL: "Critically low",
    Interpretation.L: "Low",
    Interpretation.N: "Normal",
    Interpretation.H: "High",
    Interpretation.HH: "Critically high",
    Interpretation.A: "Abnormal",
    Interpretation.AA: "Critically abnormal",
}


@attrs.frozen
class Option:
    """One answer an item offers."""

    system: str
    code: str
    display: str

    def coding(self) -> dict[str, str]:
        """The answer as a FHIR Coding."""
        return {"system": self.system, "code": self.code, "display": self.display}


@attrs.frozen
class ItemSpec:
    """One answerable item: its field path, wording, answer type, options, codes and units."""

    link_id: str
    kind: Kind
    text: str
    options: tuple[Option, ...] = ()
    repeats: bool = False
    codes: tuple[dict[str, str], ...] = ()
    #: The UCUM unit of a number (integer or decimal item), as (code, display).
    unit: tuple[str, str] | None = None
    #: The UCUM units a quantity item offers.
    unit_options: tuple[str, ...] = ()


def system_of(vocabulary: type[enum.Enum]) -> str:
    """The URI of the project's code system for *vocabulary*."""
    name = "".join(f"-{c.lower()}" if c.isupper() else c for c in vocabulary.__name__)
    return f"{BASE}/CodeSystem/{name.lstrip('-')}"


def _options(vocabulary: type[enum.Enum]) -> tuple[Option, ...]:
    if vocabulary is TriState:
        return tuple(Option(LOINC, code, display) for code, display, _ in YES_NO_UNKNOWN)
    if vocabulary is Interpretation:
        return tuple(
            Option(INTERPRETATION, str(m), _INTERPRETATION_WORDS[m]) for m in Interpretation
        )
    system = system_of(vocabulary)
    return tuple(Option(system, str(m.value), str(m.value).replace("_", " ")) for m in vocabulary)


@functools.cache
def _wording() -> Mapping[str, Mapping[str, Any]]:
    raw = resources.files("fasciculate.fhir").joinpath("questionnaire.toml").read_text("utf-8")
    return tomllib.loads(raw)["item"]  # type: ignore[no-any-return]


def _codes(row: Mapping[str, Any]) -> tuple[dict[str, str], ...]:
    if "loinc" in row:
        code, display = row["loinc"]
        return ({"system": LOINC, "code": code, "display": display},)
    if "snomed" in row:
        return ({"system": SNOMED, "code": row["snomed"]},)
    if "fact" in row:
        snomed = knowledge_base().facts[row["fact"]].snomed
        return () if snomed is None else ({"system": SNOMED, "code": snomed},)
    return ()


def _spec(link_id: str, annotation: Any, row: Mapping[str, Any]) -> ItemSpec:  # noqa: ANN401
    args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
    if typing.get_origin(annotation) in {typing.Union, types.UnionType}:
        annotation = args[0]
        args = list(typing.get_args(annotation))
    repeats = typing.get_origin(annotation) is list
    if repeats:
        annotation = args[0]
    text, codes = row["text"], _codes(row)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        kind: Kind = "tri" if annotation is TriState else "choice"
        return ItemSpec(link_id, kind, text, _options(annotation), repeats=repeats, codes=codes)
    kind = {int: "integer", float: "decimal", dt.date: "date", str: "string"}[annotation]  # type: ignore[assignment]
    unit = tuple(row["unit"]) if "unit" in row else None
    return ItemSpec(link_id, kind, text, codes=codes, unit=unit)


def _row(link_id: str) -> Mapping[str, Any]:
    try:
        return _wording()[link_id]
    except KeyError:
        message = (
            f"fhir/questionnaire.toml: no wording for item {link_id!r}; add [item.{link_id!r}]"
        )
        raise KnowledgeBaseError(message) from None


#: Unit spellings the knowledge base accepts on input that are not UCUM codes (never offered).
_NOT_UCUM = re.compile(r"[^\x21-\x7e]|Eq|(?<!\[)IU")


def lab_units() -> tuple[str, ...]:
    """Every UCUM unit a laboratory result may be given in (kb/labs.toml), in table order."""
    units = (unit for lab in knowledge_base().labs.values() for unit in lab.units)
    return tuple(dict.fromkeys(unit for unit in units if not _NOT_UCUM.search(unit)))


def _repeating() -> dict[str, ItemSpec]:
    def choice(link_id: str, vocabulary: type[enum.Enum]) -> ItemSpec:
        return ItemSpec(link_id, "choice", _row(link_id)["text"], _options(vocabulary))

    return {
        "medications.name": ItemSpec(
            "medications.name", "string", _row("medications.name")["text"]
        ),
        "medications.drug_class": choice("medications.drug_class", MedicationClass),
        "medications.code": ItemSpec(
            "medications.code", "coding", _row("medications.code")["text"]
        ),
        "labs.analyte": choice("labs.analyte", Analyte),
        "labs.value": ItemSpec(
            "labs.value", "quantity", _row("labs.value")["text"], unit_options=lab_units()
        ),
        "labs.interpretation": choice("labs.interpretation", Interpretation),
    }


@functools.cache
def item_specs() -> Mapping[str, ItemSpec]:
    """Every answerable item by ``linkId`` (a presentation field path).

    Raises:
        KnowledgeBaseError: If ``fhir/questionnaire.toml`` lacks an item's wording or words one
            that does not exist.
    """
    specs = {"assessed_on": ItemSpec("assessed_on", "date", _row("assessed_on")["text"])}
    for section, model, _ in SECTIONS:
        for name, field in model.model_fields.items():
            link_id = f"{section}.{name}"
            if typing.get_origin(field.annotation) is dict:  # a grade per movement
                keys, _ = typing.get_args(field.annotation)
                for key in keys:
                    text = _row(link_id)["text"].format(movement=key.replace("_", " "))
                    specs[f"{link_id}.{key}"] = ItemSpec(f"{link_id}.{key}", "integer", text)
                continue
            specs[link_id] = _spec(link_id, field.annotation, _row(link_id))
    for key, fact in knowledge_base().facts.items():
        if fact.kind == "finding":
            link_id = f"findings.{key}"
            codes = () if fact.snomed is None else ({"system": SNOMED, "code": fact.snomed},)
            specs[link_id] = ItemSpec(
                link_id, "tri", fact.question, _options(TriState), codes=codes
            )
    specs |= _repeating()
    worded = {
        link.rsplit(".", 1)[0] if link.startswith("examination.power.") else link for link in specs
    }
    groups = {f"findings:{fact.group}" for fact in knowledge_base().facts.values()}
    unknown = sorted(set(_wording()) - worded - groups - {"medications", "labs"})
    if unknown:
        raise KnowledgeBaseError(f"fhir/questionnaire.toml: no such item {unknown}")
    return specs


def group_codes(link_id: str) -> tuple[dict[str, str], ...]:
    """The codes of a group of the questionnaire (medications, labs), if it has any."""
    row = _wording().get(link_id)
    return () if row is None else _codes(row)


def group_text(link_id: str, default: str) -> str:
    """The heading of a group of the questionnaire."""
    return str(_wording().get(link_id, {}).get("text", default))
