"""The `taskhub` command: its groups, global options, and the one place errors become a
line on stderr (or a JSON object with `--json`) and an exit code."""

from __future__ import annotations

import json
import sys

import click

from .. import __version__
from .context import State, json_option, state
from .errors import ERROR, CliError
from .jobx import jobx
from .profile import profile
from .scans import scan
from .workspace import workspace


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--profile", "profile_name", envvar=None, help="Use this profile.")
@json_option
@click.version_option(__version__, prog_name="taskhub", message="%(prog)s %(version)s")
def cli(profile_name: str | None) -> None:
    """taskhub: follow JOBX tasks and scans, and run the everyday verbs, over HTTP.

    Exit codes: 0 success, 1 the task or scan failed, 2 it was stopped, 3 an error
    (refused request, unreachable server, bad token, bad usage), 130 interrupted."""
    state().profile = profile_name


cli.add_command(jobx)
cli.add_command(scan)
cli.add_command(workspace)
cli.add_command(profile)


def main(argv: list[str] | None = None) -> int:
    st = State()
    try:
        with cli.make_context(
            "taskhub", list(sys.argv[1:] if argv is None else argv), obj=st
        ) as ctx:
            result = cli.invoke(ctx)
        return result if isinstance(result, int) else 0
    except CliError as exc:
        return _fail(st, exc.message, exc.code, exc.status)
    except click.exceptions.Exit as exc:  # --help, --version
        return exc.exit_code
    except click.ClickException as exc:
        if st.json:
            return _fail(st, exc.format_message(), ERROR, None)
        exc.show()
        return ERROR
    except click.Abort:
        return _fail(st, "aborted", 130, None)
    except KeyboardInterrupt:
        return _fail(st, "interrupted", 130, None)
    finally:
        st.close()


def _fail(st: State, message: str, code: int, status: int | None) -> int:
    if st.json:
        click.echo(json.dumps({"error": message, "status": status, "exit": code}))
    else:
        click.echo(f"taskhub: {message}", err=True)
    return code
