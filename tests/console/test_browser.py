"""The console in a real headless Chromium: the moderator's path from log-in to the audit log.

Runs the real app under uvicorn on a free loopback port with a seeded SQLite
store, and drives Debian's ``/usr/bin/chromium`` through Playwright (no
browser download). Skipped, with the reason, only when Chromium or the
``playwright`` package is missing.
"""
from __future__ import annotations

import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

import console_seed as cs

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
SCREENSHOT = Path("/tmp/console.png")

try:
    from playwright.sync_api import sync_playwright
except ImportError as exc:      # the CI installs it; say why when it is absent
    sync_playwright = None
    _NO_PLAYWRIGHT = f"the playwright package is not installed ({exc})"
else:
    _NO_PLAYWRIGHT = None

pytestmark = [
    pytest.mark.skipif(_NO_PLAYWRIGHT is not None, reason=_NO_PLAYWRIGHT or ""),
    pytest.mark.skipif(not CHROMIUM.exists() and not shutil.which("chromium"),
                       reason="no Chromium at /usr/bin/chromium (apt-get install chromium)"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(sqlite_url, tmp_path):
    """The real app under uvicorn in a thread; yields (base URL, store, ids)."""
    import uvicorn

    from haris.service.app import create_app
    from haris.store.db import Store

    store = Store.open(sqlite_url)
    cs.users(store)
    ids = cs.seed(store, tmp_path / "media")
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(create_app(store=store), host="127.0.0.1", port=port, log_level="warning",
                                        lifespan="off"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", store, ids
    srv.should_exit = True
    thread.join(10)
    store.dispose()


@pytest.fixture
def browser():
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM if CHROMIUM.exists() else shutil.which("chromium")),
                               args=ARGS, headless=True)
        yield b
        b.close()


def _login(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", cs.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/queue")


def _logout(page) -> None:
    page.click("form[action='/logout'] button")
    page.wait_for_url("**/login")


def test_a_moderator_reviews_reveals_decides_and_a_second_senior_confirms(server, browser):
    base, store, ids = server
    rid, mid = ids["r_en"], ids["media_offer"]
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(15000)
    refused: list[str] = []            # anything the CSP blocked (an inline script or style would show here)
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)

    page.goto(f"{base}/queue")
    assert "/login?next=" in page.url
    _login(page, base, "rev1")
    rows = page.locator("tr.js-row")
    assert rows.first.get_attribute("data-href") == f"/items/{ids['r_child']}"   # a child at risk first
    page.keyboard.press("j")                                                       # keyboard shortcuts work
    assert "is-current" in (rows.first.get_attribute("class") or "")

    page.click(f"a.item-link[href='/items/{rid}']")
    page.wait_for_url(f"{base}/items/{rid}")
    img = page.locator(f"#media-{mid} img")
    assert img.get_attribute("src") == f"/media/{mid}/blurred"
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=img.element_handle())
    assert page.locator("#message mark.ev").count() == 2
    page.screenshot(path=str(SCREENSHOT), full_page=False)

    page.keyboard.press("r")                                                       # reveal: a logged POST
    page.wait_for_url(f"{base}/items/{rid}#media-{mid}")
    img = page.locator(f"#media-{mid} img")
    assert img.get_attribute("src") == f"/media/{mid}/original"
    page.wait_for_function("img => img.complete && img.naturalWidth === 320", arg=img.element_handle())

    page.keyboard.press("d")
    assert page.evaluate("document.activeElement.id") == "label"
    page.select_option("#label", "trafficking")
    page.select_option("#action", "suspend_account")
    page.fill("#reason", "offers a person for sale with a price")
    page.click("#decision-form button[type=submit]")
    page.wait_for_selector("#second-review")
    assert page.locator("#item-status").get_attribute("data-status") == "needs_second_review"
    assert "offers a person for sale with a price" in page.inner_text("#second-review")
    _logout(page)

    _login(page, base, "senior1")
    page.goto(f"{base}/items/{rid}")
    page.fill("#confirm-reason", "confirmed: a sale offer with a price")
    page.click("#confirm-form button[type=submit]")
    page.wait_for_selector("#item-status[data-status='closed']")
    assert "confirmed" in page.inner_text("#decision")
    _logout(page)

    _login(page, base, "aud")
    page.goto(f"{base}/audit")
    assert page.locator("#audit-status").get_attribute("data-ok") == "true"
    seen = set(page.eval_on_selector_all("tr.audit-row", "rows => rows.map(r => r.dataset.action)"))
    assert {"login", "media.reveal", "decision.first", "decision.second"} <= seen

    page.goto(f"{base}/items/{ids['r_ar']}")                                      # an Arabic message
    assert page.eval_on_selector("#message", "el => getComputedStyle(el).direction") == "rtl"
    assert page.eval_on_selector("#message", "el => el.lang") == "ar"
    assert page.eval_on_selector(".thread-msg:nth-child(2) .msg-text",
                                 "el => getComputedStyle(el).direction") == "ltr"  # the English reply
    page.goto(f"{base}/queue?lang=ar")                                            # the Arabic interface
    assert page.evaluate("[document.documentElement.dir, getComputedStyle(document.body).direction]") == [
        "rtl", "rtl"]
    assert refused == []
    context.close()
