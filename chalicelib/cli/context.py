"""What every command shares: the chosen server, `--json`, the consoles, and how results
are printed (JSON only with `--json`, rich tables otherwise)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

import click
from rich.console import Console

from .client import Client
from .errors import CliError
from .profiles import resolve


class State:
    def __init__(self) -> None:
        self.profile: str | None = None
        self.json = False
        self._client: Client | None = None
        self.out = Console(highlight=False, soft_wrap=True)
        self.err = Console(stderr=True, highlight=False, soft_wrap=True)

    @property
    def client(self) -> Client:
        if self._client is None:
            self._client = Client(resolve(self.profile))
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def interactive(self) -> bool:
        """Prompts are possible: both ends are a terminal and JSON was not asked for."""
        return not self.json and sys.stdin.isatty() and sys.stdout.isatty()

    def emit(self, data: Any, render: Callable[[Console, Any], None] | None = None) -> None:
        if self.json or render is None:
            click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))
        else:
            render(self.out, data)


def state() -> State:
    return click.get_current_context().find_root().ensure_object(State)


def _set_json(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        ctx.find_root().ensure_object(State).json = True


def json_option(fn: Callable) -> Callable:
    """`--json` on a verb (the root's `--json` does the same for every verb)."""
    return click.option(
        "--json",
        "as_json",
        is_flag=True,
        expose_value=False,
        is_eager=True,
        callback=_set_json,
        help="Print machine-readable JSON only.",
    )(fn)


def parse_vars(pairs: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        name, eq, value = pair.partition("=")
        if not eq or not name:
            raise CliError(f"--var {pair!r}: give it as name=value")
        out[name] = value
    return out
