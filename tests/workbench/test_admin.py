"""The admin and auditor pages: role landing, access per role, what each page shows, audit of each view,
report download, and that an auditor never sees patient content (canary)."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from medvault.store import EvaluationRecord, Role
from medvault.workbench._headers import CSP
from tests.governance.test_monitoring import DRIFT_FROM, DRIFTING, seed, week_name
from tests.workbench.conftest import PASSWORD, Bench, sse_events

CANARY = "Kanarienvogel-Mustermann-4711"
PAGES = (
    "/workbench/admin",
    "/workbench/admin/audit",
    "/workbench/admin/evaluations",
    "/workbench/admin/monitoring",
    "/workbench/admin/reports",
    "/workbench/admin/metrics",
)


def _signed_in(bench: Bench, username: str, role: Role) -> httpx.Client:
    bench.store.create_user(username, PASSWORD, role)
    client, _ = bench.sign_in(username)
    return client


@pytest.mark.parametrize(
    ("role", "landing"),
    [(Role.CLINICIAN, "/workbench"), (Role.ADMIN, "/workbench/admin"), (Role.AUDITOR, "/workbench/admin")],
)
def test_each_role_lands_on_its_pages_and_back_to_sign_in_returns_there(
    bench: Bench, role: Role, landing: str
) -> None:
    """After sign-in clinicians go to the workbench, admins and auditors to the status page; the sign-in
    form opened again while signed in (the Back button) goes there too."""
    bench.store.create_user("someone", PASSWORD, role)
    client = bench.browser()
    page = client.get("/workbench/signin")
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    signed = client.post(
        "/workbench/signin", data={"username": "someone", "password": PASSWORD, "csrf_token": token}
    )
    assert signed.status_code == 303 and signed.headers["location"] == landing
    again = client.get("/workbench/signin")
    assert again.status_code == 303 and again.headers["location"] == landing


def test_admin_sees_status_users_and_keys_without_secrets(bench: Bench) -> None:
    """The status page names isolation, models with approval, engines with health and queue; the users
    page lists users and key prefixes, never a key or a password hash."""
    client = _signed_in(bench, "root-admin", Role.ADMIN)
    status = client.get("/workbench/admin?lang=en")
    assert status.status_code == 200
    for words in (
        "off (development mode)",
        "fake",
        "fake#0",
        "healthy",
        "Last verify",
        "not recorded",
        "/metrics",
    ):
        assert words in status.text, words
    users = client.get("/workbench/admin/users?lang=en")
    assert users.status_code == 200 and "alice" in users.text and "root-admin" in users.text
    prefix = bench.store.list_keys()[0].prefix
    assert prefix in users.text
    assert bench.key not in users.text and bench.admin_key not in users.text and "argon2" not in users.text


def test_pages_per_role_and_every_view_is_audited(bench: Bench) -> None:
    """Auditors read status, audit, reports and metrics but not users (403 page); clinicians get a page
    saying these are not theirs; signed-out browsers go to the sign-in form; every view is audited."""
    auditor = _signed_in(bench, "audrey", Role.AUDITOR)
    for path in PAGES:
        assert auditor.get(path).status_code == 200, path
    refused = auditor.get("/workbench/admin/users?lang=en")
    assert refused.status_code == 403 and "Your role (auditor) has no access" in refused.text
    clinician, _ = bench.sign_in()
    mine = clinician.get("/workbench/admin?lang=en")
    assert mine.status_code == 403 and "Your role (clinician) has no access" in mine.text
    stranger = bench.browser().get("/workbench/admin/audit")
    assert stranger.status_code == 303 and stranger.headers["location"].startswith("/workbench/signin")
    views = [(e["action"], e["status"], e["user"]) for e in bench.audit() if e["action"].startswith("admin.")]
    assert ("admin.users", 403, "audrey") in views and ("admin.status", 403, "alice") in views
    assert ("admin.audit", 200, "audrey") in views and ("admin.audit", 303, None) in views


def test_admin_pages_keep_the_csp_and_hold_no_inline_script(bench: Bench) -> None:
    """Every admin page carries the strict CSP and loads only the same-origin script."""
    client = _signed_in(bench, "root-admin", Role.ADMIN)
    for path in (*PAGES, "/workbench/admin/users"):
        response = client.get(path)
        assert response.headers["content-security-policy"] == CSP
        html = response.text
        assert "style=" not in html and "onclick" not in html
        scripts = html.count("<script")
        assert scripts == html.count('<script src="/workbench/static/workbench.js"') + html.count(
            'type="application/json"'
        )


def test_audit_trail_page_is_newest_first_with_fixed_fields_and_pages_back(
    bench: Bench, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The newest event leads; older ones are a link away; the rows show actions and statuses."""
    from medvault.workbench import _admin

    monkeypatch.setattr(_admin, "AUDIT_PAGE", 3)
    auditor = _signed_in(bench, "audrey", Role.AUDITOR)
    for _ in range(4):
        auditor.get("/workbench/admin/metrics")
    page = auditor.get("/workbench/admin/audit")
    rows = page.text.split("<tbody>", 1)[1].split("</tbody>", 1)[0].count("<tr>")
    assert rows == 3 and "admin.metrics" in page.text
    older = page.text.split('id="admin-audit-older" href="', 1)[1].split('"', 1)[0]
    assert older.startswith("/workbench/admin/audit?before=")
    assert auditor.get(older.replace("&amp;", "&")).status_code == 200


