"""What the service tests share: real uvicorn servers on loopback, keys, tokens, a FHIR server.

Nothing here mocks the service: each server is uvicorn serving an ASGI app on a loopback socket,
in a thread of the test process, called over HTTP with httpx.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jwt
import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from starlette.applications import Starlette
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

if TYPE_CHECKING:
    from starlette.requests import Request

ROOT = Path(__file__).resolve().parents[2]
SYNTHEA = ROOT / "examples" / "fhir" / "synthea"
THIAZIDE = ROOT / "examples" / "fhir" / "routine-thiazide-low-potassium.json"
ISSUER = "https://ehr.test.invalid"
FHIR_TOKEN = "fhir-access-token-for-tests"  # noqa: S105 - a test value
#: Search results a page (small, so that searches of the Synthea charts are paged).
PAGE = 5
#: The patient made from the thiazide example (twitching, hydrochlorothiazide, potassium 3.2).
TWITCHING_PATIENT = "twitching-1"


class Running:
    """An ASGI app served by uvicorn on a loopback port, in a background thread."""

    def __init__(self, app: Any) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.app = app
        self.server: uvicorn.Server | None = None

    def start(self, app: Any = None) -> None:
        config = uvicorn.Config(
            app or self.app,
            log_config=None,
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=1,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]})
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        assert self.server is not None
        self.server.should_exit = True
        self.thread.join(10)


class Keys:
    """A client's signing keys: ES384 and RS384 (registered), and an ES384 key nobody knows."""

    def __init__(self) -> None:
        self.es384 = ec.generate_private_key(ec.SECP384R1())
        self.rs384 = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.unknown = ec.generate_private_key(ec.SECP384R1())

    def jwks(self) -> dict[str, Any]:
        es = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.es384.public_key()))
        rs = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.rs384.public_key()))
        return {"keys": [{**es, "kid": "es", "alg": "ES384"}, {**rs, "kid": "rs", "alg": "RS384"}]}

    def public_pem(self) -> bytes:
        return self.es384.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def token(
        self,
        audience: str,
        *,
        alg: str = "ES384",
        kid: str | None = "es",
        key: Any = None,
        headers: dict[str, Any] | None = None,
        **claims: Any,
    ) -> str:
        now = int(time.time())
        payload = {"iss": ISSUER, "sub": "client", "aud": audience, "iat": now, "exp": now + 240}
        payload["jti"] = str(uuid.uuid4())
        payload.update(claims)
        payload = {k: v for k, v in payload.items() if v is not None}
        signer = key if key is not None else (self.rs384 if alg.startswith("RS") else self.es384)
        header = {"kid": kid} if kid else {}
        header.update(headers or {})
        return jwt.encode(payload, signer, algorithm=alg, headers=header)


def as_served(bundle: dict[str, Any], patient: str, prefix: str) -> dict[str, Any]:
    """A bundled example as a server would hold it: ids, Type/id references, labs of 5 days ago."""
    out = copy.deepcopy(bundle)
    ids = {}
    for number, entry in enumerate(out["entry"]):
        resource = entry["resource"]
        resource["id"] = patient if resource["resourceType"] == "Patient" else f"{prefix}{number}"
        ids[entry["fullUrl"]] = f"{resource['resourceType']}/{resource['id']}"
    recent = (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=5)).isoformat()
    text = json.dumps(out)
    for old, new in ids.items():
        text = text.replace(old, new)
    text = re.sub(r'"effectiveDateTime": "[0-9-]+"', f'"effectiveDateTime": "{recent}"', text)
    return json.loads(text)


def fhir_resources() -> list[dict[str, Any]]:
    """The four Synthea bundles and the thiazide example, with references as a server has them."""
    found = []
    for path in sorted(SYNTHEA.glob("*.json")):
        bundle = json.loads(path.read_text(encoding="utf-8"))
        kinds = {e["fullUrl"]: e["resource"]["resourceType"] for e in bundle["entry"]}
        text = path.read_text(encoding="utf-8")
        for full_url, kind in kinds.items():
            text = text.replace(f'"{full_url}"', f'"{kind}/{full_url.removeprefix("urn:uuid:")}"')
        found += [e["resource"] for e in json.loads(text)["entry"]]
    thiazide = json.loads(THIAZIDE.read_text("utf-8"))
    found += [e["resource"] for e in as_served(thiazide, TWITCHING_PATIENT, "t")["entry"]]
    return found


def _about(resource: dict[str, Any], patient: str) -> bool:
    for key in ("subject", "patient"):
        ref = (resource.get(key) or {}).get("reference", "")
        if ref == f"Patient/{patient}":
            return True
    return False


def _codes(resource: dict[str, Any]) -> set[str]:
    return {
        f"{c.get('system')}|{c.get('code')}" for c in resource.get("code", {}).get("coding", [])
    }


def fhir_app(  # noqa: C901 - one small server, its routes inside
    resources: list[dict[str, Any]], jwks: dict[str, Any], hits: Counter[str]
) -> Starlette:
    """A small FHIR R4 server: read, search by patient/code/questionnaire, PAGE results a page.

    ``/junk/...`` answers JSON that is not FHIR, as a misconfigured server might.
    """
    by_type: dict[str, list[dict[str, Any]]] = {}
    for resource in resources:
        by_type.setdefault(resource["resourceType"], []).append(resource)

    def authorised(request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {FHIR_TOKEN}"

    async def read(request: Request) -> Response:
        hits[f"read {request.path_params['kind']}"] += 1
        if not authorised(request):
            return Response(status_code=401)
        kind, rid = request.path_params["kind"], request.path_params["rid"]
        for resource in by_type.get(kind, []):
            if resource.get("id") == rid:
                return JSONResponse(resource)
        return JSONResponse({"resourceType": "OperationOutcome"}, status_code=404)

    async def search(request: Request) -> Response:
        kind = request.path_params["kind"]
        hits[f"search {kind}"] += 1
        if not authorised(request):
            return Response(status_code=401)
        if kind == "Broken":
            return Response(status_code=500)
        query = request.query_params
        matches = [r for r in by_type.get(kind, []) if _about(r, query.get("patient", ""))]
        if "code" in query:
            wanted = set(query["code"].split(","))
            matches = [r for r in matches if _codes(r) & wanted]
        if "questionnaire" in query:
            matches = [r for r in matches if r.get("questionnaire") == query["questionnaire"]]
        offset = int(query.get("_offset", "0"))
        page = matches[offset : offset + PAGE]
        bundle: dict[str, Any] = {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": len(matches),
            "entry": [{"resource": r} for r in page],
        }
        if offset + PAGE < len(matches):
            params = dict(query)
            params["_offset"] = str(offset + PAGE)
            url = request.url.include_query_params(**params)
            bundle["link"] = [{"relation": "next", "url": str(url)}]
        return JSONResponse(bundle)

    async def junk(_request: Request) -> Response:
        return JSONResponse([1, 2, 3])

    async def keys(_request: Request) -> Response:
        hits["jwks"] += 1
        return JSONResponse(jwks)

    return Starlette(
        routes=[
            Route("/jwks.json", keys),
            Route("/junk/{rest:path}", junk),
            Route("/fhir/{kind}/{rid}", read),
            Route("/fhir/{kind}", search),
        ]
    )


def serving(app: Any) -> Iterator[Running]:
    running = Running(app)
    running.start()
    try:
        yield running
    finally:
        running.stop()
