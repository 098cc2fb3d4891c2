"""The service stays optional: the core, the FHIR adapters and the CLI import none of its stack."""

from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path

import fasciculate.service

HTTP_STACK = "{'starlette', 'uvicorn', 'httpx', 'httpcore', 'h11', 'anyio', 'jwt', 'cryptography'}"


def _imported_by(statement: str) -> list[str]:
    code = (
        f"import sys; {statement}; "
        f"print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in {HTTP_STACK} "
        "or m.startswith('fasciculate.service'))))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return [name for name in done.stdout.strip().split(",") if name]


def test_import_fasciculate_imports_no_http_library_nor_the_service():
    assert [] == _imported_by("import fasciculate, fasciculate.fhir, fasciculate.cli")


def test_import_of_the_service_defers_the_http_stack_until_an_app_is_made():
    loaded = _imported_by("import fasciculate.service")
    assert not [name for name in loaded if not name.startswith("fasciculate.service")]
    loaded = _imported_by("import fasciculate.service as s; s.create_app; s.serve")
    assert {"starlette", "uvicorn", "jwt"} <= {name.split(".")[0] for name in loaded}


def test_httpx_is_imported_by_the_first_fetch_only():
    """A service given every prefetch, its issuers' keys as files, never imports httpx."""
    demo = Path(__file__).resolve().parents[2] / "examples" / "service" / "demo.toml"
    made = (
        "from fasciculate.service import create_app, load_config; "
        f"create_app(load_config({str(demo)!r}))"
    )
    loaded = {name.split(".")[0] for name in _imported_by(made)}
    assert {"starlette", "jwt"} <= loaded
    assert "httpx" not in loaded


def test_all_is_the_public_surface():
    """__all__ is sorted and names every public name (create_app and serve load when used)."""
    typing_names = {"annotations", "TYPE_CHECKING", "Any"}
    public = {
        name
        for name, value in vars(fasciculate.service).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and name not in typing_names
    }
    assert sorted(fasciculate.service.__all__, key=lambda n: (n[0].islower(), n)) == (
        fasciculate.service.__all__
    )
    assert set(fasciculate.service.__all__) == public | {"create_app", "serve"}
    for name in fasciculate.service.__all__:
        assert getattr(fasciculate.service, name) is not None


def _frozen_after(statement: str) -> int:
    code = f"import gc; {statement}; print(gc.get_freeze_count())"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(done.stdout)


def test_the_server_process_keeps_its_start_up_objects_out_of_the_collector():
    """`serve` (each worker) freezes what start-up built; an app made to be embedded does not."""
    demo = Path(__file__).resolve().parents[2] / "examples" / "service" / "demo.toml"
    # `serve` up to the point where uvicorn would start serving (here it returns at once).
    served = (
        "import uvicorn; uvicorn.run = lambda *args, **kwargs: None; "
        "from fasciculate.service import load_config, serve; "
        f"serve(load_config({str(demo)!r}))"
    )
    assert _frozen_after(served) > 10_000
    made = (
        "from fasciculate.service import create_app, load_config; "
        f"create_app(load_config({str(demo)!r}))"
    )
    assert _frozen_after(made) == 0
