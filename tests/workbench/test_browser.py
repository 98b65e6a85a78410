"""The workbench in Debian's Chromium (Playwright): sign-in, a streamed run, feedback, CSP, guard flags."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from medvault.templates import builtin_dir
from tests.conftest import Service, running_service
from tests.workbench.conftest import PASSWORD, Bench, shot, sign_in
from tests.workbench.test_api import seed_flipped_run

pytestmark = pytest.mark.browser

REPORT = "Befund: Kein Pleuraergus links. Die Lunge ist frei belüftet. Herz normal gross."


def correction_flow(
    page: Any,
    url: str,
    username: str,
    model_timeout_ms: float,
    tag: str,
    removed: tuple[str, ...] = (),
    suggested: tuple[str, ...] = (),
) -> None:
    """Sign in, run the correction template, watch stream and diff, rate it 7 with an omission, sign out.

    `removed`: words the answer is known to drop, which the diff must mark as deleted (the real model's
    answer is not known in advance, so there only the diff's presence is checked); `suggested`: error
    categories the guard's flags must pre-tick in the rating form."""
    sign_in(page, url, username)
    assert page.locator("#isolation-state").get_attribute("data-state") in ("off", "ok")
    page.get_by_label("Befundkorrektur").check()
    page.get_by_label("Befundtext").fill(REPORT)
    shot(page, f"{tag}-01-template-filled")
    page.get_by_role("button", name="Ausführen").click()
    # Locator waits, not wait_for_function: the page's CSP (rightly) forbids the eval that one needs.
    expect(page.locator("#output")).not_to_have_text("", timeout=model_timeout_ms)
    page.locator("#feedback-form").wait_for(state="visible", timeout=model_timeout_ms)
    expect(page.locator("#run-status")).to_contain_text("Fertig.")
    assert page.locator("#diff span, #diff ins, #diff del").count() > 0
    for word in removed:
        expect(page.locator("#diff del.op-delete").filter(has_text=word)).to_have_count(1)
        expect(page.locator("#diff span.op-equal").filter(has_text=word)).to_have_count(0)
    assert page.locator("#guard-verdict").text_content()
    for category in suggested:
        expect(page.get_by_label(category)).to_be_checked()
    shot(page, f"{tag}-02-run-streamed")
    rate(page, utility=7, critical=True, categories=("Auslassung",))
    page.get_by_text("Danke, gespeichert.").wait_for()
    # One rating per run: the form locks and says so; "Ändern" unlocks it.
    expect(page.locator("#utility-7")).to_be_disabled()
    expect(page.locator("#feedback-status")).to_contain_text("Ihre Bewertung dieses Laufs ist gespeichert")
    expect(page.get_by_role("button", name="Ändern")).to_be_visible()
    shot(page, f"{tag}-03-feedback-sent")
    page.get_by_role("button", name="Abmelden").click()
    page.wait_for_url(url + "/workbench/signin")
    page.goto(url + "/workbench")
    assert page.url.startswith(url + "/workbench/signin")


def rate(page: Any, utility: int, critical: bool, categories: tuple[str, ...] = ()) -> None:
    """Rate the shown run: utility as a button, the critical-error answer, categories; send it."""
    page.locator("#utility").get_by_text(str(utility), exact=True).click()
    page.locator("#feedback-form").get_by_label("ja" if critical else "nein", exact=True).check()
    for box in page.locator("#categories input[type=checkbox]").all():
        box.uncheck()  # suggestions from the guard are the clinician's to confirm or drop
    for category in categories:
        page.get_by_label(category).check()
    page.get_by_role("button", name="Absenden").click()


@pytest.fixture(scope="module")
def short_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """`medvault up` with the real embedded model whose correction template is the built-in one with its
    answer capped at 256 tokens, as a hospital's replacement in `workbench.template_dirs`: at
    temperature 0 the 135M model repeats itself up to the built-in's 2048, a minute of CPU that shows
    nothing the flow checks (stream, diff, guard verdict, rating, audit)."""
    data_dir = tmp_path_factory.mktemp("medvault-short")
    templates = data_dir / "templates"
    templates.mkdir()
    for built_in in builtin_dir().glob("report-correction.*.toml"):
        text = built_in.read_text()
        assert "\nmax_tokens = 2048\n" in text, built_in
        (templates / built_in.name).write_text(text.replace("\nmax_tokens = 2048\n", "\nmax_tokens = 256\n"))
    config = f"[retention]\ncontent_days = 0\n[workbench]\ntemplate_dirs = [{json.dumps(str(templates))}]\n"
    with running_service(data_dir, config) as running:
        yield running


@pytest.mark.timeout(480)  # the 135M model on a small, shared CPU
def test_correction_run_on_the_embedded_model(page: Any, short_service: Service) -> None:
    """The whole clinician flow against `medvault up` with the real embedded model; audited without text."""
    service = short_service
    created = subprocess.run(
        [sys.executable, "-m", "medvault", "users", "create", "clara", "--role=clinician",
         "--password-stdin"],
        input=PASSWORD + "\n", env=service.env(), text=True, capture_output=True, timeout=120, check=False,
    )  # fmt: skip
    assert created.returncode == 0 or "already exists" in created.stderr, created.stderr
    correction_flow(page, service.url, "clara", model_timeout_ms=360_000, tag="embedded")
    listing = service.cli("audit", "list", "--json", "--limit", "100000").stdout
    events = [json.loads(line) for line in listing.splitlines()]
    mine = [(e["action"], e["status"]) for e in events if e["user"] == "clara"]
    assert ("run.create", 200) in mine and ("feedback.create", 201) in mine and ("auth.logout", 303) in mine
    [run] = [e for e in events if e["user"] == "clara" and e["action"] == "run.create"]
    assert 0 < run["completion_tokens"] < 300  # the replacement's cap (256), not the built-in's 2048
    assert "Pleuraergus" not in listing


def test_correction_flow_stores_the_rating(page: Any, bench: Bench) -> None:
    """The same flow over a fake engine stores exactly the rating the clinician gave."""
    # The fake engine answers "Die Lunge ist frei." whatever the report: the finding and side are dropped.
    correction_flow(
        page, bench.url, "alice", model_timeout_ms=20_000, tag="fake-engine",
        removed=("Pleuraergus", "belüftet."), suggested=("Negation",),
    )  # fmt: skip
    [feedback] = bench.store.list_feedback()
    assert feedback.utility == 7 and feedback.critical_error and feedback.categories == ["omission"]
    assert feedback.template_id == "report-correction" and feedback.model_id == "fake"


def test_csp_blocks_an_injected_inline_script(page: Any, bench: Bench) -> None:
    """A script injected into the page (as an XSS would) does not run; the browser reports the CSP."""
    sign_in(page, bench.url, "alice")
    page.evaluate(
        """() => {
            window.violations = [];
            document.addEventListener(
                'securitypolicyviolation', (e) => window.violations.push(e.violatedDirective));
            const s = document.createElement('script');
            s.textContent = 'window.injected = true;';
            document.body.appendChild(s);
            const d = document.createElement('div');
            d.innerHTML = '<img src="x" onerror="window.injected = true">';
            document.body.appendChild(d);
        }"""
    )
    page.locator("#workbench").wait_for()
    deadline = time.monotonic() + 10
    while not page.evaluate("window.violations.length") and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert page.evaluate("window.injected === undefined")
    assert any(v.startswith("script-src") for v in page.evaluate("window.violations"))
    shot(page, "csp-blocked-inline-script")


def test_reasoning_is_shown_in_a_collapsed_panel(page: Any, bench: Bench) -> None:
    """A reasoning model's thoughts land in a closed "Begründung des Modells" panel, not in the answer."""
    sign_in(page, bench.url, "alice")
    page.get_by_label("Befundkorrektur").check()
    page.get_by_label("Befundtext").fill("__think__ Lunge frei.")
    page.get_by_role("button", name="Ausführen").click()
    expect(page.locator("#run-status")).to_contain_text("Fertig.")
    panel = page.locator("#reasoning-box")
    expect(panel).to_be_visible()
    assert panel.get_attribute("open") is None  # collapsed until the user opens it
    expect(page.locator("#reasoning")).to_be_hidden()
    expect(page.locator("#output")).not_to_contain_text("Befund prüfen")
    shot(page, "reasoning-collapsed")
    panel.get_by_text("Begründung des Modells").click()
    expect(page.locator("#reasoning")).to_be_visible()
    expect(page.locator("#reasoning")).to_contain_text("Befund prüfen")
    shot(page, "reasoning-open")


def test_copy_to_clipboard_copies_the_answer(page: Any, bench: Bench) -> None:
    """The labelled copy button puts exactly the shown answer on the clipboard."""
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=bench.url)
    sign_in(page, bench.url, "alice")
    page.get_by_label("Befundkorrektur").check()
    page.get_by_label("Befundtext").fill(REPORT)
    page.get_by_role("button", name="Ausführen").click()
    expect(page.locator("#run-status")).to_contain_text("Fertig.")
    page.get_by_role("button", name="In die Zwischenablage kopieren").click()
    expect(page.locator("#run-status")).to_have_text("Kopiert.")
    answer = page.locator("#output").text_content()
    assert answer and page.evaluate("navigator.clipboard.readText()") == answer


