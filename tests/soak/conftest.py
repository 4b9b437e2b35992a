"""The soak reuses the functional tests' in-process moto and chalice client."""

from tests.functional.conftest import aws, chalice_client  # noqa: F401
