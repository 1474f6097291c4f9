"""A headless Chromium page for browser tests, which records every Content-Security-Policy
violation the page reports (console messages and `securitypolicyviolation` events)."""

from __future__ import annotations

import contextlib
import os
import shutil

import pytest

from atiende.portal.tests.test_canales_browser import CHROMIUM, CHROMIUM_ARGS

RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' + e.sourceFile + ':' + e.lineNumber);
});
"""


@contextlib.contextmanager
def phone_page(width: int = 375, height: int = 740):
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (CI installs it)")
    sync_api = pytest.importorskip("playwright.sync_api")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": width, "height": height})
            context.add_init_script(RECORD_VIOLATIONS)
            page = context.new_page()
            page.console_errors = []  # type: ignore[attr-defined]
            # Errors and warnings, except a missing resource (the browser's own /favicon.ico).
            page.on(
                "console",
                lambda m: (
                    m.type in ("error", "warning")
                    and not m.text.startswith("Failed to load resource")
                    and page.console_errors.append(m.text)
                ),
            )
            page.on("pageerror", lambda e: page.console_errors.append(f"pageerror: {e}"))
            yield page
        finally:
            browser.close()


def csp_violations(page) -> list[str]:
    """Violations seen so far on the current document, plus console reports of any page."""
    events = page.evaluate("() => window.__csp || []")
    console = [m for m in page.console_errors if "Content Security Policy" in m]
    return events + console


def no_horizontal_scroll(page) -> bool:
    sizes = page.evaluate(
        "() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})"
    )
    return sizes["scroll"] <= sizes["inner"]
