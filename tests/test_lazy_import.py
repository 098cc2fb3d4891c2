"""`import fasciculate` is cheap: no knowledge base, none of the modules behind its names.

Each check runs in a fresh interpreter, so nothing imported by the test session counts. Speed
itself is measured by ``benchmarks/bench_import.py``; these tests keep the laziness from slipping
back unnoticed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import fasciculate
from conftest import ROOT

#: Records every file opened from the knowledge base's directory (an audit hook sees each open).
_WATCH = """\
import json, sys
read = []
def _hook(event, args):
    if event == "open" and isinstance(args[0], str) and "/fasciculate/kb/" in args[0]:
        read.append(args[0].rsplit("/", 1)[-1])
sys.addaudithook(_hook)
before = set(sys.modules)
"""


def _run(code: str, *, path: Path | None = None) -> dict[str, object]:
    """Run *code* after :data:`_WATCH` in a fresh interpreter; the JSON it prints last."""
    env = dict(os.environ)
    if path is not None:
        env["PYTHONPATH"] = str(path)
    done = subprocess.run(
        [sys.executable, "-c", _WATCH + code],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        timeout=120,
    )
    assert 0 == done.returncode, done.stderr
    result: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return result


def test_import_fasciculate_loads_nothing_but_the_package_and_its_version():
    """No knowledge base, no pydantic, attrs, TOML parser or package metadata: two small modules."""
    result = _run(
        "import fasciculate\n"
        "print(json.dumps({'new': sorted(set(sys.modules) - before), 'read': read, "
        "'version': fasciculate.__version__}))"
    )
    assert {"new": ["fasciculate", "fasciculate._version"], "read": []} == {
        "new": result["new"],
        "read": result["read"],
    }
    assert fasciculate.__version__ == result["version"]


def test_importing_the_names_reads_no_knowledge_base_until_the_first_assessment():
    """`from fasciculate import ...` builds the modules; the first assess() reads the tables."""
    result = _run(
        "from fasciculate import Assessment, Presentation, assess, knowledge_base\n"
        "imported = list(read)\n"
        "assess({})\n"
        "print(json.dumps({'imported': imported, 'assessed': sorted(set(read))}))"
    )
    assert [] == result["imported"]
    assert {"rules.toml", "facts.toml", "sources.toml"} <= set(result["assessed"])


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('source = "seed-article"', 'source = "no-such-source"', "cites unknown source"),
        ("[[rule]]", "[[rule]", "kb/rules.toml is not valid UTF-8 TOML"),
    ],
)
def test_a_broken_knowledge_base_fails_at_first_use_with_knowledge_base_error(
    tmp_path: Path, old: str, new: str, message: str
):
    """A copy of the package with a broken rule table imports, then fails to assess, clearly."""
    package = tmp_path / "fasciculate"
    shutil.copytree(
        ROOT / "src" / "fasciculate", package, ignore=shutil.ignore_patterns("__pycache__")
    )
    rules = package / "kb" / "rules.toml"
    rules.write_text(rules.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")
    result = _run(
        "import fasciculate\n"
        "from fasciculate import KnowledgeBaseError, assess\n"
        "try:\n"
        "    assess({})\n"
        "except KnowledgeBaseError as error:\n"
        "    message = str(error)\n"
        "print(json.dumps({'file': fasciculate.__file__, 'message': message}))",
        path=tmp_path,
    )
    assert str(package / "__init__.py") == result["file"]
    assert message in str(result["message"])


def test_dir_and_star_import_list_every_public_name_before_it_is_imported():
    """dir() and `from fasciculate import *` give all of __all__ in a fresh interpreter."""
    result = _run(
        "import fasciculate\n"
        "listed = dir(fasciculate)\n"
        "namespace = {}\n"
        "exec('from fasciculate import *', namespace)\n"
        "print(json.dumps({'dir': listed, 'star': sorted(set(namespace) - {'__builtins__'})}))"
    )
    assert set(fasciculate.__all__) <= set(result["dir"])
    assert sorted(fasciculate.__all__) == result["star"]


def test_an_unknown_name_is_an_attribute_error():
    """A name the package does not have raises AttributeError (so hasattr and getattr work)."""
    assert not hasattr(fasciculate, "asess")
    assert "Assessment" in dir(fasciculate)
    assert fasciculate.Assessment is fasciculate.assess({}).__class__
