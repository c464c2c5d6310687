"""Count AWS API calls per service, for tests and bench scripts that prove costs stay flat.

It wraps botocore's single call path, so it sees PynamoDB's calls as well as boto3's.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from botocore.client import BaseClient

_lock = threading.Lock()
_active: list[Counter] = []
_original = BaseClient._make_api_call


def _counting_call(self, operation_name, api_params):
    service = self.meta.service_model.service_name
    with _lock:
        for counter in _active:
            counter[service] += 1
            counter[f"{service}.{operation_name}"] += 1
    return _original(self, operation_name, api_params)


@contextmanager
def count_calls() -> Iterator[Counter]:
    """`with count_calls() as calls: ...; calls["dynamodb"], calls["dynamodb.Query"]`."""
    counter: Counter = Counter()
    with _lock:
        if not _active:
            BaseClient._make_api_call = _counting_call
        _active.append(counter)
    try:
        yield counter
    finally:
        with _lock:
            _active.remove(counter)
            if not _active:
                BaseClient._make_api_call = _original
