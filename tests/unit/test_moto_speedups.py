"""chalicelib.moto_speedups changes what moto's Query costs, never what it answers: every query
here runs on the same tables with and without the patches, page by page, and must match."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest
from moto import mock_aws

from chalicelib import moto_speedups


@pytest.fixture(scope="module")
def table() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="t",
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                       {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[{"AttributeName": n, "AttributeType": t} for n, t in
                                  (("pk", "S"), ("sk", "S"), ("g", "S"), ("n", "N"))],
            GlobalSecondaryIndexes=[{
                "IndexName": "by_g",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"},
                              {"AttributeName": "n", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }],
        )  # fmt: skip
        shuffled = random.Random(3)
        for number in shuffled.sample(range(300), 300):
            item = {"pk": {"S": f"p{number % 7}"}, "sk": {"S": f"s{number:04d}"},
                    "n": {"N": str(number % 50)}}  # fmt: skip
            if number % 3:  # a sparse index: a third of the items are not in it
                item["g"] = {"S": f"g{number % 4}"}
            client.put_item(TableName="t", Item=item)
        yield client


def _all_pages(client: Any, limit: int | None = 17, **query: Any) -> list[Any]:
    pages, start = [], None
    while True:
        extra = {"ExclusiveStartKey": start} if start else {}
        if limit is not None:
            extra["Limit"] = limit
        page = client.query(**{"TableName": "t", **query, **extra})
        pages.append((page["Items"], page.get("LastEvaluatedKey")))
        start = page.get("LastEvaluatedKey")
        if not start:
            return pages


QUERIES = [
    {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "p3"}}},
    {"KeyConditionExpression": "pk = :p AND sk > :s", "ScanIndexForward": False,
     "ExpressionAttributeValues": {":p": {"S": "p1"}, ":s": {"S": "s0150"}}},
    {"KeyConditionExpression": "pk = :p", "ConsistentRead": True,
     "ExpressionAttributeValues": {":p": {"S": "nobody"}}},
    {"KeyConditionExpression": "pk = :p AND begins_with(sk, :s)",
     "ExpressionAttributeValues": {":p": {"S": "p2"}, ":s": {"S": "s00"}}},
    {"KeyConditionExpression": "pk = :p AND sk BETWEEN :a AND :b", "ScanIndexForward": False,
     "ExpressionAttributeValues": {":p": {"S": "p5"}, ":a": {"S": "s0040"},
                                   ":b": {"S": "s0200"}}},
    {"KeyConditionExpression": "pk = :p", "FilterExpression": "n < :n",
     "ExpressionAttributeValues": {":p": {"S": "p6"}, ":n": {"N": "20"}}},
    {"KeyConditionExpression": "pk = :p AND sk < :s", "FilterExpression": "attribute_exists(g)",
     "ScanIndexForward": False,
     "ExpressionAttributeValues": {":p": {"S": "p0"}, ":s": {"S": "s0100"}}},
    {"IndexName": "by_g", "KeyConditionExpression": "g = :g",
     "ExpressionAttributeValues": {":g": {"S": "g2"}}},
    {"IndexName": "by_g", "KeyConditionExpression": "g = :g", "ScanIndexForward": False,
     "ExpressionAttributeValues": {":g": {"S": "g3"}}},
    {"IndexName": "by_g", "KeyConditionExpression": "g = :g", "FilterExpression": "n < :n",
     "ExpressionAttributeValues": {":g": {"S": "g1"}, ":n": {"N": "20"}}},
    {"IndexName": "by_g", "KeyConditionExpression": "g = :g AND n > :n",
     "ExpressionAttributeValues": {":g": {"S": "g2"}, ":n": {"N": "10"}}},
    {"IndexName": "by_g", "KeyConditionExpression": "g = :g AND n BETWEEN :a AND :b",
     "ScanIndexForward": False,
     "ExpressionAttributeValues": {":g": {"S": "g1"}, ":a": {"N": "5"}, ":b": {"N": "30"}}},
]  # fmt: skip


@pytest.mark.parametrize("limit", [17, 1, 5, None])
@pytest.mark.parametrize("query", QUERIES)
def test_a_query_answers_the_same_pages_with_and_without_the_speedups(
    table: Any, query: dict[str, Any], limit: int | None
) -> None:
    fast = _all_pages(table, limit, **query)
    moto_speedups.uninstall()
    try:
        as_shipped = _all_pages(table, limit, **query)
    finally:
        moto_speedups.install()
    assert fast == as_shipped
    assert len(fast) > 1 or limit in (17, None) or query is QUERIES[2]  # small pages page
    assert sum(len(items) for items, _ in fast) > 0 or "nobody" in str(query)


def test_a_scan_answers_the_same_with_and_without_the_speedups(table: Any) -> None:
    fast = table.scan(TableName="t")["Items"]
    moto_speedups.uninstall()
    try:
        as_shipped = table.scan(TableName="t")["Items"]
    finally:
        moto_speedups.install()
    assert fast == as_shipped
    assert len(fast) == 300


@contextmanager
def _items_handed_to_moto() -> Iterator[list[int]]:
    """How many items each Query's ``Table.all_items`` handed to moto, call by call."""
    from moto.dynamodb.models.table import Table

    seen: list[int] = []
    real = Table.all_items

    def counting(self: Table) -> list[Any]:
        found = real(self)
        seen.append(len(found))
        return found

    Table.all_items = counting  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        Table.all_items = real  # type: ignore[method-assign]