def test_metrics_page_is_readable_in_the_browser(bench: Bench) -> None:
    """A signed-in admin reads the metrics as an HTML table (no JSON error), the numbers /metrics has."""
    client = _signed_in(bench, "root-admin", Role.ADMIN)
    page = client.get("/workbench/admin/metrics")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "medvault_requests_total" in page.text and "medvault_isolation_breached" in page.text


def _seed_canary_run(bench: Bench) -> str:
    """A kept run whose input and output hold the canary, rated with the canary in the comment."""
    client = bench.api()
    body = {"template_id": "report-correction", "lang": "de", "inputs": {"report": f"{CANARY}: Lunge frei."}}
    done = sse_events(client.post("/api/v1/runs", json=body))[-1][1]
    rating = {"utility": 3, "critical_error": False, "comment": CANARY}
    assert client.post(f"/api/v1/runs/{done['id']}/feedback", json=rating).status_code == 201
    return str(done["id"])


def test_an_auditor_never_sees_patient_content(retaining_bench: Bench) -> None:
    """With retention on, the canary is kept (the owner reads it back: positive control), yet no admin
    page, report or run record an auditor gets holds it."""
    run_id = _seed_canary_run(retaining_bench)
    owner = retaining_bench.api().get(f"/api/v1/runs/{run_id}")
    assert CANARY in owner.text, "positive control: the content is kept"
    auditor = _signed_in(retaining_bench, "audrey", Role.AUDITOR)
    seen = [auditor.get(path) for path in (*PAGES, f"/api/v1/runs/{run_id}")]
    assert all(r.status_code == 200 for r in seen)
    for response in seen:
        assert CANARY not in response.text, response.url
    record = seen[-1].json()
    assert record["output"] is None and record["content_kept"] is False and record["content_note"]
    for kind, expected in (("pilot", "report.html"), ("evidence", "evidence.pdf")):
        report = auditor.get(f"/workbench/admin/reports/{kind}")
        assert report.status_code == 200 and report.headers["content-type"] == "application/zip"
        with zipfile.ZipFile(io.BytesIO(report.content)) as archive:
            names = archive.namelist()
            assert expected in names, names
            for name in names:
                assert CANARY.encode() not in archive.read(name), name
    assert [e["detail"]["report"] for e in retaining_bench.audit() if e["action"] == "admin.report"] == [
        "pilot",
        "evidence",
    ]


