"""The clinicians' workbench in Debian's Chromium (issue 10): no hanging or duplicate runs through the real
loopback bridge, visible limits, guard findings a clinician can act on, work that survives, the layout,
structured answers and an unbiased rating form."""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from medvault.isolation._ingress import LoopbackBridge
from tests.gateway.conftest import free_port
from tests.workbench.conftest import Bench, shot, sign_in

pytestmark = pytest.mark.browser

REPORT = "Befund: Kein Pleuraerguss links. Die Lunge ist frei belüftet. Herz normal gross."
FLEISCHNER_OK = {
    "nodule_found": True, "nodule_type": "solid", "multiplicity": "single", "long_axis_mm": 7,
    "short_axis_mm": 6, "risk": "low", "age_years": 60, "known_cancer": None, "immunocompromised": None,
    "screening": None, "evidence": "Solider Rundherd 7 x 6 mm im Unterlappen rechts.",
}  # fmt: skip


@contextlib.contextmanager
def bridged(bench: Bench, idle_s: float) -> Iterator[str]:
    """The workbench behind the real loopback bridge (in this namespace), as `make run` exposes it."""
    port = free_port()
    bridge = LoopbackBridge(
        port, ("127.0.0.1", int(urlsplit(bench.url).port or 0)), None, idle_timeout_s=idle_s
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        bridge.close()


def start_correction(page: Any, text: str) -> None:
    """Choose the correction template, type `text` as the report, press the run button."""
    page.get_by_label("Befundkorrektur").check()
    page.get_by_label("Befundtext").fill(text)
    page.get_by_role("button", name="Ausführen").click()


def seed(bench: Bench, template_id: str, inputs: dict[str, Any], output: str) -> str:
    """A stored run of `template_id` (the bench must retain content); its id."""
    with bench.api() as client:
        version = client.get(f"/api/v1/templates/{template_id}?lang=de").json()["version"]
    run = bench.store.save_run(
        user="alice", status="ok", template_id=template_id, template_version=version, model_id="fake",
        input_json=json.dumps(inputs), output_text=output,
    )  # fmt: skip
    return run.id


def wait_for_runs(bench: Bench, count: int, timeout_s: float = 15) -> list[Any]:
    deadline = time.monotonic() + timeout_s
    while len(bench.store.list_runs()) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    return list(bench.store.list_runs())


# -- 1. no hanging, no duplicates --------------------------------------------------------------------


@pytest.mark.timeout(150)
def test_a_first_token_after_30_s_completes_once_through_the_bridge(page: Any, bench: Bench) -> None:
    """The engine thinks 31 s before its first byte; the bridge drops connections silent for 20 s. The
    page shows the wait (queued, seconds counting, a stop button) and the run completes once."""
    with bridged(bench, idle_s=20) as url:
        sign_in(page, url)
        start_correction(page, "__late:31__ " + REPORT)
        elapsed = page.locator("#elapsed")
        expect(elapsed).to_contain_text("In der Warteschlange")
        expect(elapsed).to_contain_text(re.compile(r"\b([3-9]|[1-9]\d) s$"), timeout=15_000)
        expect(page.get_by_role("button", name="Abbrechen")).to_be_visible()
        shot(page, "slow-01-queued")
        expect(page.locator("#run-status")).to_contain_text("Fertig.", timeout=60_000)
        expect(page.locator("#output")).to_contain_text("Die Lunge ist frei.")
        expect(page.locator("#conn-lost")).to_be_hidden()
        expect(page.get_by_role("button", name="Abbrechen")).to_be_hidden()
        shot(page, "slow-02-done")
    runs = bench.store.list_runs()
    assert [run.status for run in runs] == ["ok"]
    assert (runs[0].latency_ms or 0) >= 30_000


@pytest.mark.timeout(120)
def test_a_dropped_connection_shows_the_retry_message_and_starts_no_second_run(
    page: Any, bench: Bench
) -> None:
    """The bridge cuts a stream silent for 3 s (the engine waits 8 s): the page says the connection was lost,
    its automatic retry with the same key finds the run instead of starting another, and only a new
    click would start a new run."""
    with bridged(bench, idle_s=3) as url:
        sign_in(page, url)
        start_correction(page, "__late:8__ " + REPORT)
        alert = page.locator("#conn-lost")
        expect(alert).to_be_visible(timeout=20_000)
        expect(alert).to_contain_text("Die Verbindung zum Server ist abgebrochen")
        expect(alert.get_by_role("button", name="Erneut ausführen")).to_be_visible()
        shot(page, "drop-01-retry-message")
        expect(page.locator("#run-status")).to_contain_text("bereits gestartet", timeout=40_000)
        expect(alert).to_be_visible()
        shot(page, "drop-02-run-found")
    time.sleep(2)  # past the engine's answer: a second run, if any, would be stored by now
    runs = wait_for_runs(bench, 1)
    assert len(runs) == 1, [(r.id, r.status) for r in runs]
    assert page.url.endswith("?run=" + runs[0].id)  # the one run is the one shown


def test_an_engine_error_is_shown_as_the_servers_short_message(page: Any, bench: Bench) -> None:
    """An engine that refuses the prompt as too long: the page shows the server's message, no internals."""
    sign_in(page, bench.url)
    start_correction(page, "__context__ " + REPORT)
    status = page.locator("#run-status")
    expect(status).to_have_class(re.compile(r"\berror\b"))
    expect(status).to_contain_text("Fehler: ")
    expect(status).not_to_contain_text("Traceback")
    expect(page.get_by_role("button", name="Ausführen")).to_be_enabled()


# -- 2. limits ---------------------------------------------------------------------------------------


def test_an_oversize_paste_is_refused_visibly_and_never_cut(page: Any, bench: Bench) -> None:
    """A 200 kB paste stays whole in the field; the token counter turns red, the run button is off and a
    message says why. A short report (the control) is counted under the limit and may run."""
    sign_in(page, bench.url)
    page.get_by_label("Befundkorrektur").check()
    field = page.get_by_label("Befundtext")
    counter = page.locator("#token-counter")
    run = page.get_by_role("button", name="Ausführen")
    field.fill(REPORT)
    expect(counter).to_contain_text(re.compile(r"\d+ von \d+ Tokens"))
    expect(counter).not_to_have_class(re.compile(r"\bover\b"))
    expect(run).to_be_enabled()
    big = "Lunge frei, kein Erguss, Herz normal gross. " * 4600  # about 200 kB
    field.fill(big)
    expect(counter).to_have_class(re.compile(r"\bover\b"))
    expect(page.locator("#limit-message")).to_contain_text("es wird nichts abgeschnitten")
    expect(run).to_be_disabled()
    assert field.input_value() == big
    shot(page, "limit-refused")
    page.keyboard.press("Control+Enter")  # the shortcut does not get round the refusal either
    page.wait_for_timeout(500)
    assert bench.store.list_runs() == []


# -- 3. guard findings -------------------------------------------------------------------------------


def test_guard_panel_is_german_grouped_and_points_into_the_diff(page: Any, retaining_bench: Bench) -> None:
    """Three identical number findings are one line with a count, the side change names both words, no
    developer text shows, and a click on a finding scrolls to and highlights its words in the diff."""
    run_id = seed(
        retaining_bench, "report-correction", {"report": "Befund: Kein Pleuraerguss links. Herz normal."},
        "Befund: Kein Pleuraerguss rechts. Herz normal 2013. Lunge 2013. Zwerchfell 2013.",
    )  # fmt: skip
    sign_in(page, retaining_bench.url)
    page.goto(f"{retaining_bench.url}/workbench?run={run_id}")
    panel = page.locator("#guard")
    expect(page.locator("#guard-verdict")).to_have_class(re.compile(r"\bverdict-review\b"))
    expect(page.locator("#guard-verdict")).to_have_text("Bitte prüfen:")
    counted = page.locator("#guard-flags li").filter(has_text="3×")
    expect(counted).to_have_count(1)
    expect(counted).to_contain_text("2013")
    expect(page.locator("#guard-flags li").filter(has_text="links").filter(has_text="rechts")).to_have_count(
        1
    )
    for developer_text in ("is not in the source", "laterality", "numbers", "output says"):
        expect(panel).not_to_contain_text(developer_text)
    expect(page.locator("#guard-summary")).to_contain_text("nicht geprüft")
    highlighted = page.locator("#diff .highlight")
    expect(highlighted).to_have_count(0)
    shot(page, "guard-01-grouped")
    counted.get_by_role("button").click()
    expect(highlighted.first).to_contain_text("2013")
    expect(highlighted.first).to_be_in_viewport()
    shot(page, "guard-02-jumped")
    # The findings suggest error categories, ticked for the clinician to confirm.
    expect(page.get_by_label("Seitenverwechslung")).to_be_checked()
    expect(page.get_by_label("Zahl/Einheit")).to_be_checked()
    expect(page.get_by_label("Halluzination")).not_to_be_checked()  # a minor finding suggests nothing


def test_no_green_all_clear_on_an_open_template(page: Any, retaining_bench: Bench) -> None:
    """An open-ended answer says "not checked" in grey, an open template the guard passes stays grey too;
    only an anchored answer the guard passes (the control) gets the green line."""
    open_run = seed(
        retaining_bench, "differential-diagnosis", {"findings": "Rundherd im Unterlappen rechts."},
        "1. Granulom 2. Metastase",
    )  # fmt: skip
    partly = seed(
        retaining_bench, "impression-from-findings", {"findings": "Kein Pleuraerguss links."},
        "Kein Pleuraerguss links.",
    )  # fmt: skip
    anchored = seed(retaining_bench, "report-correction", {"report": REPORT}, REPORT)
    sign_in(page, retaining_bench.url)
    verdict = page.locator("#guard-verdict")
    page.goto(f"{retaining_bench.url}/workbench?run={open_run}")
    expect(verdict).to_contain_text("Offene Antwort – nicht geprüft")
    expect(verdict).to_have_class(re.compile(r"\bverdict-none\b"))
    shot(page, "guard-open-not-checked")
    page.goto(f"{retaining_bench.url}/workbench?run={partly}")
    expect(verdict).to_contain_text("nicht geprüft")
    expect(verdict).not_to_have_class(re.compile(r"\bverdict-ok\b"))
    page.goto(f"{retaining_bench.url}/workbench?run={anchored}")
    expect(verdict).to_have_text("In den geprüften Punkten keine Auffälligkeiten.")
    expect(verdict).to_have_class(re.compile(r"\bverdict-ok\b"))


# -- 4. work survives --------------------------------------------------------------------------------


@pytest.mark.timeout(120)
def test_work_survives_reload_back_and_a_session_expiry(page: Any, bench: Bench) -> None:
    """The chosen template, the typed report and the answer come back after a reload and after Back; a tab
    without the text shows no copy button and says why; an expired session keeps the dictation through
    the sign-in."""
    sign_in(page, bench.url)
    page.get_by_label("Befundkorrektur").check()
    field = page.get_by_label("Befundtext")
    field.fill(REPORT)
    page.wait_for_timeout(600)  # the draft is saved 300 ms after the last keystroke
    page.reload()
    expect(page.get_by_label("Befundkorrektur")).to_be_checked()
    expect(field).to_have_value(REPORT)
    page.get_by_role("button", name="Ausführen").click()
    expect(page.locator("#run-status")).to_contain_text("Fertig.")
    answer = page.locator("#output").text_content()
    run_id = bench.store.list_runs()[0].id
    page.reload()  # the server keeps no text (the default): this tab does
    expect(page.locator("#output")).to_have_text(answer or "")
    expect(page.locator("#run-status")).to_contain_text("wiederhergestellt")
    expect(page.get_by_role("button", name="In die Zwischenablage kopieren")).to_be_visible()
    page.goto(bench.url + "/workbench/survey")
    page.go_back()
    expect(page.locator("#output")).to_have_text(answer or "")
    expect(field).to_have_value(REPORT)
    # Another tab has no copy of the text: no copy button, and the reason instead.
    other = page.context.new_page()
    other.goto(f"{bench.url}/workbench?run={run_id}")
    expect(other.locator("#copy-note")).to_contain_text("Kopieren nicht möglich")
    expect(other.get_by_role("button", name="In die Zwischenablage kopieren")).to_be_hidden()
    shot(other, "survive-01-no-text-no-copy")
    other.close()
    # The session ends while the clinician dictates; the dictation survives the sign-in.
    cookie = next(c for c in page.context.cookies() if c["name"] == "mv_session")
    bench.workbench.sessions.drop(cookie["value"])
    field.fill(REPORT + " Nachtrag nach Ablauf.")
    page.get_by_role("button", name="Ausführen").click()
    page.wait_for_url(re.compile(r"/workbench/signin\?expired=1$"))
    expect(page.locator("#signin-error")).to_contain_text("abgelaufen")
    page.get_by_label("Benutzername").fill("alice")
    page.get_by_label("Passwort").fill("correct horse battery")
    page.get_by_label("Passwort").press("Enter")
    page.wait_for_url(bench.url + "/workbench")
    expect(page.get_by_label("Befundkorrektur")).to_be_checked()
    expect(page.get_by_label("Befundtext")).to_have_value(REPORT + " Nachtrag nach Ablauf.")
    shot(page, "survive-02-after-signin")


def test_my_recent_runs_are_listed(page: Any, bench: Bench) -> None:
    """A finished run appears in "Meine letzten Läufe" with its template and a link to it."""
    sign_in(page, bench.url)
    start_correction(page, REPORT)
    expect(page.locator("#run-status")).to_contain_text("Fertig.")
    recent = page.locator("#recent li")
    expect(recent).to_have_count(1)
    expect(recent.first).to_contain_text("Befundkorrektur")
    run_id = bench.store.list_runs()[0].id
    assert recent.first.get_by_role("link").get_attribute("href") == f"/workbench?run={run_id}"


# -- 5. layout ---------------------------------------------------------------------------------------


def test_reading_room_layout_search_shortcut_prose_and_dark_theme(page: Any, bench: Bench) -> None:
    """At 1400×900 the answer sits beside the source above the fold, in prose; the picker filters and
    keeps details folded; Ctrl+Enter runs; the dark theme follows the system and the toggle, kept."""
    sign_in(page, bench.url)
    expect(page.get_by_text("Datenschutzbedarf").first).to_be_hidden()  # details on demand only
    search = page.get_by_placeholder("Vorlagen durchsuchen")
    search.fill("befundkorrektur")
    expect(page.locator(".choice:visible")).to_have_count(1)
    search.fill("gibt es nicht")
    expect(page.get_by_text("Keine passende Vorlage.")).to_be_visible()
    search.fill("")
    expect(page.locator(".choice:visible")).not_to_have_count(1)
    page.get_by_label("Befundkorrektur").check()
    field = page.get_by_label("Befundtext")
    field.fill(REPORT)
    field.press("Control+Enter")
    expect(page.locator("#run-status")).to_contain_text("Fertig.")
    source, output = field.bounding_box(), page.locator("#output").bounding_box()
    assert source and output
    assert output["x"] >= source["x"] + source["width"], (source, output)  # side by side
    assert output["y"] + 40 < 900, output  # above the fold
    font = page.locator("#output").evaluate("node => getComputedStyle(node).fontFamily")
    assert "monospace" not in font
    shot(page, "layout-1400x900")
    # Dark: from the system's preference, then by the toggle, which is kept.
    page.emulate_media(color_scheme="dark")
    page.reload()
    html = page.locator("html")
    expect(html).to_have_attribute("data-theme", "dark")
    page.get_by_role("button", name="Hell").click()
    expect(html).to_have_attribute("data-theme", "light")
    page.reload()
    expect(html).to_have_attribute("data-theme", "light")
    page.get_by_role("button", name="Dunkel").click()
    page.emulate_media(color_scheme="light")
    page.reload()
    expect(html).to_have_attribute("data-theme", "dark")
    background = page.locator("body").evaluate("node => getComputedStyle(node).backgroundColor")
    assert background == "rgb(13, 17, 23)"
    shot(page, "layout-dark")


# -- 6. structured answers ---------------------------------------------------------------------------


def test_fleischner_answer_reads_as_text_with_its_rule(page: Any, retaining_bench: Bench) -> None:
    """Category and recommendation as sentences with the rule that produced them; a malformed answer is a
    sentence, never raw JSON; the risk choice shows German labels, not codes."""
    good = seed(
        retaining_bench, "fleischner-nodule", {"report": "Rundherd 7 x 6 mm."}, json.dumps(FLEISCHNER_OK)
    )
    bad = seed(
        retaining_bench, "fleischner-nodule", {"report": "Rundherd 7 x 6 mm."}, "Der Rundherd ist solide."
    )
    sign_in(page, retaining_bench.url)
    page.goto(f"{retaining_bench.url}/workbench?run={good}")
    box = page.locator("#structured")
    expect(box).to_contain_text("CT nach 6-12 Monaten, dann CT nach 18-24 Monaten erwägen.")
    expect(box).to_contain_text("Fleischner 2017: solide, solitär, 6-8 mm, niedriges Risiko")
    expect(box).to_contain_text("7 mm")
    shown = box.inner_text()
    assert "{" not in shown and "nodule_type" not in shown and "solid-single" not in shown
    expect(page.locator("#output")).to_be_hidden()
    shot(page, "fleischner-01-recommendation")
    page.goto(f"{retaining_bench.url}/workbench?run={bad}")
    expect(box.locator(".alert")).to_contain_text("nicht das erwartete Format")
    assert "{" not in box.inner_text()
    shot(page, "fleischner-02-malformed")
    page.get_by_label("Leitlinienempfehlung Lungenrundherd").check()
    options = page.locator("#in-risk option").all_text_contents()
    assert {"niedrig", "hoch", "nicht angegeben"} <= set(options) and "low" not in options


# -- 7. rating without bias ----------------------------------------------------------------------------


def test_the_rating_form_cannot_be_sent_untouched(page: Any, bench: Bench) -> None:
    """Nothing is preselected and the send button stays off until utility and critical error are chosen;
    utility is a row of 0–10 buttons."""
    sign_in(page, bench.url)
    start_correction(page, REPORT)
    expect(page.locator("#run-status")).to_contain_text("Fertig.")
    form = page.locator("#feedback-form")
    send = form.get_by_role("button", name="Absenden")
    expect(form.locator("input[type=radio]:checked")).to_have_count(0)
    expect(form.locator("#utility input[type=radio]")).to_have_count(11)
    expect(send).to_be_disabled()
    form.get_by_label("Kommentar (optional)").press("Control+Enter")  # not a new run from the rating
    form.locator("#utility").get_by_text("5", exact=True).click()
    expect(send).to_be_disabled()
    shot(page, "rating-01-half-answered")
    assert bench.store.list_feedback() == [] and len(bench.store.list_runs()) == 1
    form.get_by_label("nein", exact=True).check()
    expect(send).to_be_enabled()
    expect(form.get_by_label("Auslassung")).to_be_disabled()  # categories belong to a critical error
    send.click()
    page.get_by_text("Danke, gespeichert.").wait_for()
    [rating] = bench.store.list_feedback()
    assert rating.utility == 5 and rating.critical_error is False and rating.categories == []
