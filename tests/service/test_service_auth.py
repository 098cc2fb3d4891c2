"""Client JWTs: each way a token can be wrong gets a bare 401; good tokens get through once."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest

from service._service_support import ISSUER, TWITCHING_PATIENT

DISCOVERY = "/cds-services"
PATIENT_VIEW = "/cds-services/fasciculate-patient-view"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(header: dict, claims: dict, signature: bytes = b"") -> str:
    head = _b64(json.dumps(header).encode())
    body = _b64(json.dumps(claims).encode())
    return f"{head}.{body}.{_b64(signature)}"


def _claims(aud: str, **changes) -> dict:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": aud, "iat": now, "exp": now + 240, "jti": f"j{time.time_ns()}"}
    claims.update(changes)
    return claims


def _bare_401(response) -> None:
    assert 401 == response.status_code
    assert b"" == response.content
    assert "Bearer" == response.headers["www-authenticate"]


def _hook(cds):
    return cds.request("patient-view", TWITCHING_PATIENT)


def test_a_good_token_gets_through(cds):
    assert 200 == cds.get(DISCOVERY).status_code
    assert 200 == cds.post(PATIENT_VIEW, _hook(cds)).status_code


def test_rs384_is_accepted(cds):
    token = cds.token(PATIENT_VIEW, alg="RS384", kid="rs")
    assert 200 == cds.post(PATIENT_VIEW, _hook(cds), token=token).status_code


def test_missing_token(cds):
    _bare_401(cds.get(DISCOVERY, token=None))
    _bare_401(cds.post(PATIENT_VIEW, _hook(cds), token=None))
    _bare_401(cds.post(PATIENT_VIEW + "/feedback", {"feedback": []}, token=None))


def test_not_a_bearer_token(cds):
    response = cds.http.get(DISCOVERY, headers={"Authorization": "Basic dXNlcjpwYXNz"})
    _bare_401(response)


def test_garbage_token(cds):
    _bare_401(cds.get(DISCOVERY, token="not.a.jwt"))  # noqa: S106 - a malformed token


@pytest.mark.parametrize(
    "token",
    [
        "two.segments",
        "a.b.c.d",
        "!!!.!!!.sig",
        _b64(b"[1, 2]") + "." + _b64(b"{}") + ".sig",
        _b64(b'{"alg": "ES384"}') + "." + _b64(b'"a string"') + ".sig",
        _b64(b"[" * 5000 + b"]" * 5000) + "." + _b64(b"{}") + ".sig",
        _b64(b"\xff\xfe") + "." + _b64(b"{}") + ".sig",
    ],
    ids=["two", "four", "not-base64", "array", "string", "deep", "not-utf8"],
)
def test_malformed_tokens(cds, token):
    _bare_401(cds.get(DISCOVERY, token=token))


def test_alg_none(cds):
    token = _unsigned({"alg": "none", "typ": "JWT", "kid": "es"}, _claims(cds.url + DISCOVERY))
    _bare_401(cds.get(DISCOVERY, token=token))


def test_hs384_with_the_public_key_as_secret(cds):
    """The algorithm-confusion attack: an HMAC keyed with the client's public key."""
    header = {"alg": "HS384", "typ": "JWT", "kid": "es"}
    unsigned = _unsigned(header, _claims(cds.url + DISCOVERY)).rsplit(".", 1)[0]
    signature = hmac.new(cds.keys.public_pem(), unsigned.encode(), hashlib.sha384).digest()
    _bare_401(cds.get(DISCOVERY, token=f"{unsigned}.{_b64(signature)}"))


def test_rs256_is_refused(cds):
    _bare_401(cds.get(DISCOVERY, token=cds.token(DISCOVERY, alg="RS256", kid="rs")))


def test_es384_header_with_the_rsa_kid(cds):
    token = cds.keys.token(cds.url + DISCOVERY, alg="ES384", kid="rs")
    _bare_401(cds.get(DISCOVERY, token=token))


