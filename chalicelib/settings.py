"""Settings, read once from the environment.

Every table name, queue name and the schedule group derive from the stage and an optional
prefix, so one AWS account can hold several stages and the local stack needs no configuration.
A deployment names them instead: the template (infra/) hands each function the physical names
of what it created (``FLOWS_TABLE_<NAME>``, ``FLOWS_QUEUE_<NAME>``, ``FLOWS_ATTACHMENTS_BUCKET``,
``FLOWS_SCHEDULE_GROUP``, ``FLOWS_SCHEDULER_ROLE_ARN``), and those win over the derived ones.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache

TABLES = (
    "tenants",
    "api_keys",
    "crm",
    "memberships",
    "activities",
    "flows",
    "flow_versions",
    "participants",
    "journal",
    "trigger_index",
    "engagement",
)
QUEUES = ("steps", "control", "ses_events")
# The names a deployment sets besides FLOWS_TABLE_<NAME> and FLOWS_QUEUE_<NAME>.
_NAMED = ("FLOWS_ATTACHMENTS_BUCKET", "FLOWS_SCHEDULE_GROUP", "FLOWS_SCHEDULER_ROLE_ARN")


@dataclass(frozen=True)
class Settings:
    stage: str
    region: str
    prefix: str
    operator_key: str
    account_id: str
    sqs_delay_limit_s: int
    public_base_url: str
    signing_key: str
    # Names set by the deployment (the FLOWS_* variables above), by variable name.
    names: Mapping[str, str] = field(default_factory=dict)

    def table(self, name: str) -> str:
        """The physical name of one of TABLES."""
        return self.names.get(f"FLOWS_TABLE_{name.upper()}") or f"{self.prefix}{name}"

    def queue_name(self, name: str) -> str:
        return self.names.get(f"FLOWS_QUEUE_{name.upper()}") or f"{self.prefix}{name}"

    def dlq_name(self, name: str) -> str:
        return f"{self.prefix}{name}-dlq"

    @property
    def attachments_bucket(self) -> str:
        return (
            self.names.get("FLOWS_ATTACHMENTS_BUCKET")
            or f"{self.prefix}attachments-{self.account_id}"
        )

    @property
    def scheduler_role_arn(self) -> str:
        """The role EventBridge Scheduler assumes to post wake messages."""
        return (
            self.names.get("FLOWS_SCHEDULER_ROLE_ARN")
            or f"arn:aws:iam::{self.account_id}:role/{self.prefix}scheduler"
        )

    @property
    def schedule_group(self) -> str:
        return self.names.get("FLOWS_SCHEDULE_GROUP") or f"{self.prefix}wakes"


@cache
def get_settings() -> Settings:
    """The process's settings. Read once; tests and the local stack set the environment first."""
    stage = os.environ.get("FLOWS_STAGE", "dev")
    return Settings(
        stage=stage,
        region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
        prefix=os.environ.get("FLOWS_PREFIX", f"flows-{stage}-"),
        operator_key=os.environ.get("FLOWS_OPERATOR_KEY", ""),
        account_id=os.environ.get("FLOWS_ACCOUNT_ID", "123456789012"),
        sqs_delay_limit_s=int(os.environ.get("FLOWS_SQS_DELAY_LIMIT_S", "900")),
        public_base_url=os.environ.get("FLOWS_PUBLIC_BASE_URL", "http://127.0.0.1:8000"),
        # Signs tracked-link, open and unsubscribe tokens; a deployment sets its own secret.
        signing_key=os.environ.get("FLOWS_SIGNING_KEY", ""),
        names={
            key: value
            for key, value in os.environ.items()
            if value and (key in _NAMED or key.startswith(("FLOWS_TABLE_", "FLOWS_QUEUE_")))
        },
    )
