"""The outside world a step talks to, behind small interfaces with AWS implementations:
SMS through SNS ``Publish`` to a number (moto has it; End User Messaging SMS it has not),
email through SES v2, and scripts through an asynchronous Lambda invoke."""

from __future__ import annotations

import json
from email.message import EmailMessage
from typing import Any, Protocol

from chalicelib.aws import client


class SmsSender(Protocol):
    def send(self, to: str, text: str, sender: str | None) -> str:
        """Send one SMS to an E.164 number; the provider's message id."""


class EmailSender(Protocol):
    def send(self, message: EmailMessage) -> str:
        """Send one MIME message (From, To and headers set); the provider's message id."""


class ScriptInvoker(Protocol):
    def invoke(self, function_arn: str, payload: dict[str, Any]) -> str:
        """Start a script without waiting for it; the invocation's request id."""


class SnsSms:
    def send(self, to: str, text: str, sender: str | None) -> str:
        attributes = {"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}}
        if sender:
            attributes["AWS.SNS.SMS.SenderID"] = {"DataType": "String", "StringValue": sender}
        response = client("sns").publish(PhoneNumber=to, Message=text, MessageAttributes=attributes)
        return str(response["MessageId"])


class SesEmail:
    def send(self, message: EmailMessage) -> str:
        response = client("sesv2").send_email(
            FromEmailAddress=str(message["From"]),
            Destination={"ToAddresses": [str(message["To"])]},
            Content={"Raw": {"Data": message.as_bytes()}},
        )
        return str(response["MessageId"])


class LambdaScripts:
    def invoke(self, function_arn: str, payload: dict[str, Any]) -> str:
        response = client("lambda").invoke(
            FunctionName=function_arn,
            InvocationType="Event",
            Payload=json.dumps(payload).encode(),
        )
        return str(response.get("ResponseMetadata", {}).get("RequestId", ""))
