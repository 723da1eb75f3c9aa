"""Dashboard fixtures: the e2e mesh with staff credentials, Debian's chromium, signed-in pages.

The mesh is the e2e harness (`tests/e2e/harness.py`), started once for this folder, with the
first staff account configured. Browser tests drive Debian's chromium through Playwright
(`make test` installs the package when it is missing; Playwright's own browser downloads are
not used). Screenshots go to `test-output/` at the repository root.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ROOT, migrated_database, redis_namespace
from tests.e2e.harness import Mesh

STAFF_EMAIL = "kitchen@example.com"
STAFF_PASSWORD = "correct-horse-battery-staple"
SESSION_SECRET = "test-session-secret-0123456789abcdef0123456789"
OUTPUT = ROOT / "test-output"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="package")
def mesh(pg_template: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mesh]:
    """The whole mesh with the demo store and a first staff account, shared by this folder."""
    with migrated_database(pg_template) as db, redis_namespace(redis_url) as prefix:
        log_dir = Path(tmp_path_factory.mktemp("dashboard-mesh"))
        env = {"ADMIN_EMAIL": STAFF_EMAIL, "ADMIN_PASSWORD": STAFF_PASSWORD, "SESSION_SECRET": SESSION_SECRET}
        with Mesh(db, redis_url, prefix, log_dir, extra_env=env) as m:
            m.run_cli("load-menu", "--demo")
            m.start()
            yield m


def chromium_path() -> str:
    """Debian's chromium; the session fails (never skips) when it is missing."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.exit(
            "chromium is not installed: run `make test` (it installs it) or apt-get install chromium", 3
        )
    return found


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless chromium per module of browser tests.

    Module-scoped, not wider: Playwright's sync API keeps an event loop running while it is
    open, and the async tests of other modules need the thread's loop to themselves.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


def sign_in(
    browser: Any,
    mesh: Mesh,
    *,
    viewport: tuple[int, int] = (1180, 820),
    touch: bool = False,
    email: str = STAFF_EMAIL,
    password: str = STAFF_PASSWORD,
) -> Any:
    """A new browser context signed in as `email` (the owner by default); returns its page on
    the queue. `touch` makes it a touch screen (a tablet)."""
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]}, has_touch=touch)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(mesh.url("orders") + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/dashboard")
    page.locator('#live-state[data-state="live"]').wait_for()
    return page


def screenshot(page: Any, name: str, *, full_page: bool = True) -> Path:
    """Save a screenshot (the whole page, or what the screen shows) under test-output/; returns its path."""
    OUTPUT.mkdir(exist_ok=True)
    path = OUTPUT / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def staff_client(mesh: Mesh) -> tuple[httpx.Client, str]:
    """An HTTP client signed in as staff (cookies kept) and the session's CSRF token."""
    client = httpx.Client(base_url=mesh.url("orders"), timeout=10)
    form = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token, form.text
    done = client.post(
        "/login", data={"email": STAFF_EMAIL, "password": STAFF_PASSWORD, "csrf_token": token.group(1)}
    )
    assert done.status_code == 303 and done.headers["location"] == "/dashboard", done.status_code
    queue = client.get("/dashboard")
    csrf = re.search(r'"X-CSRF-Token": "([^"]+)"', queue.text)
    assert csrf
    return client, csrf.group(1)
