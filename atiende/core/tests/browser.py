"""Headless Chromium for the browser tests: Debian's `/usr/bin/chromium` driven by
Playwright (no browser is ever downloaded). A test whose machine has no Chromium is
skipped with the reason; CI installs it.

Every page records the Content-Security-Policy violations it reports (`csp_violations`)
and the console errors and uncaught exceptions of its scripts (`page.console_errors`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]

RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' + e.sourceFile + ':' + e.lineNumber);
});
"""


def installed() -> bool:
    return os.path.exists(CHROMIUM) or shutil.which("chromium") is not None


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """The browser, closed at the end; the test is skipped where Chromium is missing."""
    if not installed():
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (CI installs it)")
    sync_api = pytest.importorskip("playwright.sync_api")
    # Playwright's sync API runs an event loop in this thread; the live server's database
    # access from the test thread is still synchronous and safe.
    # Set only while the browser runs: a child process started later (the deploy checks)
    # must not inherit it.
    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                yield browser
            finally:
                browser.close()
    finally:
        if before is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before


def expect(*args: Any, **kwargs: Any) -> Any:
    """Playwright's `expect` (waits until the assertion holds or times out)."""
    return pytest.importorskip("playwright.sync_api").expect(*args, **kwargs)


def new_page(
    browser: Any, *, width: int = 1280, height: int = 900, warnings: bool = False, **options: Any
) -> Any:
    """A page in a context of its own (its own cookies: one signed-in person per page).
    `page.console_errors` collects console errors (and warnings, when asked) except a
    missing resource (the browser's own /favicon.ico), and uncaught exceptions."""
    context = browser.new_context(viewport={"width": width, "height": height}, **options)
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    page.console_errors = []
    kinds = ("error", "warning") if warnings else ("error",)
    page.on(
        "console",
        lambda m: (
            m.type in kinds
            and not m.text.startswith("Failed to load resource")
            and page.console_errors.append(m.text)
        ),
    )
    page.on("pageerror", lambda e: page.console_errors.append(f"pageerror: {e}"))
    return page


@contextlib.contextmanager
def phone_page(width: int = 375, height: int = 740) -> Iterator[Any]:
    """One page at a phone's width."""
    with chromium() as browser:
        yield new_page(browser, width=width, height=height, warnings=True)


def sign_in(
    page: Any, base: str, email: str, password: str, *, landing: str | None = "/console/"
) -> None:
    """Through the one sign-in page, by its labels; then wait for the `landing` page (with
    `?next=`), or with `landing=None` for whatever page the sign-in answers."""
    page.goto(f"{base}/accounts/login/" + (f"?next={landing}" if landing else ""))
    page.get_by_label("Correo electrónico").fill(email)
    page.get_by_label("Contraseña").fill(password)
    page.get_by_role("button", name="Ingresar").click()
    if landing:
        page.wait_for_url(f"{base}{landing}")
    else:
        page.wait_for_load_state("domcontentloaded")


def csp_violations(page: Any) -> list[str]:
    """Violations seen so far on the current document, plus console reports of any page."""
    events = page.evaluate("() => window.__csp || []")
    console = [m for m in page.console_errors if "Content Security Policy" in m]
    return list(events) + console


def no_horizontal_scroll(page: Any) -> bool:
    sizes = page.evaluate(
        "() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})"
    )
    return bool(sizes["scroll"] <= sizes["inner"])
