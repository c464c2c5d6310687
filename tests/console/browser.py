"""Debian's Chromium, driven headless by Playwright (its own driver; no downloaded browser)."""

from __future__ import annotations

from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",  # CI runs as root
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
MISSING = (
    f"Debian's Chromium is not at {CHROMIUM}: install it with `apt-get install chromium` "
    "(`make test` does so when run as root)"
)


def launch(playwright):
    if not CHROMIUM.exists():
        raise RuntimeError(MISSING)
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