def test_a_base_table_query_reads_only_its_partition(table: Any) -> None:
    with _items_handed_to_moto() as seen:
        table.query(TableName="t", KeyConditionExpression="pk = :p",
                    ExpressionAttributeValues={":p": {"S": "p3"}})  # fmt: skip
    assert seen == [43]  # numbers 0..299 with number % 7 == 3, not all 300


def test_a_page_of_a_base_table_query_hands_moto_only_the_items_it_reaches(table: Any) -> None:
    # moto sorts what all_items gives (comparing DynamoType objects) and walks it to the item
    # after the limit: a page of 5 from a partition of thousands cost O(partition) before.
    with _items_handed_to_moto() as seen:
        first = table.query(TableName="t", KeyConditionExpression="pk = :p", Limit=5,
                            ExpressionAttributeValues={":p": {"S": "p3"}})  # fmt: skip
        table.query(TableName="t", KeyConditionExpression="pk = :p", Limit=5,
                    ExclusiveStartKey=first["LastEvaluatedKey"],
                    ExpressionAttributeValues={":p": {"S": "p3"}})  # fmt: skip
    assert seen == [6, 6]


def test_a_page_of_an_index_query_hands_moto_only_the_items_it_walks(table: Any) -> None:
    # moto sorted every item of the index key's value (comparing DynamoType objects) and
    # walked them to the item after the limit: at 10,000 active participants a page of the
    # by_status index took most of a second (the soak's resume and sweeps).
    from moto.dynamodb.models.table import Table

    walked: list[int] = []
    real = Table.sorted_items

    def counting(self: Table, *args: Any) -> list[Any]:
        found = real(self, *args)
        walked.append(len(found))
        return found

    query = {"TableName": "t", "IndexName": "by_g", "KeyConditionExpression": "g = :g",
             "Limit": 5, "ExpressionAttributeValues": {":g": {"S": "g1"}}}  # fmt: skip
    Table.sorted_items = counting  # type: ignore[method-assign]
    try:
        first = table.query(**query)
        table.query(**query, ExclusiveStartKey=first["LastEvaluatedKey"])
        table.query(**query, ScanIndexForward=False)
    finally:
        Table.sorted_items = real  # type: ignore[method-assign]
    assert walked == [6, 6, 6]  # of the 50 items with g = "g1"