def test_guard_flag_shown_on_a_seeded_run(page: Any, retaining_bench: Bench) -> None:
    """A stored run whose output flipped left to right shows the laterality flag in the diff."""
    run_id = seed_flipped_run(retaining_bench)
    sign_in(page, retaining_bench.url, "alice")
    page.goto(f"{retaining_bench.url}/workbench?run={run_id}")
    flagged = page.locator("#diff .flagged")
    flagged.first.wait_for()
    assert "rechts" in flagged.all_text_contents()[0] or "rechts" in " ".join(flagged.all_text_contents())
    # In German, naming the words on both sides; no internal check name.
    expect(page.locator("#guard-flags li").filter(has_text="links").filter(has_text="rechts")).to_have_count(
        1
    )
    expect(page.locator("#guard")).not_to_contain_text("laterality")
    assert page.locator("#diff del").filter(has_text="links").count() == 1
    shot(page, "guard-flag")


def test_stop_button_cancels_the_run(page: Any, bench: Bench) -> None:
    """Stopping a long answer ends the stream; the run is recorded as cancelled."""
    sign_in(page, bench.url, "alice")
    page.get_by_label("Befundkorrektur").check()
    page.get_by_label("Befundtext").fill("__slow__ Lunge frei.")
    page.get_by_role("button", name="Ausführen").click()
    expect(page.locator("#output")).not_to_have_text("")
    page.get_by_role("button", name="Abbrechen").click()
    expect(page.locator("#run-status")).to_have_text("Abgebrochen.")
    assert page.get_by_role("button", name="Abbrechen").is_hidden()
    deadline = time.monotonic() + 10
    while not bench.store.list_runs() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [run.status for run in bench.store.list_runs()] == ["cancelled"]


def test_model_output_is_shown_as_text_not_html(page: Any, retaining_bench: Bench) -> None:
    """Markup in a model's answer is displayed literally, never parsed into the page."""
    with retaining_bench.api() as client:
        version = client.get("/api/v1/templates/report-correction?lang=de").json()["version"]
    evil = 'Lunge frei. <img src="x" id="evil" onerror="window.pwned = 1">'
    run = retaining_bench.store.save_run(
        user="alice", status="ok", template_id="report-correction", template_version=version,
        input_json=json.dumps({"report": "Lunge frei."}), output_text=evil,
    )  # fmt: skip
    sign_in(page, retaining_bench.url, "alice")
    page.goto(f"{retaining_bench.url}/workbench?run={run.id}")
    expect(page.locator("#output")).to_have_text(evil)
    assert page.locator("#evil").count() == 0
    assert page.evaluate("window.pwned === undefined")
