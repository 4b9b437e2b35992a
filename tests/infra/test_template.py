"""The deployable template (`make package`): what the issue asks of it, read from the JSON."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

import app
from chalicelib.api.gateway import GATEWAY_ANSWERS
from chalicelib.api.problems import Problem
from chalicelib.settings import QUEUES, TABLES, get_settings
from chalicelib.store.models import ttl_attribute
from chalicelib.store.resources import MAX_RECEIVE_COUNT
from infra.policies import WILDCARD_ACTIONS
from tests.infra.conftest import Template, packaged

Resources = dict[str, Any]

# The only actions that may be allowed on Resource "*" (each documented in infra/policies.py
# and in its role's Metadata). Adding one is a reviewed change of this test.
DOCUMENTED_WILDCARDS = {"sns:Publish", "scheduler:ListSchedules"}


def of_type(resources: Resources, kind: str) -> dict[str, Any]:
    return {name: r for name, r in resources.items() if r["Type"] == kind}


def app_functions() -> set[str]:
    """Every Lambda function app.py declares: the API handler, authorizers, event handlers."""
    chalice = app.app
    return (
        {"api_handler"}
        | {auth.name for auth in chalice.builtin_auth_handlers}
        | {source.name for source in chalice.event_sources}
        | {function.name for function in chalice.pure_lambda_functions}
    )


def functions(resources: Resources) -> dict[str, Any]:
    """The template's functions by their name in app.py (FunctionName is flows-<stage>-<name>)."""
    return {
        r["Properties"]["FunctionName"].removeprefix("flows-dev-"): r
        for r in of_type(resources, "AWS::Serverless::Function").values()
    }


def target(ref: Any) -> str:
    """The logical id a Ref or GetAtt points at."""
    if "Ref" in ref:
        return str(ref["Ref"])
    return str(ref["Fn::GetAtt"][0])


