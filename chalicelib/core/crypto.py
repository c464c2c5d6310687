"""Password hashing, token hashing and encryption of secrets kept at rest.

Passwords get a slow salted hash (scrypt); API tokens are long random strings, so a single
SHA-256 is enough to make the stored form useless to a thief. Access-key secrets must be
recoverable to verify signatures, so they are encrypted with a key from config or SSM.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import threading

from . import aws
from .config import settings

_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(
        password.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=32
    )
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify_password(password: str, stored: str | None) -> bool:
    if not stored:
        return False
    try:
        scheme, n, r, p, salt_b64, digest_b64 = stored.split("$")
        if scheme != "scrypt":
            return False
        digest = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt_b64),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=32,
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(digest, base64.b64decode(digest_b64))


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    """64 characters like ONES's tokens; about 380 bits of randomness."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(secrets.choice(alphabet) for _ in range(64))


_fernet = None
_fernet_lock = threading.Lock()


def secret_parameter_name() -> str:
    return f"/taskhub/{settings().stage}/secret-key"


def _cipher():
    global _fernet
    with _fernet_lock:
        if _fernet is None:
            from cryptography.fernet import Fernet

            key = settings().secret_key
            if not key:
                key = aws.client("ssm").get_parameter(
                    Name=secret_parameter_name(), WithDecryption=True
                )["Parameter"]["Value"]
            _fernet = Fernet(key.encode() if isinstance(key, str) else key)
        return _fernet


def reset() -> None:
    global _fernet
    with _fernet_lock:
        _fernet = None


def ensure_secret_parameter() -> None:
    """Create the encryption key parameter if missing (embedded backend and tests)."""
    from cryptography.fernet import Fernet

    ssm = aws.client("ssm")
    try:
        ssm.get_parameter(Name=secret_parameter_name())
    except ssm.exceptions.ParameterNotFound:
        ssm.put_parameter(
            Name=secret_parameter_name(),
            Value=Fernet.generate_key().decode(),
            Type="SecureString",
        )


def encrypt(plain: str) -> str:
    return _cipher().encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    return _cipher().decrypt(token.encode()).decode()