def _data_plane_calls(client: Any) -> list[Any]:
    key = {"pk": {"S": "p1"}, "sk": {"S": "s0001"}}
    answers = [
        client.get_item(TableName="t", Key=key, ConsistentRead=True),
        client.get_item(TableName="t", Key={"pk": {"S": "p1"}, "sk": {"S": "none"}}),
        client.put_item(TableName="t", Item={**key, "m": {"M": {"l": {"L": [{"N": "1"}]}}},
                        "b": {"BOOL": True}, "ss": {"SS": ["a", "b"]}}, ReturnValues="ALL_OLD"),
        client.update_item(TableName="t", Key=key, UpdateExpression="SET n = :n",
                           ExpressionAttributeValues={":n": {"N": "7"}}, ReturnValues="ALL_NEW"),
        client.delete_item(TableName="t", Key=key, ReturnValues="ALL_OLD"),
        client.delete_item(TableName="t", Key=key),
        client.batch_get_item(RequestItems={"t": {"Keys": [
            {"pk": {"S": "p2"}, "sk": {"S": "s0002"}},
            {"pk": {"S": "p3"}, "sk": {"S": "s0003"}}]}}),
        client.batch_write_item(RequestItems={"t": [{"PutRequest": {"Item": {
            "pk": {"S": "p9"}, "sk": {"S": "x"}}}}]}),
        client.transact_write_items(TransactItems=[{"Put": {"TableName": "t", "Item": {
            "pk": {"S": "p9"}, "sk": {"S": "y"}},
            "ConditionExpression": "attribute_not_exists(pk)"}}]),
        client.transact_get_items(TransactItems=[{"Get": {"TableName": "t", "Key": {
            "pk": {"S": "p9"}, "sk": {"S": "y"}}}}]),
        client.query(TableName="t", KeyConditionExpression="pk = :p", Select="COUNT",
                     ExpressionAttributeValues={":p": {"S": "p4"}}),
        client.scan(TableName="t", Limit=5),
    ]  # fmt: skip
    for answer in answers:
        answer.pop("ResponseMetadata", None)
    return answers


def test_data_plane_answers_are_the_same_with_and_without_the_speedups(table: Any) -> None:
    key = {"pk": {"S": "p1"}, "sk": {"S": "s0001"}}
    original = table.get_item(TableName="t", Key=key)["Item"]
    before = moto_speedups._counts["fast_answers"]
    fast = _data_plane_calls(table)
    assert moto_speedups._counts["fast_answers"] - before == 12  # not moto's serializer
    table.put_item(TableName="t", Item=original)
    table.delete_item(TableName="t", Key={"pk": {"S": "p9"}, "sk": {"S": "x"}})
    table.delete_item(TableName="t", Key={"pk": {"S": "p9"}, "sk": {"S": "y"}})
    moto_speedups.uninstall()
    try:
        as_shipped = _data_plane_calls(table)
    finally:
        moto_speedups.install()
    assert fast == as_shipped


def _queue_story() -> list[Any]:
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="story")["QueueUrl"]
    for n in range(5):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{n}", DelaySeconds=60 if n < 2 else 0)
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "a", "MessageBody": "b0"}])
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2)["Messages"]
    counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    sqs.delete_queue(QueueUrl=url)
    return [
        len(received),
        {k: v for k, v in counts.items() if k.startswith("ApproximateNumberOfMessages")},
    ]


def test_sqs_sends_receives_and_counts_are_the_same_with_and_without_the_speedups() -> None:
    with mock_aws():
        fast = _queue_story()
        moto_speedups.uninstall()
        try:
            as_shipped = _queue_story()
        finally:
            moto_speedups.install()
    assert fast == as_shipped
    assert fast == [2, {"ApproximateNumberOfMessages": "2",
                        "ApproximateNumberOfMessagesNotVisible": "2",
                        "ApproximateNumberOfMessagesDelayed": "2"}]  # fmt: skip


def test_requests_to_moto_in_process_go_unsigned_and_others_stay_signed() -> None:
    # The in-process mock reads nothing of a signature; moto's server routes by it, and a
    # presigned url is nothing without it.
    from botocore.awsrequest import AWSResponse

    seen: dict[str, bytes | None] = {}

    def capture(name: str) -> Any:
        def hook(request: Any, **_: Any) -> AWSResponse:
            seen[name] = request.headers.get("Authorization")
            return AWSResponse(request.url, 200, {}, _Body(b'{"TableNames": []}'))

        return hook

    with mock_aws():
        mocked = boto3.client("dynamodb", region_name="us-east-1")
        mocked.meta.events.register_first("before-send.dynamodb", capture("in process"))
        mocked.list_tables()
        local = boto3.client(
            "dynamodb", region_name="us-east-1", endpoint_url="http://127.0.0.1:5999"
        )
        local.meta.events.register_first("before-send.dynamodb", capture("server"))
        local.list_tables()
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="bucket")
        s3.put_object(Bucket="bucket", Key="k", Body=b"x")
        # moto's S3 takes an unsigned request for an anonymous one: 403
        assert s3.head_object(Bucket="bucket", Key="k")["ContentLength"] == 1
        url = s3.generate_presigned_url("get_object", Params={"Bucket": "b", "Key": "k"})
    assert seen["in process"] is None
    assert b"AWS4-HMAC-SHA256 Credential=" in bytes(seen["server"] or b"")
    assert "Signature=" in url


