"""Each Lambda function's IAM policy: the tables, queues and actions its code path uses.

Read from the code (which boto3/PynamoDB call each entry point reaches), not from a wish list:

- ``api_key_authorizer`` only looks a key up by its hash (``store.tenants.key_by_hash``).
- ``api_handler`` is the whole HTTP API: every table, posting to ``steps``/``control``,
  dispatching a participant (which may create its wake bucket's schedule), sender domains
  (SES identities), attachment checks (S3 HEAD = ``s3:GetObject``) and tracked-link scripts.
- ``step_worker``, ``control_worker`` and ``ses_events`` run the engine: steps and fan-out
  jobs change CRM records, which fire triggers, which enrol contacts (so even a bounce can
  start a flow). They never touch API keys and only read tenants.
- ``sweeper`` scans the running flows, pages participants by status and re-dispatches.

Where AWS has no resource to name, the statement's resource is ``*`` and the action is listed
in ``WILDCARD_ACTIONS`` with the reason; packaging refuses any other ``*`` resource and writes
the reasons into the role's Metadata, and ``tests/infra`` checks both.
"""

from __future__ import annotations

from typing import Any

Json = dict[str, Any]

# The only actions allowed on Resource "*", each with the reason AWS leaves no other choice.
WILDCARD_ACTIONS: dict[str, str] = {
    "sns:Publish": (
        "SMS are published to a phone number, which has no ARN: IAM only accepts Resource * "
        "for Publish(PhoneNumber=...)."
    ),
    "scheduler:ListSchedules": (
        "ListSchedules supports no resource-level permission (Resource must be *); the code "
        "passes the stage's GroupName and a NamePrefix."
    ),
}

TABLE_RW = [
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
]
TABLE_READ = ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query"]
QUEUE_SEND = ["sqs:SendMessage", "sqs:GetQueueUrl"]
# What Lambda's SQS event source mapping needs from the function's role.
QUEUE_CONSUME = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]


def _logical(name: str) -> str:
    """``trigger_index`` -> ``TriggerIndex``: the stem of a resource's logical id."""
    return "".join(part.capitalize() for part in name.split("_"))


def table_logical_id(name: str) -> str:
    return f"{_logical(name)}Table"


def queue_logical_id(name: str) -> str:
    return f"{_logical(name)}Queue"


def dlq_logical_id(name: str) -> str:
    return f"{_logical(name)}DeadLetterQueue"


def _tables(names: list[str]) -> list[Any]:
    """The tables and their indexes (a Query on a GSI is authorised on ``table/index/name``)."""
    out: list[Any] = []
    for name in names:
        out.append({"Fn::GetAtt": [table_logical_id(name), "Arn"]})
        out.append({"Fn::Sub": "${" + table_logical_id(name) + ".Arn}/index/*"})
    return out


def _queues(names: list[str]) -> list[Any]:
    return [{"Fn::GetAtt": [queue_logical_id(name), "Arn"]} for name in names]


def _stmt(sid: str, actions: list[str], resources: list[Any] | str) -> Json:
    return {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources}


def _in_account(service: str, resource: str) -> Json:
    """A ``Fn::Sub`` ARN of this account and region."""
    account = "${AWS::Region}:${AWS::AccountId}"
    return {"Fn::Sub": f"arn:${{AWS::Partition}}:{service}:{account}:{resource}"}


def _logs(function_name: str) -> Json:
    """Writing to the function's own log group (created by the template, so no CreateLogGroup)."""
    log_group = _in_account("logs", f"log-group:/aws/lambda/{function_name}:*")
    return _stmt("OwnLogGroup", ["logs:CreateLogStream", "logs:PutLogEvents"], [log_group])


SCHEDULES = _in_account("scheduler", "schedule/${ScheduleGroup}/*")
SES_IDENTITIES = _in_account("ses", "identity/*")
SES_CONFIGURATION_SET = _in_account("ses", "configuration-set/${EmailConfigurationSet}")
ATTACHMENTS = {"Fn::Sub": "${AttachmentsBucket.Arn}/*"}
SCRIPTS = [
    _in_account("lambda", "function:${ScriptFunctionNames}"),
    _in_account("lambda", "function:${ScriptFunctionNames}:*"),  # a version or an alias
]


