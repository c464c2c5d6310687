"""HTTP to a taskhub server with a Bearer token; each face's error envelope read as one line."""

from __future__ import annotations

from typing import Any

import httpx

from .errors import CliError
from .profiles import Target

TIMEOUT = httpx.Timeout(30.0, connect=5.0)


def envelope_error(body: Any) -> str | None:
    """The message of a face's error envelope; None when `body` is not one."""
    if not isinstance(body, dict):
        return None
    if body.get("stat") is False:  # JOBX
        return str(body.get("info") or body.get("msg") or "refused")
    error = body.get("error")
    if isinstance(error, dict):  # admin
        return f"{error.get('code', 'error')}: {error.get('message', '')}".strip()
    if "error_code" in body:  # CodeArts
        return f"{body['error_code']}: {body.get('error_msg', '')}"
    if "status_code" in body and body.get("code") not in (0, None):  # TCA
        detail = body.get("invalid_fields") or body.get("data")
        return str(body.get("msg") or "refused") + (f" ({detail})" if detail else "")
    return None


class Client:
    def __init__(self, target: Target):
        self.target = target
        headers = {"User-Agent": "taskhub-cli", "Accept": "application/json"}
        if target.token:
            headers["Authorization"] = f"Bearer {target.token}"
        self.http = httpx.Client(base_url=target.url, headers=headers, timeout=TIMEOUT)

    def close(self) -> None:
        self.http.close()

    def send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.ConnectError as exc:
            raise CliError(
                f"cannot reach {self.target.url}: {_reason(exc)} "
                f"(is the server running? the url comes from {self.target.source})"
            ) from exc
        except httpx.TimeoutException as exc:
            raise CliError(f"{self.target.url} did not answer in time ({method} {path})") from exc
        except httpx.HTTPError as exc:
            raise CliError(f"request to {self.target.url} failed: {_reason(exc)}") from exc
        if response.status_code >= 400:
            raise self._error(response)
        return response

    def _error(self, response: httpx.Response) -> CliError:
        try:
            message = envelope_error(response.json())
        except ValueError:
            message = None
        status = response.status_code
        if message is None:
            message = response.text.strip().splitlines()[0][:200] if response.text.strip() else ""
            message = message or response.reason_phrase
        if status == 401:
            hint = "no token configured" if not self.target.token else "the token was refused"
            message = f"{hint} ({message}); check `taskhub profile list` or TASKHUB_TOKEN"
        return CliError(f"{status}: {message}", status=status)

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.send(method, path, **kwargs)
        try:
            body = response.json()
        except ValueError as exc:
            raise CliError(
                f"{method} {path}: the server answered {response.status_code} without JSON"
            ) from exc
        message = envelope_error(body)
        if message is not None:  # an envelope that says no with a 2xx status
            raise CliError(message, status=response.status_code)
        return body


def _reason(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    if "refused" in text.lower():
        return "connection refused"
    return text.splitlines()[0][:200]
