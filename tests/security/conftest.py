"""Attack tests: the functional tests' in-process moto, chalice client and tenants."""

from tests.functional.conftest import admin, anon, aws, chalice_client, other  # noqa: F401