def policy_documents(resources: Resources) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every IAM policy document of the template (identity and resource policies)."""
    for name, r in resources.items():
        properties = r.get("Properties", {})
        if r["Type"] == "AWS::IAM::Role":
            for policy in properties.get("Policies", []):
                yield name, policy["PolicyDocument"]
        elif r["Type"] in (
            "AWS::IAM::Policy",
            "AWS::IAM::ManagedPolicy",
            "AWS::IAM::RolePolicy",
            "AWS::SQS::QueuePolicy",
            "AWS::SNS::TopicPolicy",
            "AWS::S3::BucketPolicy",
        ):
            yield name, properties["PolicyDocument"]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def role_statements(resources: Resources, function: str) -> dict[str, dict[str, Any]]:
    role = target(functions(resources)[function]["Properties"]["Role"])
    (policy,) = resources[role]["Properties"]["Policies"]
    return {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}


# -- functions ----------------------------------------------------------------------------------


def test_every_function_of_the_app_is_in_the_template(resources: Resources) -> None:
    expected = {"api_handler", "api_key_authorizer", "step_worker", "control_worker", "sweeper"}
    assert expected <= app_functions()
    assert set(functions(resources)) == app_functions()


def test_every_function_is_arm64_with_memory_timeout_and_a_retained_log(
    resources: Resources,
) -> None:
    log_groups = {
        r["Properties"]["LogGroupName"]["Fn::Sub"]: r["Properties"]
        for r in of_type(resources, "AWS::Logs::LogGroup").values()
    }
    for name, function in functions(resources).items():
        properties = function["Properties"]
        assert properties["Architectures"] == ["arm64"], name
        assert properties["MemorySize"] >= 256, name
        assert 1 <= properties["Timeout"] <= 300, name
        logical_id = next(k for k, v in resources.items() if v is function)
        assert log_groups["/aws/lambda/${" + logical_id + "}"]["RetentionInDays"] > 0


def test_the_api_handler_answers_within_api_gateways_limit(resources: Resources) -> None:
    assert functions(resources)["api_handler"]["Properties"]["Timeout"] <= 29


def test_the_api_stage_is_throttled(resources: Resources) -> None:
    (setting,) = resources["RestAPI"]["Properties"]["MethodSettings"]
    assert setting["ResourcePath"] == "/*"
    assert setting["HttpMethod"] == "*"
    assert setting["ThrottlingRateLimit"] == {"Ref": "ApiRateLimit"}
    assert setting["ThrottlingBurstLimit"] == {"Ref": "ApiBurstLimit"}


# API Gateway's own answers and their status (None: the one API Gateway chose).
GATEWAY_STATUSES = {
    "UNAUTHORIZED": 401,
    "MISSING_AUTHENTICATION_TOKEN": 404,
    "ACCESS_DENIED": 403,
    "THROTTLED": 429,
    "REQUEST_TOO_LARGE": 413,
    "AUTHORIZER_FAILURE": 500,
    "AUTHORIZER_CONFIGURATION_ERROR": 500,
    "DEFAULT_4XX": None,
    "DEFAULT_5XX": None,
}


def test_the_gateways_own_answers_are_problems(resources: Resources) -> None:
    definition = resources["RestAPI"]["Properties"]["DefinitionBody"]
    declared = definition["x-amazon-apigateway-gateway-responses"]
    assert set(GATEWAY_STATUSES) <= set(declared)
    assert set(declared) == set(GATEWAY_ANSWERS)
    for response_type, response in declared.items():
        status = GATEWAY_STATUSES.get(response_type, GATEWAY_ANSWERS[response_type].status)
        assert response.get("statusCode") == (None if status is None else str(status))
        assert response["responseParameters"] == {
            "gatewayresponse.header.Content-Type": "'application/problem+json'"
        }
        (template,) = response["responseTemplates"].values()
        assert set(response["responseTemplates"]) == {"application/json"}
        # API Gateway puts the quoted message where $context.error.messageString stands.
        text = template.replace("$context.error.messageString", json.dumps('A "quoted" message'))
        assert "$" not in text, response_type
        problem = json.loads(text)
        if status is None:
            assert problem == {"type": "about:blank", "title": 'A "quoted" message'}
        else:
            assert Problem.model_validate(problem).status == status, response_type
            assert problem["title"], response_type
            assert problem["detail"], response_type


# -- queues -------------------------------------------------------------------------------------


def test_every_queue_has_a_dlq_and_an_alarm_on_it(resources: Resources) -> None:
    queues = of_type(resources, "AWS::SQS::Queue")
    dlqs = {
        target(q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"])
        for q in queues.values()
        if "RedrivePolicy" in q["Properties"]
    }
    sources = {name: q for name, q in queues.items() if name not in dlqs}
    assert {q["Properties"]["QueueName"] for q in sources.values()} == {
        f"flows-dev-{name}" for name in set(QUEUES) | {"ses_events"}
    }
    alarmed = {
        target(dimension["Value"])
        for alarm in of_type(resources, "AWS::CloudWatch::Alarm").values()
        for dimension in alarm["Properties"]["Dimensions"]
        if alarm["Properties"]["Namespace"] == "AWS/SQS"
    }
    for name, queue in sources.items():
        redrive = queue["Properties"]["RedrivePolicy"]
        assert redrive["maxReceiveCount"] == MAX_RECEIVE_COUNT, name
        dlq = target(redrive["deadLetterTargetArn"])
        assert resources[dlq]["Type"] == "AWS::SQS::Queue"
        assert "RedrivePolicy" not in resources[dlq]["Properties"]
        assert dlq in alarmed, f"no alarm on the depth of {dlq}"


def test_the_step_worker_errors_raise_an_alarm(resources: Resources) -> None:
    watched = {
        target(d["Value"])
        for alarm in of_type(resources, "AWS::CloudWatch::Alarm").values()
        if alarm["Properties"]["MetricName"] == "Errors"
        for d in alarm["Properties"]["Dimensions"]
    }
    assert "StepWorker" in watched
    for alarm in of_type(resources, "AWS::CloudWatch::Alarm").values():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def test_sqs_workers_report_batch_item_failures(resources: Resources) -> None:
    consumers = {}
    for name, function in functions(resources).items():
        for event in (function["Properties"].get("Events") or {}).values():
            if event["Type"] != "SQS":
                continue
            properties = event["Properties"]
            assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"], name
            assert properties["BatchSize"] == 10, name
            assert 2 <= properties["ScalingConfig"]["MaximumConcurrency"] <= 1000, name
            assert set(properties) <= {
                "Queue",
                "BatchSize",
                "MaximumBatchingWindowInSeconds",
                "FunctionResponseTypes",
                "ScalingConfig",
            }, "a property SAM's SQS event does not have (cfn-lint does not check these)"
            queue = resources[target(properties["Queue"])]
            consumers[name] = queue["Properties"]["QueueName"]
            # SQS hides a message for its visibility timeout: it must outlast the function.
            timeout = function["Properties"]["Timeout"]
            assert queue["Properties"]["VisibilityTimeout"] >= 6 * timeout, name
    expected = {"step_worker": "flows-dev-steps", "control_worker": "flows-dev-control"}
    if "ses_events" in app_functions():
        expected["ses_events"] = "flows-dev-ses_events"
    assert consumers == expected


# -- tables -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def local_tables() -> Iterator[dict[str, dict[str, Any]]]:
    """The tables `create_resources()` makes for the local stack and the tests, described."""
    with mock_aws():
        from chalicelib.store.resources import create_resources

        create_resources()
        dynamodb = boto3.client("dynamodb", region_name=get_settings().region)
        yield {
            name: dynamodb.describe_table(TableName=get_settings().table(name))["Table"]
            for name in TABLES
        }


def _keys(schema: list[dict[str, str]]) -> list[tuple[str, str]]:
    return [(k["AttributeName"], k["KeyType"]) for k in schema]


def _gsis(indexes: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        i["IndexName"]: (sorted(_keys(i["KeySchema"])), i["Projection"]["ProjectionType"])
        for i in indexes
    }


def test_every_table_has_the_keys_and_indexes_of_the_local_stack(
    resources: Resources, local_tables: dict[str, dict[str, Any]]
) -> None:
    tables = {
        r["Properties"]["TableName"]: r for r in of_type(resources, "AWS::DynamoDB::Table").values()
    }
    assert set(tables) == {f"flows-dev-{name}" for name in TABLES}
    for name, local in local_tables.items():
        properties = tables[f"flows-dev-{name}"]["Properties"]
        assert _keys(properties["KeySchema"]) == _keys(local["KeySchema"]), name
        assert properties["KeySchema"][0]["KeyType"] == "HASH"
        assert {
            (a["AttributeName"], a["AttributeType"]) for a in properties["AttributeDefinitions"]
        } == {(a["AttributeName"], a["AttributeType"]) for a in local["AttributeDefinitions"]}
        assert _gsis(properties.get("GlobalSecondaryIndexes", [])) == _gsis(
            local.get("GlobalSecondaryIndexes", [])
        ), name
        for index in properties.get("GlobalSecondaryIndexes", []):
            assert index["KeySchema"][0]["KeyType"] == "HASH", (name, index["IndexName"])


def test_every_table_is_on_demand_with_pitr_and_protected(resources: Resources) -> None:
    for name, table in of_type(resources, "AWS::DynamoDB::Table").items():
        properties = table["Properties"]
        assert properties["BillingMode"] == "PAY_PER_REQUEST", name
        assert properties["PointInTimeRecoverySpecification"] == {
            "PointInTimeRecoveryEnabled": True
        }, name
        # Every table holds tenants' data: protected, and kept when the stack goes.
        assert properties["DeletionProtectionEnabled"] is True, name
        assert table["DeletionPolicy"] == "Retain", name
        assert table["UpdateReplacePolicy"] == "Retain", name


def test_ttl_is_on_exactly_where_a_model_has_a_ttl_attribute(resources: Resources) -> None:
    by_name = {
        r["Properties"]["TableName"].removeprefix("flows-dev-"): r["Properties"]
        for r in of_type(resources, "AWS::DynamoDB::Table").values()
    }
    for name in TABLES:
        ttl = ttl_attribute(get_settings().table(name))
        spec = by_name[name].get("TimeToLiveSpecification")
        assert spec == ({"AttributeName": ttl, "Enabled": True} if ttl else None), name
    # The fan-out jobs' done markers expire (a guard item of the participants table).
    assert by_name["participants"]["TimeToLiveSpecification"]["AttributeName"] == "expires_at"


# -- IAM ----------------------------------------------------------------------------------------


def test_no_wildcard_resource_outside_the_documented_exceptions(resources: Resources) -> None:
    assert set(WILDCARD_ACTIONS) == DOCUMENTED_WILDCARDS
    for owner, document in policy_documents(resources):
        for statement in document["Statement"]:
            actions = as_list(statement["Action"])
            if statement["Effect"] != "Allow":
                continue
            assert not [a for a in actions if a == "*" or a.endswith(":*")], (owner, actions)
            if "*" in as_list(statement.get("Resource", [])):
                assert set(actions) <= DOCUMENTED_WILDCARDS, (owner, actions)
                documented = resources[owner]["Metadata"]["WildcardResources"]
                assert set(actions) <= set(documented), owner


def test_each_function_has_its_own_role_and_no_placeholder_is_left(resources: Resources) -> None:
    roles = [target(f["Properties"]["Role"]) for f in functions(resources).values()]
    assert len(roles) == len(set(roles))
    for role in roles:
        for policy in resources[role]["Properties"]["Policies"]:
            assert all(s["Effect"] == "Allow" for s in policy["PolicyDocument"]["Statement"])


def _table_targets(statement: dict[str, Any]) -> set[str]:
    found = set()
    for resource in as_list(statement["Resource"]):
        if "Fn::GetAtt" in resource:
            found.add(resource["Fn::GetAtt"][0])
        elif "Fn::Sub" in resource and resource["Fn::Sub"].endswith("/index/*"):
            found.add(resource["Fn::Sub"].removeprefix("${").split(".")[0])
    return found


def test_the_authorizer_can_only_look_up_a_key(resources: Resources) -> None:
    statements = role_statements(resources, "api_key_authorizer")
    assert set(statements) == {"OwnLogGroup", "LookUpKey"}
    assert statements["LookUpKey"]["Action"] == ["dynamodb:GetItem"]
    assert _table_targets(statements["LookUpKey"]) == {"ApiKeysTable"}


def test_workers_never_touch_api_keys_and_only_read_tenants(resources: Resources) -> None:
    engine = [f for f in ("step_worker", "control_worker", "ses_events") if f in app_functions()]
    for function in engine:
        statements = role_statements(resources, function)
        touched = set().union(
            *(_table_targets(s) for s in statements.values() if "dynamodb:Query" in s["Action"])
        )
        assert "ApiKeysTable" not in touched, function
        assert _table_targets(statements["EngineTables"]).isdisjoint(
            {"ApiKeysTable", "TenantsTable"}
        )
        assert _table_targets(statements["TenantSettings"]) == {"TenantsTable"}
        assert not {"dynamodb:PutItem", "dynamodb:UpdateItem"} & set(
            statements["TenantSettings"]["Action"]
        )


READS = ("dynamodb:Scan", "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query")


def test_the_sweeper_only_reads(resources: Resources) -> None:
    statements = role_statements(resources, "sweeper")
    for statement in statements.values():
        for action in as_list(statement["Action"]):
            if action.startswith("dynamodb:"):
                assert action in READS, action


def test_consumers_may_receive_only_from_their_own_queue(resources: Resources) -> None:
    for function in functions(resources):
        statements = role_statements(resources, function)
        receive = [s for s in statements.values() if "sqs:ReceiveMessage" in s["Action"]]
        events = functions(resources)[function]["Properties"].get("Events") or {}
        queues = [e["Properties"]["Queue"] for e in events.values() if e["Type"] == "SQS"]
        assert [r["Resource"] for r in receive] == ([queues] if queues else []), function


def test_scheduler_role_may_only_post_to_the_control_queue(resources: Resources) -> None:
    role = resources["SchedulerRole"]["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    (policy,) = role["Policies"]
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert statement["Action"] == "sqs:SendMessage"
    assert statement["Resource"] == {"Fn::GetAtt": ["ControlQueue", "Arn"]}
    group = resources["ScheduleGroup"]["Properties"]["Name"]
    assert group == "flows-dev-wakes"
    for function in ("step_worker", "control_worker", "sweeper", "api_handler"):
        passed = role_statements(resources, function)["PassSchedulerRole"]
        assert passed["Resource"] == [{"Fn::GetAtt": ["SchedulerRole", "Arn"]}]


# -- bucket, email events -----------------------------------------------------------------------


def test_the_attachments_bucket_is_encrypted_private_and_kept(resources: Resources) -> None:
    bucket = resources["AttachmentsBucket"]
    properties = bucket["Properties"]
    (rule,) = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    assert set(properties["PublicAccessBlockConfiguration"].values()) == {True}
    assert len(properties["PublicAccessBlockConfiguration"]) == 4
    assert bucket["DeletionPolicy"] == "Retain"


def test_ses_bounces_and_complaints_reach_the_ses_events_queue(resources: Resources) -> None:
    destination = resources["EmailEventDestination"]["Properties"]
    assert target(destination["ConfigurationSetName"]) == "EmailConfigurationSet"
    event = destination["EventDestination"]
    assert event["Enabled"] is True
    assert {"bounce", "complaint"} <= set(event["MatchingEventTypes"])
    topic = target(event["SnsDestination"]["TopicARN"])
    (subscription,) = [
        s["Properties"]
        for s in of_type(resources, "AWS::SNS::Subscription").values()
        if target(s["Properties"]["TopicArn"]) == topic
    ]
    assert subscription["Protocol"] == "sqs"
    queue = resources[target(subscription["Endpoint"])]["Properties"]
    assert queue["QueueName"] == "flows-dev-ses_events"
    allowed = [
        s
        for p in of_type(resources, "AWS::SQS::QueuePolicy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if s["Principal"] == {"Service": "sns.amazonaws.com"}
    ]
    assert allowed
    assert allowed[0]["Condition"]["ArnEquals"]["aws:SourceArn"] == {"Ref": topic}


# -- environment --------------------------------------------------------------------------------


def test_names_and_secrets_reach_the_code_from_the_template(resources: Resources) -> None:
    for name, function in functions(resources).items():
        variables = function["Properties"]["Environment"]["Variables"]
        assert variables["FLOWS_STAGE"] == "dev"
        assert variables["FLOWS_ACCOUNT_ID"] == {"Ref": "AWS::AccountId"}
        for table in TABLES:
            value = variables[f"FLOWS_TABLE_{table.upper()}"]
            assert resources[target(value)]["Properties"]["TableName"] == f"flows-dev-{table}"
        for queue in QUEUES:
            value = variables[f"FLOWS_QUEUE_{queue.upper()}"]
            assert value["Fn::GetAtt"][1] == "QueueName"
            assert resources[target(value)]["Properties"]["QueueName"] == f"flows-dev-{queue}"
        assert variables["FLOWS_ATTACHMENTS_BUCKET"] == {"Ref": "AttachmentsBucket"}
        assert variables["FLOWS_SCHEDULE_GROUP"] == {"Ref": "ScheduleGroup"}
        assert variables["FLOWS_SCHEDULER_ROLE_ARN"] == {"Fn::GetAtt": ["SchedulerRole", "Arn"]}
        assert variables["FLOWS_PUBLIC_BASE_URL"]["Fn::If"][0] == "HasPublicBaseUrl", name
        # The operator key goes to the one function that checks it.
        assert ("FLOWS_OPERATOR_KEY" in variables) == (name == "api_key_authorizer"), name
        if "FLOWS_SIGNING_KEY" in variables:
            assert variables["FLOWS_SIGNING_KEY"] == {"Ref": "SigningKey"}
    assert {"SigningKey", "OperatorKey"} <= functions_parameters(resources)


def functions_parameters(resources: Resources) -> set[str]:
    """Parameters the functions' environments refer to."""
    found = set()
    for function in functions(resources).values():
        for value in function["Properties"]["Environment"]["Variables"].values():
            if isinstance(value, dict) and "Ref" in value:
                found.add(value["Ref"])
    return found