def test_wrong_audience(cds):
    """A token for discovery cannot call a service, nor one for another host."""
    _bare_401(cds.post(PATIENT_VIEW, _hook(cds), token=cds.token(DISCOVERY)))
    token = cds.keys.token("https://elsewhere.example" + PATIENT_VIEW)
    _bare_401(cds.post(PATIENT_VIEW, _hook(cds), token=token))


def test_expired(cds):
    now = int(time.time())
    _bare_401(cds.get(DISCOVERY, token=cds.token(DISCOVERY, iat=now - 400, exp=now - 120)))


def test_issued_in_the_future(cds):
    now = int(time.time())
    _bare_401(cds.get(DISCOVERY, token=cds.token(DISCOVERY, iat=now + 120, exp=now + 240)))


def test_within_the_skew_is_accepted(cds):
    now = int(time.time())
    assert 200 == cds.get(DISCOVERY, token=cds.token(DISCOVERY, iat=now + 30)).status_code


def test_lifetime_too_long(cds):
    now = int(time.time())
    _bare_401(cds.get(DISCOVERY, token=cds.token(DISCOVERY, exp=now + 3600)))


@pytest.mark.parametrize("claim", ["iss", "aud", "exp", "iat", "jti"])
def test_missing_claim(cds, claim):
    _bare_401(cds.get(DISCOVERY, token=cds.token(DISCOVERY, **{claim: None})))


def test_issuer_not_allowed(cds):
    _bare_401(cds.get(DISCOVERY, token=cds.token(DISCOVERY, iss="https://other-ehr.example")))


def test_unknown_kid(cds):
    _bare_401(cds.get(DISCOVERY, token=cds.token(DISCOVERY, kid="nobody")))


def test_missing_kid(cds):
    _bare_401(cds.get(DISCOVERY, token=cds.token(DISCOVERY, kid=None)))


def test_known_kid_wrong_key(cds):
    _bare_401(cds.get(DISCOVERY, token=cds.token(DISCOVERY, key=cds.keys.unknown)))


def test_allowed_jku(cds, fhir_hits):
    token = cds.token(DISCOVERY, headers={"jku": f"{cds.fhir.url}/jwks.json"})
    assert 200 == cds.get(DISCOVERY, token=token).status_code
    assert fhir_hits["jwks"] >= 1


def test_disallowed_jku(cds, fhir_hits):
    before = fhir_hits["jwks"]
    token = cds.token(DISCOVERY, headers={"jku": f"{cds.fhir.url}/jwks.json?evil=1"})
    _bare_401(cds.get(DISCOVERY, token=token))
    assert before == fhir_hits["jwks"]  # never fetched


def test_replayed_jti(cds):
    token = cds.token(PATIENT_VIEW)
    assert 200 == cds.post(PATIENT_VIEW, _hook(cds), token=token).status_code
    _bare_401(cds.post(PATIENT_VIEW, _hook(cds), token=token))


def test_auth_can_be_turned_off(make_service):
    cds = make_service(auth={"required": False})
    assert 200 == cds.get(DISCOVERY, token=None).status_code


def test_the_replay_cache_is_shared_through_the_database(make_service, cds):
    """Two servers on one database (two workers behind one URL): a token works once in all."""
    twin = make_service(base_url=cds.url, database=cds.config.database)
    token = cds.token(DISCOVERY)
    assert 200 == cds.get(DISCOVERY, token=token).status_code
    _bare_401(twin.get(DISCOVERY, token=token))
    other = cds.token(DISCOVERY)
    assert 200 == twin.get(DISCOVERY, token=other).status_code
    _bare_401(cds.get(DISCOVERY, token=other))


def test_a_jku_that_cannot_be_fetched(make_service, fhir):
    missing = f"{fhir.url}/no-such-jwks.json"
    cds = make_service(auth={"issuers": [{"iss": ISSUER, "jku": [missing]}]})
    _bare_401(cds.get(DISCOVERY, token=cds.token(DISCOVERY, headers={"jku": missing})))
