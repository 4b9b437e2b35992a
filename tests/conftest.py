"""Test set-up: fake AWS credentials and one in-process moto for the whole session.

Every key in the product starts with the tenant id, so each test makes its own tenant and
needs no reset between tests.
"""

from __future__ import annotations

import os

os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "FLOWS_STAGE": "test",
        "FLOWS_OPERATOR_KEY": "operator-test-key",
        "FLOWS_SIGNING_KEY": "signing-test-key",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)

from chalicelib import moto_speedups
from chalicelib.api import gateway

# The local stack (a subprocess): one per session for tests/browser and tests/contract alike.
from tests.local_stack import local_stack  # noqa: F401

moto_speedups.install()
gateway.install_local()
