"""Conditional writes: a write whose condition no longer holds is an answer, not an error.

Workers move state with conditional writes so a redelivered or raced message changes
nothing; only DynamoDB's ConditionalCheckFailed (or a transaction cancelled for it) means
"someone else got there first". Anything else is a real failure and propagates.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pynamodb.exceptions import DeleteError, PutError, TransactWriteError, UpdateError

CONDITION_FAILED = "ConditionalCheckFailedException"
WRITE_ERRORS = (PutError, UpdateError, DeleteError)


def condition_failed(exc: Exception) -> bool:
    """True when `exc` is a write refused only because its condition did not hold. A
    transaction cancelled for another reason (a conflict with a concurrent one) is not."""
    if isinstance(exc, TransactWriteError):
        if exc.cause_response_code != "TransactionCanceledException":
            return False
        codes = {getattr(r, "code", None) for r in exc.cancellation_reasons if r is not None}
        return "ConditionalCheckFailed" in codes and codes <= {"ConditionalCheckFailed", "None"}
    if isinstance(exc, WRITE_ERRORS):
        return exc.cause_response_code == CONDITION_FAILED
    return False


def applied(write: Callable[[], Any]) -> bool:
    """Run a conditional write: True if it was applied, False if its condition failed."""
    try:
        write()
    except (*WRITE_ERRORS, TransactWriteError) as exc:
        if condition_failed(exc):
            return False
        raise
    return True
