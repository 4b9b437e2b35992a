"""The packaged template, once per session.

``make test`` packages first (``make package``) and points ``FLOWS_TEMPLATE`` at
build/template.json, so cfn-lint and these tests read the same file; run alone, the fixture
packages the dev stage into a temporary directory itself.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from infra.package import main as package

Template = dict[str, Any]


def packaged(stage: str, out: Path) -> Template:
    assert package(["--stage", stage, "--out", str(out)]) == 0
    loaded: Template = json.loads((out / "template.json").read_text())
    return loaded


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    given = os.environ.get("FLOWS_TEMPLATE")
    if given:
        loaded: Template = json.loads(Path(given).read_text())
        return loaded
    return packaged("dev", tmp_path_factory.mktemp("package-dev"))


@pytest.fixture(scope="session")
def resources(template: Template) -> dict[str, Any]:
    found: dict[str, Any] = template["Resources"]
    return found
