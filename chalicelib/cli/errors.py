"""What a command can fail with, and the exit codes scripts can rely on."""

from __future__ import annotations

OK, FAILED, STOPPED, ERROR, INTERRUPTED = 0, 1, 2, 3, 130


class CliError(Exception):
    """One line for the user and the exit code; never a traceback."""

    def __init__(self, message: str, code: int = ERROR, status: int | None = None):
        super().__init__(message)
        self.message, self.code, self.status = message, code, status
