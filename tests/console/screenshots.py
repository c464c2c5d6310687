"""PNGs of each console page: a local server with the demo data, Debian's Chromium at
1280x800, one file per page.

    .venv/bin/python -m tests.console.screenshots docs/console     # or: make screenshots
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.e2e.local import LocalServer

from . import browser as chromium
from . import demo as demo_data


def shoot(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    server = LocalServer().start()
    written = []
    try:
        demo = demo_data.load(server)
        with sync_playwright() as playwright:
            browser = chromium.launch(playwright)
            page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()

            def save(name: str) -> None:
                path = out / f"{name}.png"
                page.screenshot(path=str(path))
                written.append(path)

            page.goto(demo.url("/console"))
            save("login")
            page.fill("#token", demo_data.TOKEN)
            page.click("button[type=submit]")
            page.wait_for_url(demo.url("/console"))
            save("home")
            demo.release("web1")  # batch 1 done, batch 2 running
            page.goto(demo.url(demo.task_page))
            page.locator('svg.strip rect[data-batch="2"][data-status="running"]').wait_for(
                state="attached"
            )
            save("jobx-task")
            page.goto(demo.url(f"/console/jobx/{demo_data.PROJECT}"))
            save("jobx-tasks")
            page.goto(demo.url(demo.scans_page))
            save("scans")
            page.goto(demo.url(demo.scan_page))
            save("scan")
            page.goto(demo.url(demo.ones_page))
            save("ones-tree")
            browser.close()
        demo.release(*demo_data.NODES)
    finally:
        server.stop()
    return written


if __name__ == "__main__":
    for path in shoot(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/console")):
        print(path, path.stat().st_size)
