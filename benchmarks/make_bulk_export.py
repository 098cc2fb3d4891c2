"""Write a synthetic FHIR Bulk Data export: one NDJSON file per resource type.

Two sources of patients:

- the four Synthea R4 bundles in ``examples/fhir/synthea`` (Apache-2.0, see their ``SOURCES.md``),
  each turned into Bulk Data form: the resources of the types fasciculate reads (Patient,
  Observation, Condition, MedicationRequest) and the Encounters, with ``urn:uuid:`` references
  rewritten as ``Type/id`` as an ``$export`` writes them; with ``--synthea-copies N``, N copies of
  each under new ids;
- *patients* generated patients, each a Patient and a QuestionnaireResponse holding one of a pool
  of distinct presentations from ``fasciculate.testing.presentations()`` (written by
  :func:`fasciculate.fhir.questionnaire_response`, whose round trip is exact), and, for some,
  a potassium result, a thiazide prescription and a hypertension diagnosis in the EHR's own
  resources. The pool is drawn once with a fixed seed: the same arguments write the same bytes.
  Half of the prescriptions name their medicine by reference only (``Medication/<id>``, no
  display), as EHRs with a formulary do: the export's ``Medication`` file holds it.

Usage: ``python benchmarks/make_bulk_export.py OUT [--patients N] [--synthea-copies N] [--gzip]
[--as-of YYYY-MM-DD] [--pool N]``. Needs the ``testing`` extra (Hypothesis).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import random
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from fasciculate import Presentation
from fasciculate.fhir import questionnaire_response
from fasciculate.testing import negative_screens, presentations

ROOT = Path(__file__).resolve().parent.parent
SYNTHEA = ROOT / "examples" / "fhir" / "synthea"
AS_OF = dt.date(2026, 12, 1)
TYPES = (
    "Patient",
    "Observation",
    "Condition",
    "MedicationRequest",
    "Medication",
    "QuestionnaireResponse",
)
_RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
#: The formulary: the id, RxNorm code and name of each Medication that prescriptions reference.
FORMULARY = (("hctz-25", "316049", "Hydrochlorothiazide 25 MG"),)
_SYNTHEA_TYPES = {"Patient", "Observation", "Condition", "MedicationRequest", "Encounter"}


def presentation_pool(size: int) -> list[Presentation]:
    """*size* distinct presentations, the same ones on every run (Hypothesis, derandomized)."""
    pool: dict[str, Presentation] = {}

    @settings(
        max_examples=size * 2,
        derandomize=True,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        deadline=None,
    )
    # Most people with twitching have a benign cause: two draws in three are negative screens.
    @given(st.one_of(negative_screens(), negative_screens(), presentations(complete=True)))
    def collect(presentation: Presentation) -> None:
        pool.setdefault(presentation.model_dump_json(), presentation)

    collect()
    drawn = list(pool.values())
    random.Random(18).shuffle(drawn)  # noqa: S311 - neighbours are alike; a fixed order, no secret
    return drawn[:size]


def _rewrite(value: Any, urls: dict[str, str]) -> Any:  # noqa: ANN401 - any JSON value
    if isinstance(value, dict):
        return {
            key: urls.get(item, item) if key == "reference" else _rewrite(item, urls)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_rewrite(item, urls) for item in value]
    return value


def synthea_resources(copy: int) -> Iterator[dict[str, Any]]:
    """The Synthea bundles' resources in Bulk Data form (ids suffixed ``-c<copy>`` after copy 0)."""
    for path in sorted(SYNTHEA.glob("*.json")):
        bundle = json.loads(path.read_text(encoding="utf-8"))
        suffix = f"-c{copy}" if copy else ""
        urls = {
            entry[
                "fullUrl"
            ]: f"{entry['resource']['resourceType']}/{entry['resource']['id']}{suffix}"
            for entry in bundle["entry"]
        }
        for entry in bundle["entry"]:
            resource = entry["resource"]
            if resource["resourceType"] in _SYNTHEA_TYPES:
                yield _rewrite(resource, urls) | {"id": resource["id"] + suffix}


def _concept(system: str, code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code, "display": display}], "text": display}