class _Body:
    def __init__(self, content: bytes) -> None:
        self.content = content

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.content


def test_an_index_query_sees_every_write_before_it(table: Any) -> None:
    """The index of items by value (``_ByValue``) is kept up to date by marking what each write
    touched: puts, updates that set or remove the index key, deletes, batch writes, and
    transactions, committed or cancelled. After every write, each index Query answers what a
    Scan of the table finds."""
    client = table
    client.create_table(
        TableName="u",
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                   {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"}
                              for n in ("pk", "sk", "g")],
        GlobalSecondaryIndexes=[{"IndexName": "by_g", "Projection": {"ProjectionType": "ALL"},
                                 "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}]}],
    )  # fmt: skip
    writes = _RandomWrites(client, random.Random(5))
    try:
        for _ in range(150):
            writes.one()
            everything = client.scan(TableName="u")["Items"]
            for group in _GROUPS:
                query = {"IndexName": "by_g", "KeyConditionExpression": "g = :g",
                         "ExpressionAttributeValues": {":g": {"S": group}}}  # fmt: skip
                pages = _all_pages(client, 7, TableName="u", **query)
                found = [i for page, _ in pages for i in page]
                wanted = [i for i in everything if i.get("g") == {"S": group}]
                assert _keys(found) == _keys(wanted), group
        assert writes.cancelled > 0  # both kinds of transaction ran
        assert writes.committed > 0
    finally:
        client.delete_table(TableName="u")


_GROUPS = ["g0", "g1", "g2"]


def _keys(items: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return sorted((i["pk"]["S"], i["sk"]["S"]) for i in items)


class _RandomWrites:
    """Writes of every kind to table ``u``, on 40 keys."""

    def __init__(self, client: Any, rng: random.Random) -> None:
        self.client, self.rng = client, rng
        self.cancelled = self.committed = 0

    def key(self, n: int) -> dict[str, Any]:
        return {"pk": {"S": f"p{n % 3}"}, "sk": {"S": f"s{n:03d}"}}

    def item(self, n: int) -> dict[str, Any]:
        found = self.key(n)
        if self.rng.random() < 0.8:
            found["g"] = {"S": self.rng.choice(_GROUPS)}
        return found

    def set_group(self, n: int) -> dict[str, Any]:
        return {"Key": self.key(n), "UpdateExpression": "SET g = :g",
                "ExpressionAttributeValues": {":g": {"S": self.rng.choice(_GROUPS)}}}  # fmt: skip

    def one(self) -> None:
        client, n, kind = self.client, self.rng.randrange(40), self.rng.randrange(6)
        if kind == 0:
            client.put_item(TableName="u", Item=self.item(n))
        elif kind == 1:
            client.update_item(TableName="u", **self.set_group(n))
        elif kind == 2:
            client.update_item(TableName="u", Key=self.key(n), UpdateExpression="REMOVE g")
        elif kind == 3:
            client.delete_item(TableName="u", Key=self.key(n))
        elif kind == 4:
            client.batch_write_item(RequestItems={"u": [
                {"PutRequest": {"Item": self.item(n)}},
                {"DeleteRequest": {"Key": self.key((n + 1) % 40)}}]})  # fmt: skip
        else:
            self.transaction(n)

    def transaction(self, n: int) -> None:
        # Its condition fails half the time, and then nothing of it is written.
        condition = (
            "attribute_exists(pk)" if self.rng.random() < 0.5 else "attribute_not_exists(pk)"
        )
        update = {
            "TableName": "u",
            **self.set_group((n + 2) % 40),
            "ConditionExpression": condition,
        }
        try:
            self.client.transact_write_items(
                TransactItems=[{"Put": {"TableName": "u", "Item": self.item(n)}},
                               {"Update": update}]
            )  # fmt: skip
        except self.client.exceptions.TransactionCanceledException:
            self.cancelled += 1
        else:
            self.committed += 1