def test_secrets_are_no_echo_parameters(template: Template) -> None:
    for secret in ("SigningKey", "OperatorKey"):
        parameter = template["Parameters"][secret]
        assert parameter["NoEcho"] is True
        assert parameter["MinLength"] >= 32
        assert "Default" not in parameter


def test_settings_take_the_names_the_template_gives(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the environment variables above become in chalicelib.settings."""
    monkeypatch.setenv("FLOWS_TABLE_PARTICIPANTS", "stack-participants")
    monkeypatch.setenv("FLOWS_QUEUE_CONTROL", "stack-control")
    monkeypatch.setenv("FLOWS_ATTACHMENTS_BUCKET", "stack-bucket")
    monkeypatch.setenv("FLOWS_SCHEDULE_GROUP", "stack-wakes")
    monkeypatch.setenv("FLOWS_SCHEDULER_ROLE_ARN", "arn:aws:iam::1:role/stack-scheduler")
    settings = get_settings.__wrapped__()
    assert settings.table("participants") == "stack-participants"
    assert settings.table("journal") == f"{settings.prefix}journal"
    assert settings.queue_name("control") == "stack-control"
    assert settings.queue_name("steps") == f"{settings.prefix}steps"
    assert settings.attachments_bucket == "stack-bucket"
    assert settings.schedule_group == "stack-wakes"
    assert settings.scheduler_role_arn == "arn:aws:iam::1:role/stack-scheduler"


# -- dependencies -------------------------------------------------------------------------------


def references(node: Any) -> set[str]:
    """Logical ids a resource refers to (Ref, GetAtt, ${X} and ${X.Attr} in Sub)."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                found.add(value[0] if isinstance(value, list) else value.split(".")[0])
            elif key == "Fn::Sub":
                text = value if isinstance(value, str) else value[0]
                found |= {m.split(".")[0] for m in re.findall(r"\$\{([^}!]+)\}", text)}
                found |= references(value)
            else:
                found |= references(value)
    elif isinstance(node, list):
        for value in node:
            found |= references(value)
    return found


def test_the_template_has_no_circular_dependency(resources: Resources) -> None:
    """cfn-lint does not follow references inside SAM's API definition: check it here (the API
    handler gets the API's url, so the API must name it by ARN, not ``${APIHandler.Arn}``)."""
    graph = {
        name: (references(r) | set(as_list(r.get("DependsOn", [])))) & set(resources)
        for name, r in resources.items()
    }
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        assert name not in path, " -> ".join([*path, name])
        if name in done:
            return
        for dependency in graph[name]:
            visit(dependency, [*path, name])
        done.add(name)

    for name in graph:
        visit(name, [])
    assert "RestAPI" in graph["APIHandler"]


# -- stages -------------------------------------------------------------------------------------


def test_the_prod_stage_packages_with_its_own_names(tmp_path: Path) -> None:
    prod = packaged("prod", tmp_path)
    text = str(prod)
    assert "flows-dev-" not in text
    names = {
        r["Properties"]["TableName"]
        for r in of_type(prod["Resources"], "AWS::DynamoDB::Table").values()
    }
    assert names == {f"flows-prod-{name}" for name in TABLES}
    for function in of_type(prod["Resources"], "AWS::Serverless::Function").values():
        assert function["Properties"]["Environment"]["Variables"]["FLOWS_STAGE"] == "prod"
        assert function["Properties"]["FunctionName"].startswith("flows-prod-")
