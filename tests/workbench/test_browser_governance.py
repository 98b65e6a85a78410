"""The workbench's governance parts in Debian's Chromium: risk classification on demand beside each
template, the pilot survey's full instrument round trip, the Administration link per role, and the
guard's grey "not checked" passages."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from medvault.store import Role, get_survey_answer
from tests.workbench.conftest import PASSWORD, Bench, shot, sign_in
from tests.workbench.test_browser_workbench import seed

pytestmark = pytest.mark.browser

PAIRS = Path(__file__).parents[2] / "bench" / "guard_corpus" / "pairs" / "batch01.toml"
# A clean simplification the guard cannot fully judge (unsure side / new finding): `unchecked`.
UNCHECKED_PAIR = "b01-01"


def test_risk_classification_on_demand_and_no_admin_link_for_clinicians(page: Any, bench: Bench) -> None:
    """A template's details give privacy and reasoning demand with their reasons, the target user and
    EU/US/China status, a conditional one with its condition; nothing of it shows until asked for."""
    sign_in(page, bench.url)
    expect(page.get_by_role("banner").get_by_role("link", name="Verwaltung")).to_have_count(0)
    choice = page.locator(".choice", has=page.locator("#tpl-patient-simplification"))
    risk = choice.locator("dl.risk")
    expect(risk).to_be_hidden()
    choice.locator("summary").click()
    expect(risk).to_be_visible()
    expect(risk).to_contain_text("Datenschutzbedarf")
    expect(risk).to_contain_text("5/5 – ")
    expect(risk).to_contain_text("Denkanforderung")
    expect(risk).to_contain_text("Zielgruppe")
    eu = risk.locator("[data-jurisdiction=eu]")
    expect(eu).to_contain_text("EU: bedingt Medizinprodukt (Medizinprodukt, wenn ohne ärztliche Prüfung")
    expect(risk.locator("[data-jurisdiction=cn]")).to_contain_text("China: ")
    correction = page.locator(".choice", has=page.locator("#tpl-report-correction"))
    correction.locator("summary").click()
    expect(correction.locator("[data-jurisdiction=us]")).to_have_text("USA: kein Medizinprodukt")
    assert "Grenzfall" not in page.content() and "borderline" not in page.content()
    shot(page, "risk-details")


def test_survey_round_trip_with_role_errors_and_utility_per_template(page: Any, bench: Bench) -> None:
    """The survey asks role, stability, usability, critical errors seen and utility per template; what
    is sent is stored as given (blank templates left out) and shown locked after a reload."""
    sign_in(page, bench.url)
    page.goto(bench.url + "/workbench/survey")
    form = page.locator("#survey-form")
    expect(form.locator("[data-template-utility]")).to_have_count(7)  # the templates offered here
    form.get_by_label("Oberärztin / Oberarzt, Fachärztin / Facharzt").check()
    form.locator("#stability").fill("8")
    form.locator("#ease_of_use").fill("7")
    form.locator("#critical_errors_seen").fill("2")
    form.locator("#utility-report-correction").fill("9")
    form.locator("#utility-translation").fill("4")
    form.get_by_role("button", name="Absenden").click()
    expect(page.locator("#survey-status")).to_contain_text("gespeichert")
    answer = get_survey_answer(bench.store, "alice")
    assert answer is not None
    assert (answer.rater_role, answer.stability, answer.ease_of_use) == ("consultant", 8, 7)
    assert answer.critical_errors_seen == 2
    assert answer.template_utility == {"report-correction": 9, "translation": 4}
    page.reload()
    expect(form.locator("#stability")).to_be_disabled()  # locked: inside the disabled fieldset
    expect(form.locator("#utility-report-correction")).to_have_value("9")
    expect(form.get_by_label("Oberärztin / Oberarzt, Fachärztin / Facharzt")).to_be_checked()
    shot(page, "survey-saved")


def test_admins_reach_administration_from_the_header(page: Any, bench: Bench) -> None:
    """Admins run templates and administer: both links; the Administration link opens the status page."""
    bench.store.create_user("root-admin", PASSWORD, Role.ADMIN)
    page.goto(bench.url + "/workbench/signin")
    page.get_by_label("Benutzername").fill("root-admin")
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_label("Passwort").press("Enter")
    page.wait_for_url(bench.url + "/workbench/admin")
    header = page.get_by_role("banner")
    expect(header.get_by_role("link", name="Arbeitsplatz")).to_be_visible()
    header.get_by_role("link", name="Arbeitsplatz").click()
    page.wait_for_url(bench.url + "/workbench")
    header.get_by_role("link", name="Verwaltung").click()
    page.wait_for_url(bench.url + "/workbench/admin")
    expect(page.locator("#admin-alerts-none")).to_be_visible()


def test_passages_the_guard_could_not_judge_are_grey_and_listed(page: Any, retaining_bench: Bench) -> None:
    """A simplification the guard is unsure about (corpus pair b01-01): the verdict says "not fully
    checked" (never the all-clear), each passage is listed, and its words are grey in the diff."""
    pairs = tomllib.loads(PAIRS.read_text(encoding="utf-8"))["pair"]
    pair = next(p for p in pairs if p["id"] == UNCHECKED_PAIR)
    run_id = seed(
        retaining_bench, "patient-simplification", {"report": pair["source"].strip()}, pair["output"].strip()
    )
    record = retaining_bench.api().get(f"/api/v1/runs/{run_id}").json()
    assert record["guard"]["verdict"] == "unchecked" and record["guard"]["unchecked"], record["guard"]
    sign_in(page, retaining_bench.url)
    page.goto(f"{retaining_bench.url}/workbench?run={run_id}")
    verdict = page.locator("#guard-verdict")
    expect(verdict).to_contain_text("Nicht vollständig geprüft")
    expect(verdict).to_have_class("verdict verdict-unchecked")
    listed = page.locator("#guard-unchecked li.passage-unchecked")
    expect(listed).to_have_count(len(record["guard"]["unchecked"]))
    expect(listed.first).to_contain_text("Stelle nicht geprüft: „")
    grey = page.locator("#diff .unchecked")
    expect(grey.first).to_be_visible()
    background = grey.first.evaluate("node => getComputedStyle(node).backgroundColor")
    assert background == "rgb(234, 238, 242)", background
    assert page.locator("#diff .op-equal:not(.unchecked)").count() > 0  # the rest is not grey
    shot(page, "guard-unchecked")