def _dispatch() -> list[Json]:
    """Posting a participant's next message, or creating its wake bucket's schedule."""
    return [
        _stmt("Dispatch", QUEUE_SEND, _queues(["steps", "control"])),
        _stmt("WakeSchedules", ["scheduler:CreateSchedule", "scheduler:GetSchedule"], [SCHEDULES]),
        _stmt("PassSchedulerRole", ["iam:PassRole"], [{"Fn::GetAtt": ["SchedulerRole", "Arn"]}]),
    ]


def _engine(tables: list[str]) -> list[Json]:
    """What running steps, enrolments and fan-out jobs needs (see the module docstring)."""
    writable = [t for t in tables if t not in ("tenants", "api_keys")]
    return [
        _stmt("EngineTables", TABLE_RW, _tables(writable)),
        _stmt("TenantSettings", TABLE_READ, _tables(["tenants"])),
        *_dispatch(),
        # SES v2 SendEmail (raw MIME) is authorised on the From identity and the
        # configuration set; tenants verify their sender domains at run time, so the identities
        # are every identity of this account and region, not a fixed list.
        _stmt(
            "SendEmail",
            ["ses:SendEmail", "ses:SendRawEmail"],
            [SES_IDENTITIES, SES_CONFIGURATION_SET],
        ),
        _stmt("SendSms", ["sns:Publish"], "*"),  # WILDCARD_ACTIONS: phone numbers have no ARN
        _stmt("RunScripts", ["lambda:InvokeFunction"], SCRIPTS),
        _stmt("ReadAttachments", ["s3:GetObject"], [ATTACHMENTS]),
    ]


def function_policy(
    function: str, physical_name: str, tables: list[str], consumes: str | None
) -> Json:
    """The policy document of one chalice function (``function``: its name in app.py)."""
    statements: list[Json]
    if function == "api_key_authorizer":
        statements = [_stmt("LookUpKey", ["dynamodb:GetItem"], _tables(["api_keys"])[:1])]
    elif function == "api_handler":
        statements = [
            _stmt("Tables", TABLE_RW, _tables(tables)),
            *_dispatch(),
            _stmt(
                "SenderDomains",
                ["ses:CreateEmailIdentity", "ses:GetEmailIdentity"],
                [SES_IDENTITIES],
            ),
            _stmt("CheckAttachments", ["s3:GetObject"], [ATTACHMENTS]),
            _stmt("RunScripts", ["lambda:InvokeFunction"], SCRIPTS),
        ]
    elif function == "sweeper":
        statements = [
            _stmt("RunningFlows", ["dynamodb:Scan"], _tables(["flows"])[:1]),
            _stmt("StrandedParticipants", TABLE_READ, _tables(["participants"])),
            *_dispatch(),
        ]
    elif function in ("step_worker", "control_worker", "ses_events"):
        statements = _engine(tables)
        if function == "control_worker":
            # Ending a flow deletes its wake schedules (listed by name prefix in the group).
            statements += [
                _stmt("DeleteWakeSchedules", ["scheduler:DeleteSchedule"], [SCHEDULES]),
                _stmt("ListWakeSchedules", ["scheduler:ListSchedules"], "*"),  # WILDCARD_ACTIONS
            ]
    else:
        raise ValueError(
            f"no IAM policy for the function {function!r}: add one to infra/policies.py"
        )
    if consumes:
        statements.append(_stmt("ConsumeQueue", QUEUE_CONSUME, _queues([consumes])))
    return {"Version": "2012-10-17", "Statement": [_logs(physical_name), *statements]}


def wildcard_actions(document: Json) -> set[str]:
    """The actions a policy document allows on Resource ``*``."""
    found: set[str] = set()
    for statement in document["Statement"]:
        resources = statement["Resource"]
        if resources == "*" or (isinstance(resources, list) and "*" in resources):
            actions = statement["Action"]
            found.update([actions] if isinstance(actions, str) else actions)
    return found
