"""The configuration reference names every setting the configuration model accepts."""

from __future__ import annotations

from fasciculate.service import Auth, Issuer, ServiceConfig
from service._service_support import ROOT

PAGE = ROOT / "docs" / "reference" / "service-config.md"


def test_every_setting_is_documented():
    text = PAGE.read_text("utf-8")
    for model in (ServiceConfig, Auth, Issuer):
        for name in model.model_fields:
            if name != "auth":
                assert f"| `{name}` |" in text, f"{model.__name__}.{name} is not in {PAGE.name}"
