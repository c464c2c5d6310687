from chalicelib.core.identity import service as identity
from chalicelib.core.metering import count_calls


def test_counts_pynamodb_calls_by_operation(aws):
    user, _ = identity.upsert_user(uuid="AAAAAAAA", name="a", email="a@x.io")
    with count_calls() as calls:
        identity.get_user(user.uuid)
        identity.get_user(user.uuid)
    assert calls["dynamodb.GetItem"] == 2 and calls["dynamodb"] == 2
    with count_calls() as calls:
        pass
    assert calls["dynamodb"] == 0
