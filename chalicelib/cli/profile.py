"""`taskhub profile add/list/use/remove`: named servers and their tokens (never printed)."""

from __future__ import annotations

import sys
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from . import profiles
from .context import json_option, state
from .errors import OK, CliError


@click.group()
def profile() -> None:
    """Named profiles {url, token}; TASKHUB_URL, TASKHUB_TOKEN, TASKHUB_PROFILE override."""


@profile.command()
@click.argument("name")
@click.option("--url", required=True, help="The server's base URL.")
@click.option("--token", help="The token (else prompted, or read from stdin when piped).")
@click.option("--use", "make_current", is_flag=True, help="Make it the current profile.")
@json_option
def add(name, url, token, make_current):
    """Add or replace a profile; the first one becomes current."""
    st = state()
    name, url = profiles.check_name(name), profiles.check_url(url)
    if token is None:
        if sys.stdin.isatty():
            token = click.prompt("Token", hide_input=True, default="", show_default=False)
        else:
            token = sys.stdin.readline().strip()
    data = profiles.load()
    data["profiles"][name] = {"url": url, **({"token": token} if token else {})}
    if make_current or not data["current"] or data["current"] not in data["profiles"]:
        data["current"] = name
    path = profiles.save(data)
    done = {"profile": name, "url": url, "token": bool(token), "current": data["current"] == name}
    st.emit(
        done,
        lambda out, d: out.print(f"saved profile {name} ({escape(url)}) in {escape(str(path))}"),
    )
    return OK


@profile.command("list")
@json_option
def list_profiles():
    """The profiles (tokens shown only as set or not)."""
    st = state()
    data = profiles.load()
    rows = [
        {
            "profile": name,
            "url": p.get("url"),
            "token": bool(p.get("token")),
            "current": name == data["current"],
        }
        for name, p in sorted(data["profiles"].items())
    ]

    def render(out: Console, rows: list[dict[str, Any]]) -> None:
        table = Table("", "profile", "url", "token")
        for r in rows:
            table.add_row(
                "*" if r["current"] else "",
                r["profile"],
                escape(r["url"] or ""),
                "set" if r["token"] else "none",
            )
        out.print(table)
        out.print(f"file: {escape(str(profiles.config_path()))}")

    st.emit(rows, render)
    return OK


@profile.command()
@click.argument("name")
@json_option
def use(name):
    """Make NAME the current profile."""
    st = state()
    data = profiles.load()
    if name not in data["profiles"]:
        raise CliError(f"no profile {name!r} (taskhub profile list)")
    data["current"] = name
    profiles.save(data)
    st.emit({"current": name}, lambda out, d: out.print(f"current profile: {name}"))
    return OK


@profile.command()
@click.argument("name")
@json_option
def remove(name):
    """Forget a profile."""
    st = state()
    data = profiles.load()
    if data["profiles"].pop(name, None) is None:
        raise CliError(f"no profile {name!r} (taskhub profile list)")
    if data["current"] == name:
        data["current"] = next(iter(sorted(data["profiles"])), None)
    profiles.save(data)
    st.emit(
        {"removed": name, "current": data["current"]}, lambda out, d: out.print(f"removed {name}")
    )
    return OK


@profile.command()
@json_option
def which():
    """Which server and profile a command would use now, and why (no token shown)."""
    st = state()
    target = profiles.resolve(st.profile)
    found = {
        "url": target.url,
        "profile": target.profile,
        "source": target.source,
        "token": bool(target.token),
    }
    st.emit(
        found,
        lambda out, d: out.print(
            f"{d['url']} (from {d['source']}; token {'set' if d['token'] else 'none'})"
        ),
    )
    return OK
