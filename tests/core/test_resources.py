"""The resource registry: a table made before an index was declared gets it at start."""

from __future__ import annotations

from chalicelib.core import aws as aws_clients
from chalicelib.core import resources
from chalicelib.core.identity import service as identity
from chalicelib.core.identity.models import UserModel


def test_an_existing_table_gets_the_indexes_declared_since(aws):
    dynamodb = aws_clients.client("dynamodb")
    spec = resources.table_spec(UserModel)
    name = spec["TableName"]
    dynamodb.delete_table(TableName=name)
    old = {k: v for k, v in spec.items() if k != "GlobalSecondaryIndexes"}
    old["AttributeDefinitions"] = [
        a for a in spec["AttributeDefinitions"] if a["AttributeName"] == "uuid"
    ]
    dynamodb.create_table(**old)
    UserModel(uuid="OldUser1", name="Old", email="old@x.io", created_at=1).save()

    resources._indexed.clear()  # as in a new process: the start checks every table once
    resources.create_all()

    described = dynamodb.describe_table(TableName=name)["Table"]
    declared = {i["IndexName"] for i in spec["GlobalSecondaryIndexes"]}
    assert {i["IndexName"] for i in described["GlobalSecondaryIndexes"]} == declared
    assert identity.find_user_by_email("old@x.io").uuid == "OldUser1"  # filled from the items
    assert resources.add_missing_indexes(UserModel) == []