def generated_resources(
    number: int, pool: list[dict[str, Any]], as_of: dt.date
) -> Iterator[dict[str, Any]]:
    """Patient *number*: a Patient, a QuestionnaireResponse and, for some, EHR records."""
    ident = f"gen-{number:07d}"
    subject = {"reference": f"Patient/{ident}"}
    response, age, sex = pool[number % len(pool)].values()
    patient: dict[str, Any] = {"resourceType": "Patient", "id": ident}
    if sex in {"male", "female"}:
        patient["gender"] = sex
    if age is not None:
        year_before = dt.date(as_of.year - age - 1, as_of.month, min(as_of.day, 28))
        patient["birthDate"] = (year_before + dt.timedelta(days=1 + number % 360)).isoformat()
    yield patient
    authored = as_of - dt.timedelta(days=number % 20)
    yield response | {"id": f"qr-{ident}", "subject": subject, "authored": authored.isoformat()}
    if number % 2 == 0:
        taken = as_of - dt.timedelta(days=number % 200)
        yield {
            "resourceType": "Observation",
            "id": f"k-{ident}",
            "status": "final",
            "category": [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                            "code": "laboratory",
                        }
                    ]
                }
            ],
            "code": _concept("http://loinc.org", "2823-3", "Potassium [Moles/volume] in Serum"),
            "subject": subject,
            "effectiveDateTime": taken.isoformat(),
            "valueQuantity": {
                "value": round(2.6 + (number % 23) / 10, 1),
                "unit": "mmol/L",
                "system": "http://unitsofmeasure.org",
                "code": "mmol/L",
            },
        }
    if number % 3 == 0:
        formulary_id, code, name = FORMULARY[0]
        medicine: dict[str, Any] = (
            {"medicationCodeableConcept": _concept(_RXNORM, code, name)}
            if number % 2 == 0
            else {"medicationReference": {"reference": f"Medication/{formulary_id}"}}
        )
        yield {
            "resourceType": "MedicationRequest",
            "id": f"rx-{ident}",
            "status": "active",
            "intent": "order",
            **medicine,
            "subject": subject,
            "authoredOn": (as_of - dt.timedelta(days=300)).isoformat(),
        }
    if number % 5 == 0:
        yield {
            "resourceType": "Condition",
            "id": f"htn-{ident}",
            "clinicalStatus": _concept(
                "http://terminology.hl7.org/CodeSystem/condition-clinical", "active", "Active"
            ),
            "code": _concept("http://snomed.info/sct", "38341003", "Hypertension"),
            "subject": subject,
            "onsetDateTime": "2019-03-02",
        }


def _templates(size: int) -> list[dict[str, Any]]:
    templates = []
    for presentation in presentation_pool(size):
        without_date = presentation.model_copy(update={"assessed_on": None})
        templates.append(
            {
                "response": questionnaire_response(without_date),
                "age": presentation.patient.age,
                "sex": presentation.patient.sex,
            }
        )
    return templates


def write_export(  # noqa: PLR0913 - the script's options
    out: Path,
    *,
    patients: int,
    synthea_copies: int = 1,
    compress: bool = False,
    as_of: dt.date = AS_OF,
    pool: int = 100,
) -> int:
    """Write the export into *out*; the number of resources written."""
    out.mkdir(parents=True, exist_ok=True)
    suffix = ".ndjson.gz" if compress else ".ndjson"
    written = 0
    with ExitStack() as stack:
        files: dict[str, IO[bytes]] = {}

        def write(resource: dict[str, Any]) -> None:
            kind = resource["resourceType"]
            if kind not in files:
                path = out / f"{kind}{suffix}"
                opened = (
                    gzip.GzipFile(path, "wb", mtime=0)  # mtime 0: the same bytes on every run
                    if compress
                    else path.open("wb")  # closed by the ExitStack
                )
                files[kind] = stack.enter_context(opened)
            files[kind].write(json.dumps(resource, separators=(",", ":")).encode() + b"\n")

        for copy in range(synthea_copies):
            for resource in synthea_resources(copy):
                write(resource)
                written += 1
        templates = _templates(pool) if patients else []
        referenced = patients > 3  # patient 3 is the first to reference one
        for ident, code, name in FORMULARY if referenced else ():
            write(
                {"resourceType": "Medication", "id": ident, "code": _concept(_RXNORM, code, name)}
            )
            written += 1
        for number in range(patients):
            for resource in generated_resources(number, templates, as_of):
                write(resource)
                written += 1
    return written


def main() -> int:
    """Parse the arguments and write the export."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="the folder to write (created if missing)")
    parser.add_argument("--patients", type=int, default=20, help="generated patients")
    parser.add_argument("--synthea-copies", type=int, default=1, help="copies of the 4 Synthea")
    parser.add_argument("--gzip", action="store_true", help="write .ndjson.gz files")
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=AS_OF)
    parser.add_argument("--pool", type=int, default=100, help="distinct presentations")
    args = parser.parse_args()
    written = write_export(
        args.out,
        patients=args.patients,
        synthea_copies=args.synthea_copies,
        compress=args.gzip,
        as_of=args.as_of,
        pool=args.pool,
    )
    print(f"{written} resources written to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
