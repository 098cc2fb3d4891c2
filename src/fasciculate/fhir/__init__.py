"""EHR interoperability: FHIR R4 in, FHIR and CDS Hooks cards out, an SDC intake questionnaire.

Reading::

    reading = fasciculate.fhir.read_bundle(bundle_json)     # presentation + mapping report
    result = fasciculate.assess(reading.presentation)

Writing::

    fasciculate.fhir.assessment_to_fhir(result, reading=reading)   # a transaction Bundle to POST
    fasciculate.fhir.assessment_to_cards(result, reading=reading)  # CDS Hooks 2.0 cards
    fasciculate.fhir.terminology()                   # fasciculate's CodeSystems and ValueSets
    fasciculate.fhir.code_maps()                     # the EHR codes the reader understands

This module works on plain JSON (dicts) and imports no FHIR library; it reads only the elements it
needs, and reports everything else.
"""

from fasciculate.fhir._card_types import Action, Card, CardCoding, CardSource, Link, Suggestion
from fasciculate.fhir._cards import assessment_to_cards
from fasciculate.fhir._codes import CodeMaps, ConditionMap, MedicationMap, code_maps
from fasciculate.fhir._output import assessment_to_fhir
from fasciculate.fhir._questionnaire import QUESTIONNAIRE_URL, questionnaire
from fasciculate.fhir._read import presentation_from_bundle, read_bundle
from fasciculate.fhir._report import BundleReading, Conflict, MappingReport, ReportEntry
from fasciculate.fhir._response import (
    presentation_from_questionnaire_response,
    questionnaire_response,
)
from fasciculate.fhir._terminology import terminology

__all__ = [
    "QUESTIONNAIRE_URL",
    "Action",
    "BundleReading",
    "Card",
    "CardCoding",
    "CardSource",
    "CodeMaps",
    "ConditionMap",
    "Conflict",
    "Link",
    "MappingReport",
    "MedicationMap",
    "ReportEntry",
    "Suggestion",
    "assessment_to_cards",
    "assessment_to_fhir",
    "code_maps",
    "presentation_from_bundle",
    "presentation_from_questionnaire_response",
    "questionnaire",
    "questionnaire_response",
    "read_bundle",
    "terminology",
]
