"""The dashboard in real headless Chromium (Debian's, driven by playwright) against a running uvicorn server:
it loads, its charts render with data, and the figures shown equal the API's for the same period."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from tests.ops.conftest import SeededDemo

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTEFACTS = Path(__file__).resolve().parents[2] / "artefacts"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed (ops/test.sh installs it)"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(seeded_demo: SeededDemo) -> Iterator[str]:
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(seeded_demo.app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start within 15 s"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def _figure(data: dict[str, Any], path: str) -> Any:
    """The API's value for a figure the page names with data-figure (dots separate keys)."""
    if path.startswith("latency."):
        parts = path.split(".")
        if len(parts) == 4:
            found = [
                s for s in data["latency_by_pair"] if (s["from_org"], s["to_org"]) == (parts[1], parts[2])
            ]
        else:
            found = [s for s in data["latency_by_kind"] if s["kind"] == parts[1]]
        return found[0]["total"]["p90"]
    for head in ("lag.", "parked.", "overdue.by_receiver."):
        if path.startswith(head):
            return data[head.split(".")[0]] if head != "overdue.by_receiver." else data["overdue"][
                "by_receiver"
            ], path[len(head) :]
    value: Any = data
    for key in path.split("."):
        value = value[key]
    return value


def _shown(value: Any) -> str:
    return "\u2013" if value is None else str(value)  # the page shows an en dash for no value


def test_the_dashboard_renders_charts_whose_figures_equal_the_api(
    server: str, seeded_demo: SeededDemo, tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    token = seeded_demo.tokens["CIVICA_OPERATOR"]
    with sync_playwright() as p:
        # A fresh profile directory per run (playwright passes it as --user-data-dir).
        browser = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=str(CHROMIUM),
            args=FLAGS,
            viewport={"width": 1400, "height": 1500},
        )
        try:
            page = browser.new_page()
            page.goto(f"{server}/orgs/civica/dashboard#token={token}", timeout=20_000)
            page.wait_for_selector("body[data-loaded=true]", timeout=20_000)
            assert page.locator("#by-pair svg path.series").count() >= 3, "p50/p90/p99 lines per pair"
            assert page.locator("#by-kind svg path.series").count() >= 3
            assert page.locator("#pool-chart path.series").count() == 1
            period = {"from": page.input_value("#from"), "to": page.input_value("#to")}
            shown = page.eval_on_selector_all(
                "[data-figure]", "els => els.map(e => [e.dataset.figure, e.textContent])"
            )
            ARTEFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTEFACTS / "dashboard.png"), full_page=True)
            # A filter changes the figures without a reload: only the jobcentre's pairs remain.
            page.select_option("#org", "jobcentre-odense")
            page.wait_for_function(
                "document.querySelectorAll('#by-pair .chart').length === 1", timeout=10_000
            )
        finally:
            browser.close()
    api = httpx.get(
        f"{server}/orgs/civica/operations/dashboard",
        params=period,
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    assert len(shown) > 20
    for figure, text in shown:
        expected = _figure(api, figure)
        if isinstance(expected, tuple):
            table, key = expected
            expected = table[key]
        same = text == _shown(expected) or (
            isinstance(expected, int | float) and float(text) == float(expected)
        )
        assert same, f"{figure}: page shows {text!r}, the API says {expected!r}"
    assert (ARTEFACTS / "dashboard.png").stat().st_size > 10_000
    assert shutil.which(str(CHROMIUM))


def test_the_api_docs_page_renders_every_operation_from_assets_served_by_the_node(
    server: str, tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    operations = sum(
        len(methods) for methods in httpx.get(f"{server}/orgs/civica/openapi.json").json()["paths"].values()
    )
    requested: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=str(CHROMIUM), args=FLAGS
        )
        try:
            page = browser.new_page()
            page.on("request", lambda request: requested.append(request.url))
            page.goto(f"{server}/orgs/civica/docs", timeout=20_000)
            page.wait_for_selector(".opblock", timeout=20_000)
            swagger_shown = page.locator(".opblock").count()
        finally:
            browser.close()
    assert swagger_shown == operations > 20
    outside = [url for url in requested if not url.startswith(("http://127.0.0.1:", "data:", "blob:"))]
    assert not outside, f"the docs page asked outside the node: {outside}"


def test_the_dashboard_reads_in_danish_in_a_danish_browser(
    server: str, seeded_demo: SeededDemo, tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    token = seeded_demo.tokens["CIVICA_OPERATOR"]
    with sync_playwright() as p:
        browser = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=str(CHROMIUM), args=FLAGS, locale="da-DK"
        )
        try:
            page = browser.new_page()
            page.goto(f"{server}/orgs/civica/dashboard#token={token}", timeout=20_000)
            page.wait_for_selector("body[data-loaded=true]", timeout=20_000)
            assert page.title() == "Genhusningskoordinering: drift"
            assert page.inner_text("h1") == "Overdragelser og genhusning: drift"
            assert "kvitteringer forsinket" in page.inner_text("#overdue")
            assert page.inner_text("#status").startswith(
                "pr. "
            )  # "pr. 7. december 2026 kl. 14.30 (node civica)"
            assert page.evaluate("document.documentElement.lang") == "da"
        finally:
            browser.close()
