"""A real SDC renderer round-trips the intake: LHC-Forms in headless Chromium.

The questionnaire is rendered by LHC-Forms (npm ``lforms``, pinned in ``package-lock.json``) in the
system's Chromium, driven by ``tests/renderer/drive.mjs`` (puppeteer-core): answers are typed and
chosen as a person would, and the QuestionnaireResponse is LHC-Forms' own export
(``LForms.Util.getFormFHIRData``). The page is served by a real HTTP server on the loopback
interface. ``make test`` installs the npm packages (``npm ci``); ``.ci/run`` installs Chromium
(Debian) when it is missing. Outside CI, a machine without node, Chromium or the npm packages
skips these tests and says why; in CI (``CI=true``) they fail instead.
"""

from __future__ import annotations

import http.server
import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

import fasciculate
from fasciculate import Presentation
from fasciculate.fhir import (
    presentation_from_questionnaire_response,
    questionnaire,
    questionnaire_response,
)

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
RENDERER = Path(__file__).resolve().parent / "renderer"
LFORMS = ROOT / "node_modules" / "lforms" / "dist" / "lforms"
_TYPES = {
    ".html": "text/html",
    ".js": "text/javascript",
    ".css": "text/css",
    ".json": "application/json",
}


def _chromium() -> str | None:
    return next(filter(None, map(shutil.which, ("chromium", "chromium-browser"))), None)


def _missing() -> str | None:
    if shutil.which("node") is None:
        return "node is not installed"
    if _chromium() is None:
        return "chromium is not installed (Debian: apt-get install chromium)"
    if not (LFORMS.is_dir() and (ROOT / "node_modules" / "puppeteer-core").is_dir()):
        return "the npm packages are not installed (npm ci)"
    return None


@pytest.fixture(scope="module")
def chromium() -> str:
    """The browser's path; a skip with the reason where it cannot run (a failure in CI)."""
    reason = _missing()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the renderer test must run in CI: {reason}")
        pytest.skip(reason)
    return _chromium()  # type: ignore[return-value]


class _Site(http.server.ThreadingHTTPServer):
    """The page, the questionnaire, an optional response to load, and the LHC-Forms files."""

    response: dict[str, Any] | None = None


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Site

    def do_GET(self) -> None:
        body = self._body()
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header(
            "Content-Type", _TYPES.get(Path(self.path).suffix or ".html", "text/plain")
        )
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> bytes | None:
        if self.path == "/":
            return (RENDERER / "form.html").read_bytes()
        if self.path == "/questionnaire.json":
            return json.dumps(questionnaire()).encode()
        if self.path == "/response.json":
            return (
                None if self.server.response is None else json.dumps(self.server.response).encode()
            )
        if self.path.startswith("/lforms/"):
            file = (LFORMS / self.path.removeprefix("/lforms/")).resolve()
            if file.is_relative_to(LFORMS) and file.is_file():
                return file.read_bytes()
        return None

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base's name
        """Quiet: the test reports what matters."""


