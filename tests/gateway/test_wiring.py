"""What the composition wires into the gateway: monitoring gauges on /metrics (also with several
processes), the browser's way from /metrics to the readable page, and directory users' API keys."""

from __future__ import annotations

import itertools
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from medvault.app import create_app
from medvault.backends import resolve_runtime
from medvault.directory import DirectoryUser, Refused
from medvault.store import Role, Store
from medvault.store._directory_users import admit_directory_user
from tests.gateway.conftest import REPO, Engine, Running, make_settings, open_store, serve_app
from tests.governance.test_monitoring import DIGEST, DRIFTING, MODEL, seed

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def samples(text: str, name: str) -> list[tuple[dict[str, str], float]]:
    return [
        (sample.labels, sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    ]


def drift_of(text: str, template: str) -> dict[str, float]:
    """The drift gauge of `template` on the seeded model's weights, per metric."""
    return {
        labels["metric"]: value
        for labels, value in samples(text, "medvault_monitoring_drift")
        if (labels["template"], labels["model"], labels["digest"]) == (template, MODEL, DIGEST)
    }


def test_seeded_drift_shows_as_a_gauge_on_metrics(gateway: Running) -> None:
    """A drift seeded in the ratings is on /metrics: 1 for the drifting template's critical-error rate,
    0 for a template that did not drift, and the refresh reports itself ok."""
    seed(gateway.store)
    with gateway.client(gateway.admin_key) as client:
        response = client.get("/metrics")
    assert response.status_code == 200
    assert samples(response.text, "medvault_monitoring_ok") == [({}, 1.0)]
    drifting = drift_of(response.text, DRIFTING)
    assert drifting["critical_error_rate"] == 1.0 and drifting["utility_median"] == 1.0
    assert set(drift_of(response.text, "tpl-00").values()) == {0.0}  # the control: same data, no drift
    # The alerts the scrape found are recorded (and audited) once, by the gateway.
    events = [e.event for e in gateway.store.audit_events() if e.event.action == "monitoring.drift"]
    assert events and {e.client_kind for e in events} == {"gateway"}


_WORKER = """
import sys
from pathlib import Path
from medvault.config import MonitoringSettings
from medvault.gateway import Metrics, use_multiprocess
from medvault.governance._monitoring import MonitoringCollector
from medvault.store import Store

directory, worker, url, out = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
use_multiprocess(directory, worker)
metrics = Metrics([])
metrics.register_live(MonitoringCollector(Store.open(url), MonitoringSettings()))
metrics.requests.labels("chat.completions", "fake", "200").inc()
if out:  # a file: the process's log lines go to stdout
    Path(out).write_bytes(metrics.render())
"""


def test_monitoring_gauges_appear_once_with_several_processes(tmp_path: Path) -> None:
    """In multi-process mode counters are summed over the workers' files, while the monitoring gauges,
    read from the shared database by whichever process answers, appear exactly once (never summed)."""
    shared = tmp_path / "metrics"
    shared.mkdir()
    url = f"sqlite:///{tmp_path / 'medvault.db'}"
    store = Store.open(url)
    store.migrate()
    seed(store)
    store.close()

    out = tmp_path / "exposition.txt"
    for number, render in ((1, ""), (2, str(out))):
        command = [sys.executable, "-c", _WORKER, str(shared), str(number), url, render]
        subprocess.run(command, cwd=REPO, check=True, capture_output=True)
    text = out.read_text()
    requests = samples(text, "medvault_requests_total")
    assert [value for _, value in requests] == [2.0]  # both workers' counts, summed: multi-process is on
    assert samples(text, "medvault_monitoring_ok") == [({}, 1.0)]
    assert drift_of(text, DRIFTING)["critical_error_rate"] == 1.0  # 1, not one per worker


def test_browser_without_a_key_is_sent_to_the_readable_metrics_page(gateway: Running) -> None:
    """A browser (Accept: text/html, no key) gets 303 to the workbench's metrics page, which exists;
    an API client without a key keeps the 401 JSON; a browser that sends a key gets the metrics."""
    with httpx.Client(base_url=gateway.url, timeout=30) as anonymous:
        browser = anonymous.get("/metrics", headers={"accept": BROWSER_ACCEPT})
        assert browser.status_code == 303, browser.text
        assert browser.headers["location"] == "/workbench/admin/metrics"
        page = anonymous.get(browser.headers["location"], headers={"accept": BROWSER_ACCEPT})
        assert page.status_code != 404  # the page is there (it asks for a sign-in)
        for accept in ("*/*", "application/json", None):
            api = anonymous.get("/metrics", headers={"accept": accept} if accept else {})
            assert api.status_code == 401, (accept, api.text)
            assert api.json()["error"]["code"] == "missing_api_key"
    with gateway.client(gateway.admin_key) as admin:
        served = admin.get("/metrics", headers={"accept": BROWSER_ACCEPT})
    assert served.status_code == 200 and "medvault_requests_total" in served.text


class FakeDirectory:
    """Stands in for the LDAP client: answers look-ups from `entries`, records who was asked about."""

    def __init__(self) -> None:
        self.entries: dict[str, DirectoryUser] = {}
        self.asked: list[str] = []

    def look_up(self, username: str) -> DirectoryUser:
        self.asked.append(username)
        if username not in self.entries:
            raise Refused("credentials")
        return self.entries[username]


@pytest.fixture
def keyed(tmp_path: Path, engine: Engine) -> Iterator[tuple[Running, FakeDirectory, str]]:
    """A gateway with a 1 s key cache; anna is a directory user with a key; the directory is a fake."""
    settings = make_settings(tmp_path, [engine.url], auth={"cache_ttl_s": 1.0})
    store = open_store(settings)
    anna = DirectoryUser("anna", "uid=anna,ou=staff,dc=example", "uuid-anna-1", Role.CLINICIAN)
    assert admit_directory_user(store, anna.username, anna.role, anna.external_id) is None
    _, anna_key = store.create_key("anna", Role.CLINICIAN)
    key_id, local_key = store.create_key("alice", Role.CLINICIAN)
    _, admin = store.create_key("root", Role.ADMIN)
    app = create_app(settings, resolve_runtime(settings, {}), store)
    directory = FakeDirectory()
    directory.entries["anna"] = anna
    authenticator = app.state.gateway.authenticator
    authenticator.client = directory
    ticks = itertools.count(0, 1000)  # every key check is past `recheck_s`: the directory is asked
    authenticator.clock = lambda: float(next(ticks))
    with serve_app(app) as url:
        yield Running(url, settings, store, local_key, admin, key_id), directory, anna_key
    store.close()


def models(running: Running, key: str) -> int:
    with running.client(key) as client:
        return client.get("/v1/models").status_code


def test_a_directory_users_key_ends_with_the_user_within_the_cache_ttl(
    keyed: tuple[Running, FakeDirectory, str],
) -> None:
    """anna's key works while the directory knows her; removed there, it is refused once the 1 s cache
    entry expires. Cache hits never ask the directory, and local keys never reach it at all."""
    running, directory, anna_key = keyed
    assert [models(running, anna_key) for _ in range(5)] == [200] * 5
    assert directory.asked == ["anna"]  # one cache miss; the four hits asked nothing
    del directory.entries["anna"]  # disabled or deleted in the directory
    removed = time.monotonic()
    while models(running, anna_key) == 200:
        assert time.monotonic() - removed < 1.5, "still served after the cache TTL"
        time.sleep(0.05)
    assert models(running, running.key) == 200  # alice, a local user, is unaffected
    assert models(running, running.admin_key) == 200
    assert set(directory.asked) == {"anna"}


def test_with_the_directory_disabled_local_keys_work_and_directory_keys_do_not(
    tmp_path: Path, engine: Engine
) -> None:
    """The directory off (the default): local keys work as before, and one `authenticator` is exposed
    for the workbench; a key made for a directory user while it was on is refused (its users are out)."""
    settings = make_settings(tmp_path, [engine.url])
    assert not settings.directory.enabled
    store = open_store(settings)
    assert admit_directory_user(store, "bert", Role.CLINICIAN, "uuid-bert") is None
    _, bert = store.create_key("bert", Role.CLINICIAN)
    _, alice = store.create_key("alice", Role.CLINICIAN)
    app = create_app(settings, resolve_runtime(settings, {}), store)
    assert app.state.gateway.authenticator.client is None
    with serve_app(app) as url:
        running = Running(url, settings, store, alice, alice, "")
        assert models(running, alice) == 200
        assert models(running, bert) == 401
    store.close()
