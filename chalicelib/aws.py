"""Lazy, cached boto3 clients: nothing touches AWS at import time.

The endpoint comes from botocore's own configuration (``AWS_ENDPOINT_URL``), which is how the
local stack points every client, PynamoDB's included, at moto's server.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

from chalicelib.settings import get_settings


@cache
def client(service: str) -> Any:
    """The process-wide boto3 client for ``service`` in the configured region."""
    return boto3.session.Session().client(service, region_name=get_settings().region)


@cache
def queue_url(name: str) -> str:
    """The url of one of the product's queues (``steps`` or ``control``)."""
    response = client("sqs").get_queue_url(QueueName=get_settings().queue_name(name))
    return str(response["QueueUrl"])


@cache
def quick_client(service: str, timeout_s: float) -> Any:
    """A client that gives up after ``timeout_s`` and never retries: for calls made while a
    person waits (a tracked link's script)."""
    config = Config(connect_timeout=timeout_s, read_timeout=timeout_s, retries={"max_attempts": 0})
    session = boto3.session.Session()
    return session.client(service, region_name=get_settings().region, config=config)


def reset_caches() -> None:
    """Forget cached clients and urls (tests that restart moto call this)."""
    client.cache_clear()
    quick_client.cache_clear()
    queue_url.cache_clear()