@pytest.fixture(scope="module")
def site() -> Iterator[_Site]:
    """A real HTTP server on a free loopback port, stopped after the module."""
    server = _Site(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _drive(site: _Site, chromium: str, tmp_path: Path, **plan: object) -> dict[str, Any]:
    host, port = site.server_address[:2]
    file = tmp_path / "plan.json"
    file.write_text(json.dumps({"url": f"http://{host}:{port}/", "chromium": chromium, **plan}))
    done = subprocess.run(
        [shutil.which("node") or "node", str(RENDERER / "drive.mjs"), str(file)],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        cwd=ROOT,
    )
    assert 0 == done.returncode, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    assert [] == result["errors"]
    return result


#: Answers typed or chosen in the form: (linkId, words, how they are given).
ANSWERS = [
    ("patient.age", "42", "text"),
    ("patient.sex", "female", "choice"),
    ("twitching.duration_days", "30", "text"),
    ("findings.weakness", "Yes", "choice"),
    ("findings.pain", "No", "choice"),
    ("findings.cramps", "Unknown", "choice"),
    ("exposures.sleep_hours", "6.5", "text"),
    ("medications.code", "sertraline", "text"),
    ("labs.analyte", "potassium", "choice"),
    ("labs.value", "2.3", "text"),
    ("unit_labs.value", "mmol/L", "choice"),
]


def test_answers_given_in_lhc_forms_read_back_into_the_presentation(site, chromium, tmp_path):
    """Render, fill, export with LHC-Forms' own API, read back, assess: the answers, exactly."""
    site.response = None
    screenshot = tmp_path / "form.png"
    steps = [{"fill": ANSWERS}]
    result = _drive(site, chromium, tmp_path, steps=steps, screenshot=str(screenshot))
    exported = result["response"]
    QuestionnaireResponse.model_validate(exported)
    expected = Presentation.model_validate(
        {
            "patient": {"age": 42, "sex": "female"},
            "twitching": {"duration_days": 30},
            "findings": {"weakness": "present", "pain": "absent", "cramps": "unknown"},
            "exposures": {"sleep_hours": 6.5},
            "medications": [{"name": "sertraline"}],
            "labs": [{"analyte": "potassium", "value": 2.3, "unit": "mmol/L"}],
        }
    )
    presentation = presentation_from_questionnaire_response(exported)
    assert expected == presentation
    assert "emergency" == fasciculate.assess(presentation).urgency
    assert screenshot.read_bytes().startswith(b"\x89PNG")
    if keep := os.environ.get("FASCICULATE_SCREENSHOT"):  # docs/_static/lhc-forms-intake.png
        shutil.copyfile(screenshot, keep)


#: A presentation fasciculate writes as a response, with an answer of every kind the form has.
WRITTEN = {
    "assessed_on": "2026-11-20",
    "patient": {"age": 67, "sex": "male"},
    "twitching": {
        "regions": ["calf", "anterior_thigh"],
        "side": "left",
        "onset_date": "2026-08-01",
        "course": "worsening",
        "frequency": "daily",
        "at_rest": "present",
    },
    "findings": {"weakness": "present", "visible_wasting": "present", "numbness": "absent"},
    "examination": {"knee_reflex": "brisk", "babinski": "unknown", "power": {"knee_extension": 4}},
    "exposures": {"caffeine_mg_per_day": 150, "sleep_hours": 7.5, "stress": "moderate"},
    "medications": [{"name": "atorvastatin", "drug_class": "statin"}],
    "labs": [
        {"analyte": "creatine_kinase", "value": 850, "unit": "U/L"},
        {"analyte": "potassium", "interpretation": "L"},
    ],
}


def test_a_response_fasciculate_wrote_loads_into_lhc_forms_and_exports_the_same(
    site, chromium, tmp_path
):
    """fasciculate's response, loaded into the form and exported again: the same presentation."""
    written = Presentation.model_validate(WRITTEN)
    site.response = questionnaire_response(written)
    try:
        result = _drive(site, chromium, tmp_path, steps=[])
    finally:
        site.response = None
    assert written == presentation_from_questionnaire_response(result["response"])


def _no(*findings: str) -> list[tuple[str, str, str]]:
    return [(f"findings.{finding}", "No", "choice") for finding in findings]


def test_a_question_not_indicated_is_hidden_until_its_indicator_is_answered_yes(
    site, chromium, tmp_path
):
    """kb/indications.toml in the form: enableWhen (fever, back pain) and FHIRPath (falls)."""
    site.response = None
    watched = ["findings.fever", "findings.falls"]
    denied = [
        *_no("back_pain", "weakness", "visible_wasting", "walking_difficulty", "spreading"),
        ("twitching.course", "stable", "choice"),
        ("twitching.regions", "calf", "choice"),
    ]
    expected = [
        {"findings.fever": True, "findings.falls": True},  # an unanswered indicator indicates
        {"findings.fever": False, "findings.falls": False},
        {"findings.fever": True, "findings.falls": False},
        {"findings.fever": True, "findings.falls": True},
    ]
    fills = [
        [],
        denied,
        [("findings.back_pain", "Yes", "choice")],
        [("findings.spreading", "Yes", "choice")],
    ]
    steps = [
        {"fill": fill, "visible": watched, "expect": shows}
        for fill, shows in zip(fills, expected, strict=True)
    ]
    assert expected == _drive(site, chromium, tmp_path, steps=steps)["shown"]
