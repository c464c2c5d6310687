"""Named profiles {url, token} in a TOML file (`~/.config/taskhub/profiles.toml`, or
`TASKHUB_CONFIG`), written 0600. Which one applies, most specific first: `--profile`;
else `TASKHUB_URL` / `TASKHUB_TOKEN` (each over the value of the profile chosen next);
`TASKHUB_PROFILE`; the file's `current`."""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import CliError

NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


def config_path() -> Path:
    given = os.environ.get("TASKHUB_CONFIG")
    if given:
        return Path(given).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "taskhub" / "profiles.toml"


def load() -> dict[str, Any]:
    """The file as `{"current": name|None, "profiles": {name: {url, token}}}`."""
    path = config_path()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        data = {}
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CliError(f"cannot read profiles file {path}: {exc}") from exc
    profiles = data.get("profiles") if isinstance(data.get("profiles"), dict) else {}
    current = data.get("current") if isinstance(data.get("current"), str) else None
    return {"current": current, "profiles": profiles}


def _quote(value: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(value, ensure_ascii=True)


def save(data: dict[str, Any]) -> Path:
    """Write the file readable by its owner only (the directory too, when made here)."""
    path = config_path()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    lines = []
    if data.get("current"):
        lines += [f"current = {_quote(data['current'])}", ""]
    for name in sorted(data["profiles"]):
        profile = data["profiles"][name]
        lines.append(f"[profiles.{_quote(name)}]")
        for key in ("url", "token"):
            if profile.get(key):
                lines.append(f"{key} = {_quote(str(profile[key]))}")
        lines.append("")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        os.fchmod(fh.fileno(), 0o600)
        fh.write("\n".join(lines))
    return path


def check_name(name: str) -> str:
    if not name or len(name) > 64 or not set(name) <= NAME_CHARS:
        raise CliError(f"profile name {name!r}: use 1-64 letters, digits, '-', '_' or '.'")
    return name


def check_url(url: str) -> str:
    url = url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")) or len(url) < 10:
        raise CliError(f"url {url!r}: give the server's base URL, e.g. http://127.0.0.1:8000")
    return url


@dataclass(frozen=True)
class Target:
    """Where requests go and with what token; `source` says where each came from."""

    url: str
    token: str | None
    profile: str | None
    source: str


def resolve(flag: str | None) -> Target:
    data = load()
    profiles = data["profiles"]
    if flag:
        if flag not in profiles:
            raise CliError(f"no profile {flag!r} in {config_path()} (taskhub profile list)")
        chosen = profiles[flag]
        if not chosen.get("url"):
            raise CliError(f"profile {flag!r} has no url")
        return Target(chosen["url"], chosen.get("token"), flag, "--profile")
    name = os.environ.get("TASKHUB_PROFILE") or data["current"]
    if os.environ.get("TASKHUB_PROFILE") and name not in profiles:
        raise CliError(f"TASKHUB_PROFILE names no profile {name!r} in {config_path()}")
    chosen = profiles.get(name or "", {})
    url = os.environ.get("TASKHUB_URL") or chosen.get("url")
    token = os.environ.get("TASKHUB_TOKEN") or chosen.get("token")
    if not url:
        raise CliError(
            "no server configured: taskhub profile add NAME --url URL (or set TASKHUB_URL)"
        )
    source = "TASKHUB_URL" if os.environ.get("TASKHUB_URL") else f"profile {name}"
    return Target(check_url(url), token, name if chosen else None, source)
