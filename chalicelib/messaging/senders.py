"""The outside world a step talks to, behind small interfaces with AWS implementations:
SMS through SNS ``Publish`` to a number (moto has it; End User Messaging SMS it has not),
email through SES v2, and scripts through a Lambda invoke: asynchronous for steps and forms,
synchronous with a short budget for tracked links (whose answer may change the redirect)."""

from __future__ import annotations

import json
import os
from email.message import EmailMessage
from typing import Any, Protocol

from chalicelib.aws import client, quick_client


class SmsSender(Protocol):
    def send(self, to: str, text: str, sender: str | None) -> str:
        """Send one SMS to an E.164 number; the provider's message id."""


class EmailSender(Protocol):
    def send(self, message: EmailMessage) -> str:
        """Send one MIME message (From, To and headers set); the provider's message id."""


class ScriptInvoker(Protocol):
    def call(self, function_arn: str, payload: dict[str, Any], timeout_s: float) -> Any:
        """Run the script and wait (at most ``timeout_s``) for what it returns (JSON)."""

    def invoke(self, function_arn: str, payload: dict[str, Any]) -> str:
        """Start a script without waiting for it; the invocation's request id."""


class SnsSms:
    def send(self, to: str, text: str, sender: str | None) -> str:
        attributes = {"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}}
        if sender:
            attributes["AWS.SNS.SMS.SenderID"] = {"DataType": "String", "StringValue": sender}
        response = client("sns").publish(PhoneNumber=to, Message=text, MessageAttributes=attributes)
        return str(response["MessageId"])


# Headers a step sets to tag its message (tenant, flow, step, participant); SES gets them as
# message tags, which come back on bounce and complaint events, and they leave the message.
TAG_HEADER_PREFIX = "X-Flows-Tag-"


class SesEmail:
    def send(self, message: EmailMessage) -> str:
        tags = []
        for name in [h for h in message if h.startswith(TAG_HEADER_PREFIX)]:
            value = str(message[name])
            del message[name]
            tags.append({"Name": "flows-" + name.removeprefix(TAG_HEADER_PREFIX).lower(),
                         "Value": value})  # fmt: skip
        extra: dict[str, Any] = {"EmailTags": tags} if tags else {}
        configuration_set = os.environ.get("FLOWS_SES_CONFIGURATION_SET")
        if configuration_set:
            extra["ConfigurationSetName"] = configuration_set
        response = client("sesv2").send_email(
            FromEmailAddress=str(message["From"]),
            Destination={"ToAddresses": [str(message["To"])]},
            Content={"Raw": {"Data": message.as_bytes()}},
            **extra,
        )
        return str(response["MessageId"])


class LambdaScripts:
    def call(self, function_arn: str, payload: dict[str, Any], timeout_s: float) -> Any:
        response = quick_client("lambda", timeout_s).invoke(
            FunctionName=function_arn,
            InvocationType="RequestResponse",
            Payload=json.dumps(payload).encode(),
        )
        if response.get("FunctionError"):
            raise RuntimeError(f"the script failed: {response['FunctionError']}")
        body = response["Payload"].read()
        return json.loads(body) if body else None

    def invoke(self, function_arn: str, payload: dict[str, Any]) -> str:
        response = client("lambda").invoke(
            FunctionName=function_arn,
            InvocationType="Event",
            Payload=json.dumps(payload).encode(),
        )
        return str(response.get("ResponseMetadata", {}).get("RequestId", ""))
