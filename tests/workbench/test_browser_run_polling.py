"""A retry that keeps hearing "run in progress" gives up after about two minutes with the lost-connection
message, instead of polling forever (Chromium, page clock fast-forwarded)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.workbench.conftest import Bench, sign_in, sse_events
from tests.workbench.test_browser_workbench import REPORT, start_correction

pytestmark = pytest.mark.browser


@pytest.mark.timeout(120)
def test_polling_for_a_run_in_progress_ends_with_the_retry_message(page: Any, bench: Bench) -> None:
    """The page's request reaches the server (another request of alice's holds its key, as a proxy that
    kept the first request alive would) but its connection fails; the page's retry hears
    `run_in_progress` and polls; two minutes later (page time) it stops and says "Run again" starts a
    new run."""
    report = "__late:15__ " + REPORT
    payload = {"template_id": "report-correction", "lang": "de", "inputs": {"report": report}}

    def hold(key: str) -> httpx.Response:
        return bench.api().post("/api/v1/runs", json=payload, headers={"idempotency-key": key})

    with ThreadPoolExecutor(1) as pool:
        held: list[Any] = []

        def cut_first(route: Any) -> None:
            if held or route.request.method != "POST":
                route.continue_()
                return
            held.append(pool.submit(hold, route.request.headers["idempotency-key"]))
            time.sleep(0.7)  # the held request owns the key before the page retries
            route.abort("connectionreset")

        page.clock.install()
        sign_in(page, bench.url)
        page.route("**/api/v1/runs", cut_first)
        start_correction(page, report)
        status = page.locator("#run-status")
        expect(page.locator("#conn-lost")).to_be_visible(timeout=10_000)
        expect(status).to_contain_text("es wird nachgesehen", timeout=10_000)
        page.wait_for_timeout(3_000)  # positive control: still polling, no verdict yet
        expect(status).to_contain_text("es wird nachgesehen")
        page.clock.fast_forward("02:05")
        expect(status).to_contain_text("„Erneut ausführen“ startet einen neuen Lauf", timeout=10_000)
        expect(page.get_by_role("button", name="Abbrechen")).to_be_hidden()
        assert sse_events(held[0].result())[-1][0] == "done"  # the one run went to the held request
    assert len(bench.store.list_runs()) == 1
