"""The prefetch templates: what a service asks the EHR to send with each call (no HTTP here)."""

from __future__ import annotations

from urllib.parse import quote

from fasciculate import knowledge_base
from fasciculate.fhir import QUESTIONNAIRE_URL

#: LOINC codes of the observations the FHIR reader reads besides labs: symptom present and absent
#: (twitching and red flags), the symptom's course and frequency, smoking status.
_OBSERVATION_LOINC = ("75325-1", "111551-8", "89253-9", "89261-2", "104156-5", "72166-2")


def _observation_codes() -> str:
    codes = [*_OBSERVATION_LOINC, *(c for lab in knowledge_base().labs.values() for c in lab.loinc)]
    return ",".join(f"http://loinc.org|{code}" for code in dict.fromkeys(codes))


def prefetch_templates() -> dict[str, str]:
    """The prefetch templates every service of fasciculate declares (one per resource kind)."""
    patient = "{{context.patientId}}"
    return {
        "patient": f"Patient/{patient}",
        "observations": f"Observation?patient={patient}&code={_observation_codes()}",
        "conditions": f"Condition?patient={patient}",
        "medications": f"MedicationRequest?patient={patient}",
        "questionnaireResponses": (
            f"QuestionnaireResponse?patient={patient}&questionnaire={quote(QUESTIONNAIRE_URL)}"
        ),
    }
