"""`taskhub workspace apply FILE` / `export`: the admin surface's workspace document."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from ..core.documents import merge
from .context import json_option, state
from .errors import OK, CliError


@click.group()
def workspace() -> None:
    """The workspace document (users, namespaces, each face's sections); admin token."""


@workspace.command()
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@json_option
def apply(file):
    """Apply a workspace document (JSON; '-' reads stdin). Idempotent."""
    st = state()
    try:
        text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
    except OSError as exc:
        raise CliError(f"cannot read {file}: {exc.strerror or exc}") from exc
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise CliError(f"{file} is not JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise CliError(f"{file}: a workspace document is a JSON object")
    applied = st.client.json("PUT", "/admin/v1/workspace", json=document)["applied"]

    def render(out: Console, applied: dict[str, Any]) -> None:
        table = Table("section", "created", "updated", "unchanged")
        for section, counts in applied.items():
            if isinstance(counts, dict):
                table.add_row(
                    section,
                    *(str(counts.get(k, 0)) for k in ("created", "updated", "unchanged")),
                )
        out.print(table)

    st.emit(applied, render)
    return OK


@workspace.command()
@click.option("--out", "out_file", type=click.Path(dir_okay=False), help="Write it here.")
@click.option(
    "--limit", default=100, show_default=True, type=click.IntRange(1, 1000), help="Per page."
)
@json_option
def export(out_file, limit):
    """The whole workspace document, page after page (secrets are never in it)."""
    st = state()
    document: dict[str, list[dict[str, Any]]] = {}
    cursor, pages = None, 0
    while True:
        params = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        page = st.client.json("GET", "/admin/v1/workspace", params=params)
        merge(document, page["workspace"])
        pages += 1
        cursor = page.get("cursor")
        if not cursor:
            break
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if out_file is None:
        click.echo(text, nl=False)
        return OK
    Path(out_file).write_text(text, encoding="utf-8")
    counts = {name: len(items) for name, items in document.items()}
    summary = {"out": out_file, "pages": pages, "sections": counts}
    st.emit(
        summary,
        lambda out, s: out.print(
            f"wrote {out_file}: "
            + ", ".join(f"{n} {k}" for k, n in s["sections"].items())
            + f" ({pages} pages)"
        ),
    )
    return OK
