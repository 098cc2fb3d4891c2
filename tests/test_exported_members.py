import subprocess
import sys

import fasciculate
import fasciculate.caches
import fasciculate.fhir


def test_all_is_exactly_the_public_surface():
    """__all__ lists every public name of the package and nothing else, sorted (dir() too)."""
    public = {
        name
        for name in dir(fasciculate)
        if not name.startswith("_")
        and not getattr(getattr(fasciculate, name), "__name__", "").startswith("fasciculate.")
    }
    assert sorted(fasciculate.__all__) == fasciculate.__all__
    assert set(fasciculate.__all__) == public


def test_every_exported_name_resolves():
    """Every name in __all__ is importable from the package."""
    for name in fasciculate.__all__:
        assert getattr(fasciculate, name) is not None


def test_import_pulls_in_no_http_or_fhir_library():
    """`import fasciculate` imports no HTTP or FHIR libraries (checked in a fresh interpreter)."""
    code = (
        "import sys, fasciculate; "
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "{'http', 'httpx', 'requests', 'urllib3', 'aiohttp', 'fhir', 'fhir_core', 'fhirclient'}]; "
        "print(','.join(bad))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_fhir_all_is_exactly_its_public_surface():
    """fasciculate.fhir.__all__ lists every public name of the subpackage, sorted."""
    public = {
        name
        for name, value in vars(fasciculate.fhir).items()
        if not name.startswith("_") and not isinstance(value, type(fasciculate))
    }
    isort_style = sorted(public, key=lambda n: (not n.isupper(), not n[0].isupper(), n))
    assert isort_style == fasciculate.fhir.__all__


def test_fasciculate_fhir_imports_no_fhir_or_http_library():
    """`import fasciculate.fhir` (and the CLI) work on plain JSON: no fhir.resources, no HTTP."""
    code = (
        "import sys, fasciculate.fhir, fasciculate.cli; "
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "{'http', 'httpx', 'requests', 'urllib3', 'aiohttp', 'fhir', 'fhir_core', 'fhirclient'}]; "
        "print(','.join(bad))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_the_public_face_includes_the_version_kb_report_and_card_types():
    """The version, the knowledge base, the text report and the CDS Hooks card types are public."""
    assert isinstance(fasciculate.__version__, str)
    assert {"knowledge_base", "KnowledgeBase", "Rule", "FactInfo", "Source", "render_text"} <= set(
        fasciculate.__all__
    )
    assert {"Card", "CardSource", "Suggestion", "Action", "Link"} <= set(fasciculate.fhir.__all__)


def test_caches_all_is_exactly_its_public_surface():
    """fasciculate.caches.__all__ lists its public names (stats, clear_all, CacheStats), sorted."""
    public = {
        name
        for name, value in vars(fasciculate.caches).items()
        if not name.startswith("_") and getattr(value, "__module__", "") != "__future__"
    }
    assert sorted(fasciculate.caches.__all__) == fasciculate.caches.__all__
    assert set(fasciculate.caches.__all__) == public
