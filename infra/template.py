"""Turn the SAM template `chalice package` writes into the one deployable template.

Chalice knows the functions, the API and the SQS/schedule event sources; it does not know the
tables, queues, bucket, Scheduler group, SES pipeline, alarms, least-privilege roles or partial
batch failures. ``complete(template, stage)`` adds them, in place:

- every table of ``settings.TABLES`` with the keys and GSIs of its PynamoDB model (the same
  schema ``create_resources()`` gives the local stack), on demand, PITR on, deletion protection
  on and retained on stack deletion, TTL on the ``TTLAttribute`` a model of the table declares;
- every queue of ``settings.QUEUES`` with a DLQ (redrive after ``MAX_RECEIVE_COUNT``) and an
  alarm on the DLQ's depth; alarms on the workers' errors;
- the SQS event sources: the queue by ``GetAtt`` (so it exists first), partial batch failures,
  batch size and maximum concurrency;
- the attachments bucket (SSE-S3, public access blocked, TLS only), the Scheduler group and the
  role Scheduler assumes to post wake messages, the SES configuration set whose bounce and
  complaint events go through an SNS topic to the ``ses_events`` queue;
- the API's own error answers (``x-amazon-apigateway-gateway-responses``: an unknown path, no
  key, throttling, ...) as problem+json, from ``chalicelib.api.gateway``;
- per function: an explicit name, its own role's policy (``infra/policies.py``, replacing
  chalice's placeholder), and the names and secrets it reads as environment variables.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chalicelib.api.gateway import swagger_gateway_responses
from chalicelib.settings import QUEUES, TABLES, get_settings
from chalicelib.store.models import ALL_MODELS, ttl_attribute
from chalicelib.store.resources import MAX_RECEIVE_COUNT
from infra.policies import (
    WILDCARD_ACTIONS,
    dlq_logical_id,
    function_policy,
    queue_logical_id,
    table_logical_id,
    wildcard_actions,
)

Json = dict[str, Any]

PLACEHOLDER_POLICY = Path(__file__).with_name("chalice-role-placeholder.json")


@dataclass(frozen=True)
class QueueSpec:
    """How a queue's consumer runs: Lambda's timeout must stay under the visibility timeout
    (AWS recommends six times it, so a throttled batch is retried before it reappears)."""

    visibility_timeout_s: int
    max_concurrency: int  # the event source's ScalingConfig (2..1000)


QUEUE_SPECS = {
    "steps": QueueSpec(visibility_timeout_s=360, max_concurrency=50),
    "control": QueueSpec(visibility_timeout_s=720, max_concurrency=5),
    "ses_events": QueueSpec(visibility_timeout_s=180, max_concurrency=2),
}
BATCH_SIZE = 10
DLQ_RETENTION_S = 14 * 24 * 3600  # SQS's maximum: two weeks to look at a failed message
# Functions whose errors page someone (the step worker's is the one the issue names).
ERROR_ALARMS = ("step_worker", "control_worker")
# Functions that compose email (tracked links, opens, unsubscribes) or verify those tokens.
SIGNS_TOKENS = ("api_handler", "step_worker", "control_worker", "ses_events")


def _ref(name: str) -> Json:
    return {"Ref": name}


def _arn(logical_id: str) -> Json:
    return {"Fn::GetAtt": [logical_id, "Arn"]}


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def _retained(resource: Json) -> Json:
    """Kept when the stack (or this resource) is deleted or replaced: it holds customer data."""
    return {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain", **resource}


# -- parameters ---------------------------------------------------------------------------------


def _parameters(stage: str) -> Json:
    rate, burst = (200, 400) if stage == "prod" else (20, 40)
    return {
        "SigningKey": {
            "Type": "String",
            "NoEcho": True,
            "MinLength": 32,
            "Description": "Secret that signs tracked-link, open and unsubscribe tokens.",
        },
        "OperatorKey": {
            "Type": "String",
            "NoEcho": True,
            "MinLength": 32,
            "Description": "The operator key (creates tenants); only the authorizer reads it.",
        },
        "PublicBaseUrl": {
            "Type": "String",
            "Default": "",
            "AllowedPattern": "^(https://[^\\s/]+(/[^\\s]*)?)?$",
            "Description": (
                "Public https address of the API (a custom domain) for links in emails; "
                "empty: the stage's execute-api url."
            ),
        },
        "AlarmEmail": {
            "Type": "String",
            "Default": "",
            "Description": "Address that gets the alarms (empty: subscribe to AlarmTopic later).",
        },
        "ScriptFunctionNames": {
            "Type": "String",
            "Default": "flows-script-*",
            "AllowedPattern": "^[A-Za-z0-9_*-]+$",
            "Description": (
                "Name pattern of the Lambda functions (this account and region) that tenants "
                "may register as scripts; the functions may invoke only these."
            ),
        },
        "ApiRateLimit": {
            "Type": "Number",
            "Default": rate,
            "MinValue": 1,
            "Description": "API Gateway steady-state requests per second for the stage.",
        },
        "ApiBurstLimit": {
            "Type": "Number",
            "Default": burst,
            "MinValue": 1,
            "Description": "API Gateway burst for the stage.",
        },
    }


CONDITIONS = {
    "HasPublicBaseUrl": {"Fn::Not": [{"Fn::Equals": [_ref("PublicBaseUrl"), ""]}]},
    "HasAlarmEmail": {"Fn::Not": [{"Fn::Equals": [_ref("AlarmEmail"), ""]}]},
}


# -- tables -------------------------------------------------------------------------------------


def _models_by_table() -> dict[str, Any]:
    """Each name of TABLES -> its PynamoDB model (the one ``create_resources`` creates)."""
    settings = get_settings()
    physical = {settings.table(name): name for name in TABLES}
    found = {physical[model.Meta.table_name]: model for model in ALL_MODELS}
    missing = set(TABLES) - set(found)
    if missing:
        raise RuntimeError(f"no model for the tables {sorted(missing)}")
    return found


def _key_schema(keys: list[Json]) -> list[Json]:
    """HASH first, as DynamoDB requires (PynamoDB lists them in attribute order)."""
    return [
        {"AttributeName": k["AttributeName"], "KeyType": k["KeyType"]}
        for k in sorted(keys, key=lambda k: k["KeyType"] != "HASH")
    ]


def table_resource(name: str, model: Any, prefix: str) -> Json:
    schema = model._get_schema()
    definitions = {d["AttributeName"]: d["AttributeType"] for d in schema["attribute_definitions"]}
    indexes = []
    for index in schema["global_secondary_indexes"]:
        for d in index["attribute_definitions"]:
            definitions[d["AttributeName"]] = d["AttributeType"]
        indexes.append(
            {
                "IndexName": index["index_name"],
                "KeySchema": _key_schema(index["key_schema"]),
                "Projection": dict(index["projection"]),
            }
        )
    if schema["local_secondary_indexes"]:
        raise RuntimeError(f"{name}: local secondary indexes are not supported here")
    properties: Json = {
        "TableName": prefix + name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": attr, "AttributeType": kind}
            for attr, kind in sorted(definitions.items())
        ],
        "KeySchema": _key_schema(schema["key_schema"]),
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "DeletionProtectionEnabled": True,
    }
    if indexes:
        properties["GlobalSecondaryIndexes"] = indexes
    ttl = ttl_attribute(model.Meta.table_name)
    if ttl:
        properties["TimeToLiveSpecification"] = {"AttributeName": ttl, "Enabled": True}
    return _retained({"Type": "AWS::DynamoDB::Table", "Properties": properties})


# -- queues and alarms --------------------------------------------------------------------------


def _alarm(description: str, namespace: str, metric: str, dimension: Json, stat: str) -> Json:
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmDescription": description,
            "Namespace": namespace,
            "MetricName": metric,
            "Dimensions": [dimension],
            "Statistic": stat,
            "Period": 300,
            "EvaluationPeriods": 1,
            "Threshold": 0,
            "ComparisonOperator": "GreaterThanThreshold",
            "TreatMissingData": "notBreaching",
            "AlarmActions": [_ref("AlarmTopic")],
            "OKActions": [_ref("AlarmTopic")],
        },
    }


def _queues(prefix: str, names: list[str]) -> Json:
    resources: Json = {}
    for name in names:
        spec = QUEUE_SPECS.get(name)
        if spec is None:
            raise RuntimeError(f"queue {name!r} has no QueueSpec in infra/template.py")
        dlq = dlq_logical_id(name)
        resources[dlq] = {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": f"{prefix}{name}-dlq",
                "MessageRetentionPeriod": DLQ_RETENTION_S,
                "SqsManagedSseEnabled": True,
            },
        }
        resources[queue_logical_id(name)] = {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": prefix + name,
                "VisibilityTimeout": spec.visibility_timeout_s,
                "SqsManagedSseEnabled": True,
                "RedrivePolicy": {
                    "deadLetterTargetArn": _arn(dlq),
                    "maxReceiveCount": MAX_RECEIVE_COUNT,
                },
            },
        }
        resources[f"{_camel(name)}DeadLetterAlarm"] = _alarm(
            f"Messages of the {name} queue failed {MAX_RECEIVE_COUNT} times and wait in its DLQ.",
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            {"Name": "QueueName", "Value": {"Fn::GetAtt": [dlq, "QueueName"]}},
            "Maximum",
        )
    return resources


# -- bucket, scheduler, SES ---------------------------------------------------------------------


def _bucket(prefix: str) -> Json:
    return {
        "AttachmentsBucket": _retained(
            {
                "Type": "AWS::S3::Bucket",
                "Properties": {
                    "BucketName": {
                        "Fn::Sub": prefix + "attachments-${AWS::AccountId}-${AWS::Region}"
                    },
                    "BucketEncryption": {
                        "ServerSideEncryptionConfiguration": [
                            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                        ]
                    },
                    "PublicAccessBlockConfiguration": {
                        "BlockPublicAcls": True,
                        "BlockPublicPolicy": True,
                        "IgnorePublicAcls": True,
                        "RestrictPublicBuckets": True,
                    },
                    "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
                },
            }
        ),
        "AttachmentsBucketPolicy": {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {
                "Bucket": _ref("AttachmentsBucket"),
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "TlsOnly",
                            "Effect": "Deny",
                            "Principal": "*",
                            "Action": "s3:*",
                            "Resource": [
                                _arn("AttachmentsBucket"),
                                {"Fn::Sub": "${AttachmentsBucket.Arn}/*"},
                            ],
                            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                        }
                    ],
                },
            },
        },
    }


def _scheduler(prefix: str) -> Json:
    return {
        "ScheduleGroup": {
            "Type": "AWS::Scheduler::ScheduleGroup",
            "Properties": {"Name": prefix + "wakes"},
        },
        "SchedulerRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "Description": "Assumed by EventBridge Scheduler to post wake messages.",
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "scheduler.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                            "Condition": {
                                "StringEquals": {"aws:SourceAccount": _ref("AWS::AccountId")},
                                "ArnEquals": {"aws:SourceArn": _arn("ScheduleGroup")},
                            },
                        }
                    ],
                },
                "Policies": [
                    {
                        "PolicyName": "PostWakeMessages",
                        "PolicyDocument": {
                            "Version": "2012-10-17",
                            "Statement": [
                                {
                                    "Effect": "Allow",
                                    "Action": "sqs:SendMessage",
                                    "Resource": _arn(queue_logical_id("control")),
                                }
                            ],
                        },
                    }
                ],
            },
        },
    }


def _email_events(prefix: str) -> Json:
    configuration_set_arn = {
        "Fn::Sub": (
            "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}"
            ":configuration-set/${EmailConfigurationSet}"
        )
    }
    queue = queue_logical_id("ses_events")
    return {
        "EmailConfigurationSet": {
            "Type": "AWS::SES::ConfigurationSet",
            "Properties": {"Name": prefix.rstrip("-")},
        },
        "EmailEventsTopic": {"Type": "AWS::SNS::Topic", "Properties": {}},
        "EmailEventsTopicPolicy": {
            "Type": "AWS::SNS::TopicPolicy",
            "Properties": {
                "Topics": [_ref("EmailEventsTopic")],
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "SesPublishes",
                            "Effect": "Allow",
                            "Principal": {"Service": "ses.amazonaws.com"},
                            "Action": "sns:Publish",
                            "Resource": _ref("EmailEventsTopic"),
                            "Condition": {
                                "StringEquals": {"aws:SourceAccount": _ref("AWS::AccountId")},
                                "ArnLike": {"aws:SourceArn": configuration_set_arn},
                            },
                        }
                    ],
                },
            },
        },
        "EmailEventDestination": {
            "Type": "AWS::SES::ConfigurationSetEventDestination",
            "DependsOn": ["EmailEventsTopicPolicy"],
            "Properties": {
                "ConfigurationSetName": _ref("EmailConfigurationSet"),
                "EventDestination": {
                    "Name": "bounces-and-complaints",
                    "Enabled": True,
                    "MatchingEventTypes": ["bounce", "complaint"],
                    "SnsDestination": {"TopicARN": _ref("EmailEventsTopic")},
                },
            },
        },
        "EmailEventsQueuePolicy": {
            "Type": "AWS::SQS::QueuePolicy",
            "Properties": {
                "Queues": [_ref(queue)],
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "TopicDelivers",
                            "Effect": "Allow",
                            "Principal": {"Service": "sns.amazonaws.com"},
                            "Action": "sqs:SendMessage",
                            "Resource": _arn(queue),
                            "Condition": {"ArnEquals": {"aws:SourceArn": _ref("EmailEventsTopic")}},
                        }
                    ],
                },
            },
        },
        "EmailEventsSubscription": {
            "Type": "AWS::SNS::Subscription",
            "DependsOn": ["EmailEventsQueuePolicy"],
            "Properties": {
                "TopicArn": _ref("EmailEventsTopic"),
                "Protocol": "sqs",
                "Endpoint": _arn(queue),
                "RawMessageDelivery": True,
            },
        },
    }


def _alarm_topic() -> Json:
    return {
        "AlarmTopic": {"Type": "AWS::SNS::Topic", "Properties": {}},
        "AlarmEmailSubscription": {
            "Type": "AWS::SNS::Subscription",
            "Condition": "HasAlarmEmail",
            "Properties": {
                "TopicArn": _ref("AlarmTopic"),
                "Protocol": "email",
                "Endpoint": _ref("AlarmEmail"),
            },
        },
    }


# -- functions ----------------------------------------------------------------------------------


def functions(template: Json) -> dict[str, str]:
    """The chalice functions: name in app.py -> logical id."""
    found = {}
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        handler = resource["Properties"]["Handler"].removeprefix("app.")
        found["api_handler" if handler == "app" else handler] = logical_id
    return found


def sqs_events(function: Json) -> dict[str, Json]:
    events = function["Properties"].get("Events") or {}
    return {name: e for name, e in events.items() if e["Type"] == "SQS"}


def _queue_of(event: Json, prefix: str) -> str:
    """The short name of the queue an SQS event source reads (chalice writes its ARN)."""
    queue = event["Properties"]["Queue"]
    arn = queue["Fn::Sub"] if isinstance(queue, dict) else queue
    name = str(arn).rsplit(":", 1)[-1]
    if not name.startswith(prefix):
        raise RuntimeError(f"queue {name} is not one of this stage's ({prefix}*)")
    return name.removeprefix(prefix)


def _environment(function: str, tables: list[str], queues: list[str], api_url: str) -> Json:
    variables: Json = {
        "FLOWS_ACCOUNT_ID": _ref("AWS::AccountId"),
        "FLOWS_ATTACHMENTS_BUCKET": _ref("AttachmentsBucket"),
        "FLOWS_SCHEDULE_GROUP": _ref("ScheduleGroup"),
        "FLOWS_SCHEDULER_ROLE_ARN": _arn("SchedulerRole"),
        "FLOWS_SES_CONFIGURATION_SET": _ref("EmailConfigurationSet"),
    }
    for name in tables:
        variables[f"FLOWS_TABLE_{name.upper()}"] = _ref(table_logical_id(name))
    for name in queues:
        variables[f"FLOWS_QUEUE_{name.upper()}"] = {
            "Fn::GetAtt": [queue_logical_id(name), "QueueName"]
        }
    variables["FLOWS_PUBLIC_BASE_URL"] = {
        "Fn::If": ["HasPublicBaseUrl", _ref("PublicBaseUrl"), {"Fn::Sub": api_url}]
    }
    if function in SIGNS_TOKENS:
        variables["FLOWS_SIGNING_KEY"] = _ref("SigningKey")
    if function == "api_key_authorizer":
        variables["FLOWS_OPERATOR_KEY"] = _ref("OperatorKey")
    return variables


def _complete_function(
    template: Json,
    function: str,
    logical_id: str,
    prefix: str,
    tables: list[str],
    queues: list[str],
) -> None:
    resources = template["Resources"]
    properties = resources[logical_id]["Properties"]
    physical_name = prefix + function
    properties["FunctionName"] = physical_name
    stage_name = resources["RestAPI"]["Properties"]["StageName"]
    api_url = "https://${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}/" + stage_name
    properties["Environment"]["Variables"].update(_environment(function, tables, queues, api_url))
    consumed: list[str] = []
    for event in sqs_events(resources[logical_id]).values():
        queue = _queue_of(event, prefix)
        consumed.append(queue)
        event["Properties"].update(
            {
                "Queue": _arn(queue_logical_id(queue)),
                "BatchSize": BATCH_SIZE,
                "FunctionResponseTypes": ["ReportBatchItemFailures"],
                "ScalingConfig": {"MaximumConcurrency": QUEUE_SPECS[queue].max_concurrency},
            }
        )
    if len(consumed) > 1:
        raise RuntimeError(f"{function} reads {consumed}: one queue per function")
    role_id = properties["Role"]["Fn::GetAtt"][0]
    role = resources[role_id]["Properties"]
    placeholder = json.loads(PLACEHOLDER_POLICY.read_text())
    if [p["PolicyDocument"] for p in role["Policies"]] != [placeholder]:
        raise RuntimeError(
            f"{role_id} does not carry infra/{PLACEHOLDER_POLICY.name}: is autogen_policy "
            "still false and iam_policy_file set in .chalice/config.json?"
        )
    document = function_policy(function, physical_name, tables, consumed[0] if consumed else None)
    role["Policies"] = [{"PolicyName": f"{role_id}Policy", "PolicyDocument": document}]
    exceptions = wildcard_actions(document)
    undocumented = exceptions - set(WILDCARD_ACTIONS)
    if undocumented:
        raise RuntimeError(f"{function}: Resource * for {sorted(undocumented)}, not documented")
    if exceptions:
        resources[role_id]["Metadata"] = {
            "WildcardResources": {action: WILDCARD_ACTIONS[action] for action in sorted(exceptions)}
        }
    if function in ERROR_ALARMS:
        resources[f"{logical_id}ErrorsAlarm"] = _alarm(
            f"The {function} function failed (an error, not a reported batch item failure).",
            "AWS/Lambda",
            "Errors",
            {"Name": "FunctionName", "Value": _ref(logical_id)},
            "Sum",
        )


def _fix_log_groups(template: Json) -> None:
    """Chalice names the API handler's log group after ``${ApiHandler}``, but the function is
    ``APIHandler``: point every ``/aws/lambda/${X}`` log group at the function it means."""
    resources = template["Resources"]
    by_lower = {logical_id.lower(): logical_id for logical_id in functions(template).values()}
    for resource in resources.values():
        if resource["Type"] != "AWS::Logs::LogGroup":
            continue
        name = resource["Properties"]["LogGroupName"]
        target = name["Fn::Sub"].removeprefix("/aws/lambda/${").removesuffix("}")
        if target not in resources:
            resource["Properties"]["LogGroupName"] = {
                "Fn::Sub": "/aws/lambda/${" + by_lower[target.lower()] + "}"
            }


def _function_arn(name: str) -> str:
    return f"arn:${{AWS::Partition}}:lambda:${{AWS::Region}}:${{AWS::AccountId}}:function:{name}"


def _decouple_api(template: Json) -> None:
    """Name the API's integration and authorizer functions by their ARN, not ``${X.Arn}``.

    The functions have fixed names, so their ARNs are known up front; without a reference
    from the API to the API handler, the API handler can in turn be given the API's url
    (``FLOWS_PUBLIC_BASE_URL``: tracked-link and form urls) with no circular dependency.
    """
    arns = {
        "${%s.Arn}" % logical_id: _function_arn(  # noqa: UP031 (the braces are CloudFormation's)
            template["Resources"][logical_id]["Properties"]["FunctionName"]
        )
        for logical_id in functions(template).values()
    }

    def rewrite(node: Any) -> Any:
        if isinstance(node, dict):
            if set(node) == {"Fn::Sub"} and isinstance(node["Fn::Sub"], str):
                text = node["Fn::Sub"]
                for reference, arn in arns.items():
                    text = text.replace(reference, arn)
                return {"Fn::Sub": text}
            return {key: rewrite(value) for key, value in node.items()}
        if isinstance(node, list):
            return [rewrite(value) for value in node]
        return node

    api = template["Resources"]["RestAPI"]["Properties"]
    api["DefinitionBody"] = rewrite(api["DefinitionBody"])


def _throttle_api(template: Json) -> None:
    api = template["Resources"]["RestAPI"]["Properties"]
    api["MethodSettings"] = [
        {
            "ResourcePath": "/*",
            "HttpMethod": "*",
            "ThrottlingRateLimit": _ref("ApiRateLimit"),
            "ThrottlingBurstLimit": _ref("ApiBurstLimit"),
        }
    ]


def _gateway_responses(template: Json) -> None:
    api = template["Resources"]["RestAPI"]["Properties"]
    api["DefinitionBody"]["x-amazon-apigateway-gateway-responses"] = swagger_gateway_responses()


def complete(sam: Json, stage: str) -> Json:
    """The deployable template: chalice's SAM template plus everything listed above."""
    template = copy.deepcopy(sam)
    prefix = f"flows-{stage}-"
    tables = list(TABLES)
    # ses_events is where SES's bounces and complaints arrive, whether or not QUEUES lists it.
    queues = sorted(set(QUEUES) | {"ses_events"})
    template["Description"] = f"Flows ({stage}): API, workers, tables, queues, scheduler, email."
    template["Parameters"] = _parameters(stage)
    template["Conditions"] = CONDITIONS
    resources = template["Resources"]
    for name, model in _models_by_table().items():
        resources[table_logical_id(name)] = table_resource(name, model, prefix)
    resources.update(_queues(prefix, queues))
    resources.update(_bucket(prefix))
    resources.update(_scheduler(prefix))
    resources.update(_email_events(prefix))
    resources.update(_alarm_topic())
    _throttle_api(template)
    _gateway_responses(template)
    _fix_log_groups(template)
    for function, logical_id in functions(template).items():
        _complete_function(template, function, logical_id, prefix, tables, queues)
    _decouple_api(template)
    template["Outputs"].update(
        {
            "AttachmentsBucketName": {"Value": _ref("AttachmentsBucket")},
            "AlarmTopicArn": {"Value": _ref("AlarmTopic")},
            "EmailConfigurationSetName": {"Value": _ref("EmailConfigurationSet")},
            "ScheduleGroupName": {"Value": _ref("ScheduleGroup")},
        }
    )
    return template
