"""An example CDS client: signs a request with the demo key, calls the service, prints the cards.

Start the service first (``make serve``, or ``fasciculate serve --config
examples/service/demo.toml``), then::

    python examples/service/client.py                       # patient-view of a bundled example
    python examples/service/client.py --bundle examples/fhir/urgent-bulbar.json
    python examples/service/client.py --feedback overridden # and tell the service what you did

The patient's record is sent as prefetch, built from a FHIR Bundle the way an EHR would send it
(one key per template of the discovery document). Needs ``fasciculate[service]`` (httpx, PyJWT).
The demo key is published: use it with the demo configuration only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import jwt

HERE = Path(__file__).resolve().parent
DEMO_ISSUER = "https://demo-ehr.fasciculate.invalid"
DEMO_KID = "demo-ehr-es384"
KEYS = {
    "observations": "Observation",
    "conditions": "Condition",
    "medications": "MedicationRequest",
    "questionnaireResponses": "QuestionnaireResponse",
}


def signed(url: str, key: str, *, issuer: str, kid: str) -> str:
    """A client JWT for one call of *url* (CDS Hooks 2.0: ES384, five minutes, a fresh jti)."""
    now = int(time.time())
    claims = {"iss": issuer, "sub": "example-client", "aud": url, "iat": now, "exp": now + 300}
    claims["jti"] = str(uuid.uuid4())
    return jwt.encode(claims, key, algorithm="ES384", headers={"kid": kid, "typ": "JWT"})


def prefetch_from(bundle: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The patient id and the prefetch of a Bundle (ids from urn:uuid fullUrls, Type/id refs)."""
    references = {}
    for number, entry in enumerate(bundle["entry"]):
        resource = entry["resource"]
        resource.setdefault("id", entry.get("fullUrl", "").rpartition(":")[2] or f"r{number}")
        if entry.get("fullUrl"):
            references[entry["fullUrl"]] = f"{resource['resourceType']}/{resource['id']}"
    text = json.dumps(bundle)
    for full_url, reference in references.items():
        text = text.replace(f'"{full_url}"', f'"{reference}"')
    resources = [entry["resource"] for entry in json.loads(text)["entry"]]
    patient = next(r for r in resources if r["resourceType"] == "Patient")
    prefetch: dict[str, Any] = {"patient": patient}
    for key, kind in KEYS.items():
        hits = [{"resource": r} for r in resources if r["resourceType"] == kind]
        prefetch[key] = {"resourceType": "Bundle", "type": "searchset", "entry": hits}
    return patient["id"], prefetch


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8765", help="the service's base URL")
    parser.add_argument(
        "--bundle", default=str(HERE.parent / "fhir" / "routine-thiazide-low-potassium.json")
    )
    parser.add_argument(
        "--key", default=str(HERE / "demo-client-key.pem"), help="ES384 private key (PEM)"
    )
    parser.add_argument("--kid", default=DEMO_KID)
    parser.add_argument("--issuer", default=DEMO_ISSUER)
    parser.add_argument(
        "--feedback", choices=("accepted", "overridden"), help="send feedback on each card"
    )
    args = parser.parse_args()
    key = Path(args.key).read_text(encoding="utf-8")
    patient, prefetch = prefetch_from(json.loads(Path(args.bundle).read_text(encoding="utf-8")))
    service = f"{args.url}/cds-services/fasciculate-patient-view"
    request = {
        "hook": "patient-view",
        "hookInstance": str(uuid.uuid4()),
        "context": {"userId": "Practitioner/example", "patientId": patient},
        "prefetch": prefetch,
    }
    with httpx.Client(timeout=10) as client:
        token = signed(service, key, issuer=args.issuer, kid=args.kid)
        response = client.post(service, json=request, headers={"Authorization": f"Bearer {token}"})
        if response.status_code != 200:
            print(f"{response.status_code}: {response.text or '(no body)'}", file=sys.stderr)
            return 1
        cards = response.json()["cards"]
        print(f"{len(cards)} card(s) for patient {patient}")
        for card in cards:
            print(f"\n[{card['indicator']}] {card['summary']}")
            print(f"source: {card['source']['label']}; uuid {card['uuid']}")
            for suggestion in card.get("suggestions", []):
                print(f"suggestion: {suggestion['label']}")
            print(card.get("detail", ""))
        if args.feedback and cards:
            items = []
            for card in cards:
                item: dict[str, Any] = {
                    "card": card["uuid"],
                    "outcome": args.feedback,
                    "outcomeTimestamp": dt.datetime.now(dt.UTC).isoformat(),
                }
                if args.feedback == "overridden":
                    item["overrideReason"] = {
                        "reason": card.get("overrideReasons", [{"code": "not-relevant"}])[0],
                        "userComment": "example client",
                    }
                elif card.get("suggestions"):
                    item["acceptedSuggestions"] = [{"id": card["suggestions"][0]["uuid"]}]
                items.append(item)
            url = f"{service}/feedback"
            token = signed(url, key, issuer=args.issuer, kid=args.kid)
            sent = client.post(
                url, json={"feedback": items}, headers={"Authorization": f"Bearer {token}"}
            )
            print(f"\nfeedback: {sent.status_code} {sent.text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
