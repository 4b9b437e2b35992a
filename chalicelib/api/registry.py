"""The one list of operations every area adds to; app.py mounts it, /openapi.json reads it."""

from __future__ import annotations

from chalicelib.api.routing import Api

api = Api()