def test_a_role_without_browser_pages_is_told_so_not_wrong_password(
    bench: Bench, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Were a role to have no browser pages (a directory may map one), its correct password is answered
    with a 403 saying so; a wrong password still gets the usual 401."""
    from medvault.workbench import _pages

    monkeypatch.setattr(_pages, "SIGNIN_ROLES", frozenset({Role.CLINICIAN.value}))
    bench.store.create_user("audrey", PASSWORD, Role.AUDITOR)
    results = []
    for password in (PASSWORD, PASSWORD + "x"):
        client = bench.browser()
        page = client.get("/workbench/signin?lang=en")
        token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        results.append(
            client.post(
                "/workbench/signin", data={"username": "audrey", "password": password, "csrf_token": token}
            )
        )
    right, wrong = results
    assert right.status_code == 403 and "your role (auditor) has no pages in the browser" in right.text
    assert 'id="signin-error"' not in right.text
    assert wrong.status_code == 401 and 'id="signin-error"' in wrong.text
    assert [e["detail"]["reason"] for e in bench.audit() if e["action"] == "auth.failed"] == [
        "role",
        "credentials",
    ]


def test_evaluations_page_lists_each_evaluation_with_its_verdict(bench: Bench) -> None:
    """Model, digests, pass/fail with reasons and date of each stored evaluation; empty says so."""
    client = _signed_in(bench, "audrey", Role.AUDITOR)
    empty = client.get("/workbench/admin/evaluations?lang=en")
    assert empty.status_code == 200 and "No evaluation yet." in empty.text
    when = datetime(2026, 11, 30, 9, 15, tzinfo=UTC)
    for number, passed in ((1, True), (2, False)):
        bench.store.save_evaluation(
            EvaluationRecord(
                id=f"eval-{number}", model_id="fake", model_digest=f"sha256:{number}" * 8,
                combination=f"sha256:c{number}", guard_version="g1", retrieval_index=None, templates={},
                started_at=when, finished_at=when + timedelta(days=number), run_by="root", max_tokens=None,
                passed=passed, reasons=[] if passed else ["guard review rate 31 > 20 per 100"],
                baseline_id=None,
            )
        )  # fmt: skip
    page = client.get("/workbench/admin/evaluations?lang=en").text
    table = page.split('id="admin-evaluations"', 1)[1]
    assert 'data-evaluation="eval-1"' in table and 'data-evaluation="eval-2"' in table
    assert "passed" in table and "failed" in table and "guard review rate 31 &gt; 20 per 100" in table
    assert "2026-12-01 09:15" in table and "sha256:2sha256:2" in table


def test_monitoring_page_charts_each_template_and_shows_the_drift_alert(bench: Bench) -> None:
    """On the seeded 25 raters x 10 templates x 6 weeks (drift in tpl-03 from week 4): a chart per
    template, the alert for tpl-03 from week 4 on the monitoring and the status page, none for another
    template, each alert audited once however often the pages are viewed."""
    seed(bench.store)
    client = _signed_in(bench, "root-admin", Role.ADMIN)
    page = client.get("/workbench/admin/monitoring?lang=en")
    assert page.status_code == 200
    html = page.text
    assert html.count('<img src="data:image/svg+xml;base64,') == 10
    alerts = html.split('id="admin-alerts"', 1)[1].split("</table>", 1)[0]
    assert DRIFTING in alerts and week_name(DRIFT_FROM) in alerts
    assert week_name(DRIFT_FROM - 1) not in alerts and "tpl-04" not in alerts
    status = client.get("/workbench/admin?lang=en").text
    assert DRIFTING in status.split('id="admin-alerts"', 1)[1].split("</table>", 1)[0]
    drift = [e for e in bench.audit() if e["action"] == "monitoring.drift"]
    assert drift and len(drift) == alerts.count("<tr>") - 1  # one event per alert row (header aside)
