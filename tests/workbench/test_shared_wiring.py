"""The workbench on the scaled-out gateway: database calls off the event loop, session runs counted
against per-user limits, the gateway's one authenticator, only the gateway's public names, and the
admin status page's last verify with its result."""

from __future__ import annotations

import asyncio
import functools
import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from medvault.isolation._state import record_verify, state_path, verify_path
from medvault.store import Role
from tests.gateway.conftest import Engine
from tests.workbench.conftest import PASSWORD, Bench, login_token, make_bench, sse_events

SOURCE = "Die Lunge ist frei. Kein Pleuraerguss links."
RUN = {"template_id": "report-correction", "lang": "de", "inputs": {"report": SOURCE}}
WORKBENCH_SRC = Path(__file__).resolve().parents[2] / "src" / "medvault" / "workbench"


def _on_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _recording(calls: list[tuple[str, bool]], name: str, method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        calls.append((name, _on_loop()))
        return method(*args, **kwargs)

    return wrapper


def test_session_and_throttle_database_calls_never_run_on_the_event_loop(
    bench: Bench, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sign-in (wrong, then right), pages, a language switch, a re-check, an API call by session and
    sign-out: every session and throttle query runs in a worker thread, none on the event loop."""
    calls: list[tuple[str, bool]] = []
    names = ("session_get", "session_create", "session_drop", "session_update", "sessions_prune",
             "signin_counts", "signin_prune")  # fmt: skip
    for name in names:
        monkeypatch.setattr(bench.store, name, _recording(calls, name, getattr(bench.store, name)))
    bench.workbench.access.recheck_s = 0  # every request re-checks the user (writes `checked`)
    wrong = bench.browser()
    data = {"username": "alice", "password": "wrong password here", "csrf_token": login_token(wrong)}
    assert wrong.post("/workbench/signin", data=data).status_code == 401
    client, csrf = bench.sign_in()
    assert client.get("/workbench?lang=en").status_code == 200
    assert client.get("/api/v1/templates").status_code == 200
    assert client.post("/workbench/signout", data={"csrf_token": csrf}).status_code == 303
    assert set(names) <= {name for name, _ in calls}, calls  # positive control: each one was used
    assert [name for name, on_loop in calls if on_loop] == []


def _wait_for_a_fresh_minute() -> None:
    """Rate windows are wall-clock minutes: start a counting test well inside one."""
    if time.time() % 60 > 50:
        time.sleep(61 - time.time() % 60)


def test_a_session_run_counts_against_the_user_limit_and_a_key_run_counts_once(
    tmp_path: Path, fake_engine: Engine
) -> None:
    """With 2 requests per user and minute: a run by session and a run by API key pass (the key's run
    is counted once, at authentication), the next session run is refused with 429, Retry-After and the
    gateway's error shape, and no third run is stored."""
    with make_bench(tmp_path, fake_engine, limits={"user_requests_per_minute": 2}) as bench:
        _wait_for_a_fresh_minute()
        client, csrf = bench.sign_in()
        first = client.post("/api/v1/runs", json=RUN, headers={"x-csrf-token": csrf})
        assert first.status_code == 200 and sse_events(first)[-1][0] == "done"
        keyed = bench.api().post("/api/v1/runs", json=RUN)
        assert keyed.status_code == 200, keyed.text
        refused = client.post("/api/v1/runs", json=RUN, headers={"x-csrf-token": csrf})
        assert refused.status_code == 429, refused.text
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        error = refused.json()["error"]
        assert error["code"] == "rate_limited" and error["type"] == "rate_limit_error"
        assert len(bench.store.list_runs()) == 2


def test_the_workbench_uses_the_gateways_one_authenticator(bench: Bench) -> None:
    """Sign-in, session re-checks and directory users' API keys share one record of what the directory
    last confirmed."""
    assert bench.workbench.authenticator is bench.gateway.authenticator


def test_the_workbench_imports_only_the_gateways_public_names() -> None:
    """No `medvault.gateway._…` or `medvault.gateway.errors` import in the workbench package."""
    private = re.compile(r"medvault\.gateway\.(_\w+|errors)\b")
    sources = sorted(WORKBENCH_SRC.glob("*.py"))
    assert len(sources) > 5  # positive control: the package was found
    found = [f"{p.name}: {m.group(0)}" for p in sources for m in private.finditer(p.read_text())]
    assert found == []


def _admin(bench: Bench) -> httpx.Client:
    bench.store.create_user("root-admin", PASSWORD, Role.ADMIN)
    client, _ = bench.sign_in("root-admin")
    return client


def _verify_line(page: str) -> tuple[str, str]:
    match = re.search(r'<dd id="admin-verified" data-verify="(\w+)">(.*?)</dd>', page, re.S)
    assert match, page
    return match.group(1), " ".join(match.group(2).split())


@pytest.mark.parametrize(
    ("record", "verdict", "words"),
    [
        ((True, []), "ok", ["passed"]),
        ((False, ["firewall", "dmz→vault:443 verdict"]), "failed", ["FAILED", "firewall", "dmz→vault:443"]),
        (None, "failed", ["FAILED", "verify record unreadable"]),  # a damaged record: never a pass
    ],
)
def test_status_page_shows_the_last_verify_and_its_result(
    bench: Bench, monkeypatch: pytest.MonkeyPatch, record: tuple[bool, list[str]] | None, verdict: str,
    words: list[str],
) -> None:  # fmt: skip
    """An isolated deployment's status page says when the last verify ran and whether it passed (and
    what failed); without a record it says "not recorded"."""
    monkeypatch.setattr(bench.gateway, "isolation", "on")
    data_dir = bench.settings.data_dir
    since = "2026-12-05T00:00:00+00:00"
    state_path(data_dir).parent.mkdir(parents=True, exist_ok=True)
    state_path(data_dir).write_text(json.dumps({"state": "ok", "since": since}))
    client = _admin(bench)
    assert _verify_line(client.get("/workbench/admin?lang=en").text) == ("none", "not recorded")
    if record is None:
        verify_path(data_dir).write_text("{damaged")
    else:
        assert record_verify(data_dir, since, *record)
    shown, text = _verify_line(client.get("/workbench/admin?lang=en").text)
    assert shown == verdict, text
    for word in words:
        assert word in text, text
    if record is not None:
        assert time.strftime("%Y-%m-%dT", time.gmtime()) in text  # when it ran (UTC, as recorded)


def test_metrics_page_renders_in_a_worker_thread(bench: Bench, monkeypatch: pytest.MonkeyPatch) -> None:
    """The metrics page's render (which may read the database for monitoring gauges) is off the loop."""
    calls: list[tuple[str, bool]] = []
    metrics = bench.gateway.metrics
    monkeypatch.setattr(metrics, "render", _recording(calls, "render", metrics.render))
    page = _admin(bench).get("/workbench/admin/metrics")
    assert page.status_code == 200 and "medvault_requests_total" in page.text
    assert calls == [("render", False)]
