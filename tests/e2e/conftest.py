"""A real ``streamlit run app.py`` server on a free port, and the system's headless Chromium.

The browser is Debian's ``/usr/bin/chromium`` (Playwright cannot download one here). If it is
missing the tests fail, they do not skip: CI installs it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from territory import settings

CHROMIUM = os.environ.get("TERRITORY_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, db: Path) -> None:
        self.db = db
        self.port = _free_port()
        self.url = f"http://localhost:{self.port}"
        env = {**os.environ, settings.DB_ENV_VAR: str(db), "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(self.port),
             "--server.headless", "true", "--server.fileWatcherType", "none"],
            cwd=settings.ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        self.log: list[str] = []
        for line in self.proc.stdout:  # blocks until the server says it listens (or exits)
            self.log.append(line)
            if "Local URL" in line or "You can now view" in line:
                break
        if self.proc.poll() is not None:
            raise RuntimeError("streamlit did not start:\n" + "".join(self.log))

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@pytest.fixture
def server(tmp_path) -> Iterator[Server]:
    srv = Server(tmp_path / "e2e.duckdb")
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


def wait_until_idle(page, timeout: float = 180_000) -> None:
    """Wait for Streamlit to finish the current script run."""
    page.wait_for_selector("[data-test-script-state='notRunning']", timeout=timeout)


def wait_until_settled(page, quiet_ms: int = 1_000, timeout: float = 180_000) -> None:
    """Wait until no script run has started for ``quiet_ms``: a map component that reports its
    value after a rerun starts another one, and a widget clicked during that run can be reset."""
    page.evaluate("() => { delete window.__tpIdleSince; }")
    page.wait_for_function(
        """(quiet) => {
          const idle = !!document.querySelector("[data-test-script-state='notRunning']");
          const now = performance.now();
          if (!idle || window.__tpIdleSince === undefined) window.__tpIdleSince = idle ? now : undefined;
          return idle && now - window.__tpIdleSince >= quiet;
        }""",
        arg=quiet_ms, polling=100, timeout=timeout)
