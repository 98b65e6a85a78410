"""The admin and auditor pages in Debian's Chromium: an auditor signs in, lands on the status page, walks
the audit trail, reports and metrics, sees no patient content and trips no CSP violation."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from medvault.store import Role
from tests.workbench.conftest import PASSWORD, Bench, shot
from tests.workbench.test_admin import CANARY, _seed_canary_run

pytestmark = pytest.mark.browser


def test_auditor_walks_the_admin_pages_without_seeing_content(retaining_bench: Bench, page: Any) -> None:
    """Sign-in by keyboard lands on /workbench/admin; every page renders, names no patient text (the
    canary is kept and readable by its owner), and the CSP reports nothing."""
    url = retaining_bench.url
    run_id = _seed_canary_run(retaining_bench)
    assert CANARY in retaining_bench.api().get(f"/api/v1/runs/{run_id}").text, "positive control"
    retaining_bench.store.create_user("audrey", PASSWORD, Role.AUDITOR)
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)

    page.goto(url + "/workbench")
    page.get_by_label("Benutzername").fill("audrey")
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_label("Passwort").press("Enter")
    page.wait_for_url(url + "/workbench/admin")
    expect(page.locator("#admin-h")).to_contain_text("Status")
    expect(page.locator("#admin-engines")).to_contain_text("fake#0")
    shot(page, "admin-status")
    seen = [page.content()]
    nav = page.get_by_role("navigation", name="Verwaltung")
    header = page.get_by_role("banner")
    expect(header.get_by_role("link", name="Verwaltung")).to_be_visible()  # the auditor's own pages
    expect(header.get_by_role("link", name="Arbeitsplatz")).to_have_count(0)  # runs no templates
    for link, table in (
        ("Prüfpfad", "#admin-audit"),
        ("Evaluationen", "#admin-evaluations-none"),
        ("Überwachung", ".chart img"),
        ("Berichte", "#admin-reports"),
        ("Metriken", "#admin-metrics"),
    ):
        nav.get_by_role("link", name=link).click()
        expect(page.locator(table)).to_be_visible()
        seen.append(page.content())
    expect(page.locator("#admin-metrics")).to_contain_text("medvault_requests_total")
    nav.get_by_role("link", name="Überwachung").click()
    chart = page.locator(".chart[data-template=report-correction]")
    expect(chart.locator("img")).to_have_js_property("complete", True)
    assert chart.locator("img").evaluate("img => img.naturalWidth") > 0  # the SVG renders under the CSP
    shot(page, "admin-monitoring")
    nav.get_by_role("link", name="Prüfpfad").click()
    expect(page.locator("#admin-audit")).to_contain_text("run.create")
    shot(page, "admin-audit")
    expect(nav.get_by_role("link", name="Benutzer und API-Schlüssel")).to_have_count(0)  # admins only
    page.goto(url + "/workbench")
    expect(page.locator("#role-notice")).to_contain_text("darf keine Vorlagen ausführen")
    seen.append(page.content())
    for html in seen:
        assert CANARY not in html
    assert violations == []
