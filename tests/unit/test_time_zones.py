"""The list of time zones is read from disk once, not on every validation: a tenant's settings
are validated on every step that reads them, and listing the zones walks the zone files."""

from __future__ import annotations

import os
from typing import Any

import pytest
from pydantic import ValidationError

from chalicelib.clock import time_zones
from chalicelib.tenants.models import TenantSettings


def test_validating_settings_walks_the_zone_files_once(monkeypatch: pytest.MonkeyPatch) -> None:
    walked: list[str] = []
    real_walk = os.walk

    def counting_walk(top: Any, *args: Any, **kwargs: Any) -> Any:
        walked.append(str(top))
        return real_walk(top, *args, **kwargs)

    monkeypatch.setattr(os, "walk", counting_walk)
    time_zones.cache_clear()
    for _ in range(3):
        TenantSettings.model_validate({"timezone": "Europe/Oslo"})
    once = len(walked)
    assert once > 0
    TenantSettings.model_validate({"timezone": "America/New_York"})
    with pytest.raises(ValidationError):
        TenantSettings.model_validate({"timezone": "Mars/Olympus_Mons"})
    assert len(walked) == once
