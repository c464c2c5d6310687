"""The stage's bucket: JSON documents and files by key, one call each."""

from __future__ import annotations

import json
from typing import IO, Any

from . import aws
from .config import settings


def put_json(key: str, document: Any) -> None:
    body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
    aws.client("s3").put_object(
        Bucket=settings().bucket, Key=key, Body=body, ContentType="application/json"
    )


def get_json(key: str) -> Any:
    """The document, or None when there is none under `key`."""
    s3 = aws.client("s3")
    try:
        got = s3.get_object(Bucket=settings().bucket, Key=key)
    except s3.exceptions.NoSuchKey:
        return None
    return json.loads(got["Body"].read())


def put_file(key: str, fileobj: IO[bytes], content_type: str) -> None:
    """One PutObject (no multipart: the embedded store keeps what PutObject writes)."""
    aws.client("s3").put_object(
        Bucket=settings().bucket, Key=key, Body=fileobj.read(), ContentType=content_type
    )


def get_file(key: str, fileobj: IO[bytes]) -> bool:
    """Write the object into `fileobj`; False when there is none."""
    s3 = aws.client("s3")
    try:
        got = s3.get_object(Bucket=settings().bucket, Key=key)
    except s3.exceptions.NoSuchKey:
        return False
    for chunk in got["Body"].iter_chunks(1024 * 1024):
        fileobj.write(chunk)
    return True


def delete(*keys: str) -> None:
    s3 = aws.client("s3")
    for key in keys:
        s3.delete_object(Bucket=settings().bucket, Key=key)
