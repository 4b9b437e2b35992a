"""Attack tests: the functional tests' in-process moto, chalice client and tenants."""

from tests.functional.conftest import (  # noqa: F401
    admin,
    anon,
    aws,
    chalice_client,
    engine,
    other,
    public,
    scripts,
    world,
)
