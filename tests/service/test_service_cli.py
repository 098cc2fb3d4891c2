"""`fasciculate serve` and `fasciculate feedback` as real processes, with the demo configuration,
keys and example client: the newcomer's path from one command to cards and stored feedback."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import jwt
import pytest

from fasciculate.cli import main
from service._service_support import ROOT

DEMO = ROOT / "examples" / "service"
CLIENT = DEMO / "client.py"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _demo_config(tmp_path: Path, port: int, workers: int = 1) -> Path:
    """The bundled demo configuration, moved to another port and a fresh database."""
    text = (DEMO / "demo.toml").read_text("utf-8")
    text = text.replace("8765", str(port))
    text = text.replace("workers = 1 ", f"workers = {workers} ")
    text = text.replace("../../build/demo-service.sqlite3", str(tmp_path / "service.sqlite3"))
    text = text.replace('"demo-jwks.json"', json.dumps(str(DEMO / "demo-jwks.json")))
    path = tmp_path / "demo.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _fasciculate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fasciculate", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


@pytest.fixture
def demo(tmp_path):
    port = _free_port()
    config = _demo_config(tmp_path, port, workers=2)
    server = subprocess.Popen(
        [sys.executable, "-m", "fasciculate", "serve", "--config", str(config)],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{url}/health").status_code == 200:
                break
        except httpx.TransportError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail(f"the service did not start: {server.communicate()[1]}")
            time.sleep(0.1)
    yield url, config
    server.terminate()
    _, logs = server.communicate(timeout=20)
    lines = [json.loads(line) for line in logs.splitlines() if line.strip()]
    events = [line["event"] for line in lines]
    assert 2 == events.count("started")  # two workers
    assert {"cds-call", "rejected"} & set(events)  # the calls of the test, as JSON lines
    assert "Bearer" not in logs  # no token (nor its header) is ever logged


def test_the_example_client_gets_cards_and_the_feedback_is_listed(demo, capsys):
    url, config = demo
    done = subprocess.run(
        [sys.executable, str(CLIENT), "--url", url, "--feedback", "overridden"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert 0 == done.returncode, done.stderr
    assert "1 card(s)" in done.stdout
    assert "Urgency: routine" in done.stdout
    assert 'feedback: 200 {"stored":1}' in done.stdout
    listed = _fasciculate("feedback", "--config", str(config), "--format", "json")
    assert 0 == listed.returncode, listed.stderr
    (record,) = json.loads(listed.stdout)
    assert "overridden" == record["outcome"]
    assert "https://demo-ehr.fasciculate.invalid" == record["client"]
    assert 0 == main(["feedback", "--config", str(config)])
    assert "overridden (" in capsys.readouterr().out


def test_a_token_used_on_one_worker_is_refused_on_all(demo):
    """Two workers share the replay cache: the same token twice is refused, whichever answers."""
    url, _ = demo
    key = (DEMO / "demo-client-key.pem").read_text("utf-8")
    now = int(time.time())
    claims = {
        "iss": "https://demo-ehr.fasciculate.invalid",
        "aud": f"{url}/cds-services",
        "iat": now,
        "exp": now + 60,
        "jti": "once",
    }
    token = jwt.encode(claims, key, algorithm="ES384", headers={"kid": "demo-ehr-es384"})
    statuses = []
    for _ in range(4):  # new connections, so the calls spread over the workers
        with httpx.Client() as client:
            response = client.get(
                f"{url}/cds-services", headers={"Authorization": f"Bearer {token}"}
            )
            statuses.append(response.status_code)
    assert [200, 401, 401, 401] == statuses


def test_serve_with_a_bad_configuration_says_what_is_wrong(tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text('base_url = "ftp://x"\nport = 99999\n', encoding="utf-8")
    done = _fasciculate("serve", "--config", str(config))
    assert 2 == done.returncode
    assert "base_url" in done.stderr
    assert "port" in done.stderr
    assert "Traceback" not in done.stderr


def test_serve_with_a_missing_configuration(tmp_path, capsys):
    assert 2 == main(["serve", "--config", str(tmp_path / "nothing.toml")])
    assert "cannot read the configuration" in capsys.readouterr().err


def test_a_configuration_without_clients(tmp_path, capsys):
    config = tmp_path / "open.toml"
    config.write_text('base_url = "http://127.0.0.1:1"\n', encoding="utf-8")
    assert 2 == main(["serve", "--config", str(config)])
    assert "no [[auth.issuers]]" in capsys.readouterr().err


def test_feedback_without_a_database(tmp_path, capsys):
    config = _demo_config(tmp_path, 1)
    assert 1 == main(["feedback", "--config", str(config)])
    assert "no feedback database" in capsys.readouterr().err


def test_the_demo_configuration_loads():
    from fasciculate.service import load_config  # noqa: PLC0415

    config = load_config(DEMO / "demo.toml")
    assert "http://127.0.0.1:8765" == config.base_url
    assert "127.0.0.1" == config.host
    assert config.auth.required
    assert () == config.cors_origins


def test_serve_without_the_extra_names_what_to_install():
    code = (
        "import sys; sys.modules['uvicorn'] = None; from fasciculate.cli import main; "
        f"sys.exit(main(['serve', '--config', {str(DEMO / 'demo.toml')!r}]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60
    )
    assert 1 == done.returncode
    assert "pip install 'fasciculate[service]'" in done.stderr
    assert "uvicorn" in done.stderr
    assert "Traceback" not in done.stderr


def test_serve_with_an_unusable_jwks_file(tmp_path, capsys):
    (tmp_path / "keys.json").write_text('{"keys": "none"}', encoding="utf-8")
    config = tmp_path / "service.toml"
    config.write_text(
        'base_url = "http://127.0.0.1:1"\n[[auth.issuers]]\niss = "x"\njwks_file = "keys.json"\n',
        encoding="utf-8",
    )
    assert 2 == main(["serve", "--config", str(config)])
    assert "JWKS file cannot be used" in capsys.readouterr().err


def test_a_configuration_that_is_not_toml(tmp_path, capsys):
    config = tmp_path / "service.toml"
    config.write_text("base_url = ", encoding="utf-8")
    assert 2 == main(["feedback", "--config", str(config)])
    assert "not valid TOML" in capsys.readouterr().err
