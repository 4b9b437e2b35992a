"""Create every table, queue and schedule group the product needs.

Used by the tests (on moto) and the local stack; production gets the same resources from the
deployable template in infra/.
"""

from __future__ import annotations

import json

from botocore.exceptions import ClientError

from chalicelib.aws import client
from chalicelib.settings import QUEUES, TABLES, get_settings
from chalicelib.store.models import ALL_MODELS, ttl_attribute

MAX_RECEIVE_COUNT = 5
VISIBILITY_TIMEOUT_S = 120


def create_resources() -> None:
    """Create all tables (with their GSIs), queues (each with a DLQ), the attachments bucket and
    the schedule group.

    Idempotent: what exists already is left as it is.
    """
    settings = get_settings()
    names = {model.Meta.table_name for model in ALL_MODELS}
    assert names == {settings.table(name) for name in TABLES}, "settings.TABLES is out of date"
    dynamodb = client("dynamodb")
    for model in ALL_MODELS:
        if not model.exists():
            model.create_table(billing_mode="PAY_PER_REQUEST", wait=False)
        ttl = ttl_attribute(model.Meta.table_name)
        if ttl is None:
            continue
        table = model.Meta.table_name
        status = dynamodb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
        if status.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
            dynamodb.update_time_to_live(
                TableName=table,
                TimeToLiveSpecification={"AttributeName": ttl, "Enabled": True},
            )
    sqs = client("sqs")
    for name in QUEUES:
        dlq_url = sqs.create_queue(QueueName=settings.dlq_name(name))["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVE_COUNT)}
        sqs.create_queue(
            QueueName=settings.queue_name(name),
            Attributes={
                "RedrivePolicy": json.dumps(redrive),
                "VisibilityTimeout": str(VISIBILITY_TIMEOUT_S),
            },
        )
    s3 = client("s3")
    if settings.region == "us-east-1":
        s3.create_bucket(Bucket=settings.attachments_bucket)
    else:
        s3.create_bucket(
            Bucket=settings.attachments_bucket,
            CreateBucketConfiguration={"LocationConstraint": settings.region},
        )
    try:
        client("scheduler").create_schedule_group(Name=settings.schedule_group)
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConflictException":
            raise
