"""What an operator sees when something is wrong: a broken config while MedVault runs, a bad environment
variable, a missing database, a broken template directory, an unknown language, a wrong digest."""

from __future__ import annotations

import hashlib
import inspect
import json
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from medvault.cli import app
from medvault.config import Settings, load_settings
from medvault.errors import ConfigError
from medvault.store import Store
from medvault.supervisor import data_dir_lock, state_file
from tests.conftest import require_root

TYPO = "prot = 8080\n"  # a misspelt key: the file no longer loads


@pytest.fixture(autouse=True)
def _elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No medvault.toml and no MEDVAULT_* settings but what each test sets."""
    monkeypatch.chdir(tmp_path)
    for name in ("MEDVAULT_CONFIG", "MEDVAULT_DATA_DIR", "MEDVAULT_DATABASE_URL", "MEDVAULT_PORT"):
        monkeypatch.delenv(name, raising=False)


class _Ready(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({"models": {"m": "ready"}, "held": {}}).encode()
        self.send_response(200 if self.path == "/readyz" else 404)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def gateway() -> Iterator[str]:
    """A loopback endpoint whose /readyz answers 200, standing in for a ready gateway."""
    server = HTTPServer(("127.0.0.1", 0), _Ready)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _supervisor(
    data_dir: Path, url: str = "http://127.0.0.1:9", isolation: str = "off", cleans_up: bool = False
) -> subprocess.Popen[str]:
    """A stand-in supervisor, as `down` and `status` find one: it holds the data directory's lock, has
    recorded its pid in run/supervisor.json, and exits on SIGTERM (removing its record first, as the
    real one does after a clean stop, when `cleans_up`)."""
    lock = data_dir_lock(data_dir)
    lock.parent.mkdir(parents=True, exist_ok=True)
    record_file = state_file(Settings(data_dir=data_dir))
    # On SIGTERM: remove the record, then die of the signal as before.
    cleanup = (
        "def term(*_): os.unlink(sys.argv[2]); signal.signal(15, signal.SIG_DFL); os.kill(os.getpid(), 15)\n"
        "signal.signal(15, term)\n"
    )
    holder = (
        "import fcntl, os, signal, sys, time\nf = open(sys.argv[1], 'a'); fcntl.flock(f, fcntl.LOCK_EX)\n"
        + (cleanup if cleans_up else "")
        + "print('locked', flush=True); time.sleep(120)"
    )
    argv = [sys.executable, "-c", holder, str(lock), str(record_file)]
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stdout.readline() == "locked\n"
    record = {"pid": process.pid, "url": url, "isolation": isolation, "processes": []}
    record_file.write_text(json.dumps(record))
    return process


@pytest.fixture
def running(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    process = _supervisor(tmp_path / "data")
    yield process
    if process.poll() is None:
        process.kill()
    process.wait()


@pytest.mark.parametrize("data_dir_from", ["environment", "config file"])
def test_down_stops_a_running_medvault_whose_config_no_longer_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, running: subprocess.Popen[str], data_dir_from: str
) -> None:
    """With a typo in medvault.toml, `down` still finds the running instance by its data directory (from
    MEDVAULT_DATA_DIR, or the file's `data_dir`), stops it and names the config problem as a warning."""
    data = tmp_path / "data"
    config = tmp_path / "medvault.toml"
    if data_dir_from == "environment":
        monkeypatch.setenv("MEDVAULT_DATA_DIR", str(data))
        config.write_text(TYPO)
    else:
        config.write_text(f'data_dir = "{data}"\n{TYPO}')
    with pytest.raises(ConfigError):  # control: the file does not load
        load_settings(config)
    result = CliRunner().invoke(app, ["down", "--timeout", "20", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert f"stopped MedVault (pid {running.pid})" in result.stdout and "killed" not in result.stdout
    assert "warning:" in result.stderr and "key `prot`" in result.stderr
    assert running.wait(timeout=10) == -signal.SIGTERM
    assert not state_file(Settings(data_dir=data)).exists()


def test_status_of_a_running_medvault_whose_config_no_longer_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, running: subprocess.Popen[str]
) -> None:
    """`status` reports the running instance, with the config problem, and exits 2 for it."""
    monkeypatch.setenv("MEDVAULT_DATA_DIR", str(tmp_path / "data"))
    (tmp_path / "medvault.toml").write_text(TYPO)  # found as ./medvault.toml
    result = CliRunner().invoke(app, ["status", "--json"])
    assert result.exit_code == 2, result.output
    report = json.loads(result.stdout)
    assert report["running"] is True and report["pid"] == running.pid
    assert "key `prot`" in report["config_error"] and "key `prot`" in result.stderr


def test_down_with_a_broken_config_and_nothing_running_says_where_it_looked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When no instance runs in the data directory it can find, `down` says where it looked and exits 2."""
    monkeypatch.setenv("MEDVAULT_DATA_DIR", str(tmp_path / "elsewhere"))
    config = tmp_path / "broken.toml"
    config.write_text(TYPO)
    result = CliRunner().invoke(app, ["down", "--config", str(config)])
    assert result.exit_code == 2, result.output
    assert f"no MedVault runs with the data directory {tmp_path / 'elsewhere'}" in result.stderr
    assert f"fix {config}" in result.stderr


@pytest.mark.parametrize("as_json", [False, True])
def test_status_exits_1_when_medvault_is_not_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, gateway: str, as_json: bool
) -> None:
    """Not running: exit 1 and say so; a running, ready instance (control) exits 0."""
    monkeypatch.setenv("MEDVAULT_DATA_DIR", str(tmp_path / "data"))
    args = ["status", "--json"] if as_json else ["status"]
    stopped = CliRunner().invoke(app, args)
    assert stopped.exit_code == 1, stopped.output
    assert "MedVault is not running" in stopped.stderr
    if as_json:
        assert json.loads(stopped.stdout)["running"] is False
    else:
        assert "running: False" in stopped.stdout
    process = _supervisor(tmp_path / "data", gateway)
    try:
        ready = CliRunner().invoke(app, args)
        assert ready.exit_code == 0, ready.output
        assert "not running" not in ready.stderr
    finally:
        process.kill()
        process.wait()


def test_a_bad_environment_variable_is_named_not_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MEDVAULT_PORT=xyz is blamed on MEDVAULT_PORT, not on the config file that is fine."""
    config = tmp_path / "ok.toml"
    config.write_text("port = 8081\n")
    assert load_settings(config).port == 8081  # control: the file is fine
    monkeypatch.setenv("MEDVAULT_PORT", "xyz")
    result = CliRunner().invoke(app, ["keys", "list", "--config", str(config)])
    assert result.exit_code == 2, result.output
    assert "invalid settings from environment variable MEDVAULT_PORT" in result.stderr
    assert "key `port` (from environment variable MEDVAULT_PORT)" in result.stderr
    assert "ok.toml" not in result.stderr and "without quotes" not in result.stderr


def test_errors_from_the_file_and_the_environment_are_told_apart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One bad key in the file and one in the environment (nested, with `__`): each names its source."""
    config = tmp_path / "bad.toml"
    config.write_text('log_level = "loud"\n')
    monkeypatch.setenv("MEDVAULT_ISOLATION__INGRESS__PORT", "abc")
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    message = str(caught.value)
    assert (
        f"invalid settings from {config} and environment variable MEDVAULT_ISOLATION__INGRESS__PORT"
        in message
    )
    assert "key `log_level`: " in message
    assert (
        "key `isolation.ingress.port` (from environment variable MEDVAULT_ISOLATION__INGRESS__PORT)"
        in message
    )


def test_a_directory_given_as_config_is_named_as_one(tmp_path: Path) -> None:
    """`-c somedir` says it is a directory, not that there is no such file."""
    result = CliRunner().invoke(app, ["keys", "list", "-c", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert "is a directory" in result.stderr and "no such file" not in result.stderr
    missing = CliRunner().invoke(app, ["keys", "list", "-c", str(tmp_path / "nope.toml")])  # control
    assert missing.exit_code == 2 and "no such file" in missing.stderr


def test_duplicate_model_ids_are_named_in_plain_words(tmp_path: Path) -> None:
    config = tmp_path / "dupes.toml"
    model = '[[models]]\nid = "a"\n[[models.replicas]]\nkind = "embedded"\n'
    config.write_text(model * 2)
    with pytest.raises(ConfigError, match="model ids must be unique; used more than once: a"):
        load_settings(config)


def _broken_template_dir(tmp_path: Path) -> tuple[Path, Path]:
    """A config whose workbench.template_dirs holds a file that is not valid TOML: (config, that file)."""
    templates = tmp_path / "templates"
    templates.mkdir()
    broken = templates / "mine.en.toml"
    broken.write_text('id = "mine"\ntitle = [\n')
    config = tmp_path / "medvault.toml"
    config.write_text(f'[workbench]\ntemplate_dirs = ["{templates}"]\n')
    return config, broken


@pytest.mark.parametrize("problem", ["broken file", "missing directory"])
def test_up_refuses_a_broken_template_directory_before_starting_anything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, problem: str
) -> None:
    """A broken template file or a missing template directory stops `up` with status 2, naming the file
    (or directory), the key and the fix; nothing is started, no run state written."""
    monkeypatch.setattr("medvault.cli.server.configure_logging", lambda level: None)
    monkeypatch.setenv("MEDVAULT_DATA_DIR", str(tmp_path / "data"))
    config, broken = _broken_template_dir(tmp_path)
    named = broken
    if problem == "missing directory":
        named = tmp_path / "no-such-templates"
        config.write_text(f'[workbench]\ntemplate_dirs = ["{named}"]\n')
    result = CliRunner().invoke(app, ["up", "--no-isolation", "--config", str(config)])
    assert result.exit_code == 2, result.output
    assert str(named) in result.stderr and "workbench.template_dirs" in result.stderr
    assert "fix:" in result.stderr
    assert not (tmp_path / "data" / "run").exists()


@pytest.mark.parametrize("port", ["0", "70000"])
def test_up_refuses_a_port_out_of_range(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, port: str) -> None:
    """`up --port 0` is refused like any other port out of range (it used to be ignored silently)."""
    monkeypatch.setattr("medvault.cli.server.configure_logging", lambda level: None)
    monkeypatch.setenv("MEDVAULT_DATA_DIR", str(tmp_path / "data"))
    result = CliRunner().invoke(app, ["up", "--no-isolation", "--port", port])
    assert result.exit_code == 2 and "from the command line" in result.stderr, result.output
    assert not (tmp_path / "data" / "run").exists()


def test_templates_list_refuses_an_unknown_language() -> None:
    """`templates list --lang fr` refuses as `templates show --lang fr` does; `--lang en` lists (control)."""
    unknown = CliRunner().invoke(app, ["templates", "list", "--lang", "fr"])
    assert unknown.exit_code == 1 and "no template has language 'fr'" in unknown.stderr
    assert "'de'" in unknown.stderr and "'en'" in unknown.stderr
    assert CliRunner().invoke(app, ["templates", "show", "report-correction", "--lang", "fr"]).exit_code == 1
    known = CliRunner().invoke(app, ["templates", "list", "--lang", "en"])
    assert known.exit_code == 0 and "report-correction" in known.stdout


@pytest.mark.parametrize("after", ["99999999999999999999", str(2**63), "-1"])
def test_audit_list_refuses_a_sequence_number_out_of_range(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, after: str
) -> None:
    """An --after no sequence number can reach is refused by name, not with an OverflowError."""
    monkeypatch.setenv("MEDVAULT_DATA_DIR", str(tmp_path / "data"))
    _migrated(tmp_path / "data")
    result = CliRunner().invoke(app, ["audit", "list", "--after", after])
    assert result.exit_code == 2 and result.exception is not None
    assert isinstance(result.exception, SystemExit)
    assert "--after" in result.output
    assert ("9223372036854775807" if int(after) > 0 else "greater than or equal to 0") in result.output


def test_audit_list_takes_the_largest_sequence_number(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Control: 2**63-1 is accepted (nothing after it)."""
    monkeypatch.setenv("MEDVAULT_DATA_DIR", str(tmp_path / "data"))
    _migrated(tmp_path / "data")
    result = CliRunner().invoke(app, ["audit", "list", "--json", "--after", str(2**63 - 1)])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""


def _migrated(data_dir: Path) -> None:
    store = Store.open(f"sqlite:///{data_dir / 'medvault.db'}")
    store.migrate()
    store.close()


def _models_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, model_id: str, remote_digest: str
) -> tuple[Path, str]:
    """An embedded model `model_id` on a tiny GGUF and a remote one declaring `remote_digest`."""
    gguf = tmp_path / "tiny.gguf"
    gguf.write_bytes(b"GGUF-operator-errors")
    config = tmp_path / "medvault.toml"
    config.write_text(
        f'[[models]]\nid = "{model_id}"\n[[models.replicas]]\nkind = "embedded"\ngguf = "{gguf}"\n'
        '[[models]]\nid = "remote"\n[[models.replicas]]\nkind = "openai"\nurl = "http://127.0.0.1:9/v1"\n'
        f'digest = "{remote_digest}"\n'
    )
    monkeypatch.setenv("MEDVAULT_DATA_DIR", str(tmp_path / "data"))
    _migrated(tmp_path / "data")
    return config, "sha256:" + hashlib.sha256(b"GGUF-operator-errors").hexdigest()


def test_models_list_prints_ids_and_digests_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Piped at 80 columns, the table keeps a long model id and the digest whole, each on one line, and
    prints a declared `sha256:abc:` as it is (not as an emoji)."""
    long_id = "radiology-report-assistant-" + "x" * 40
    config, digest = _models_config(tmp_path, monkeypatch, long_id, "sha256:abc:")
    result = CliRunner().invoke(app, ["models", "list", "--config", str(config)], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert long_id in result.stdout and digest in result.stdout
    assert "sha256:abc:" in result.stdout and "…" not in result.stdout


def test_approve_and_retire_take_only_a_digest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`--digest` must be `sha256:` and 64 lowercase hex digits (or what an `openai` replica declares):
    anything else is refused readably and nothing is recorded."""
    config, digest = _models_config(tmp_path, monkeypatch, "local", "vendor-build-7")
    base = ["--reason", "CAB-3", "--config", str(config)]
    for command, model, wrong in (
        ("approve", "local", digest.upper()),
        ("approve", "local", digest[:-1]),
        ("retire", "local", "sha256:abc:"),
        ("approve", "local", "vendor-build-7"),  # declared by another model only
    ):
        extra = ["--override"] if command == "approve" else []
        result = CliRunner().invoke(app, ["models", command, model, "--digest", wrong, *base, *extra])
        assert result.exit_code == 2, result.output
        assert f"--digest {wrong!r} is not a digest" in result.stderr and "64 lowercase hex" in result.stderr
    listed = CliRunner().invoke(app, ["models", "list", "--json", "--config", str(config)])
    assert [row["status"] for row in json.loads(listed.stdout)] == ["pending", "pending"]
    for model, good in (("local", digest), ("remote", "vendor-build-7")):  # controls
        approved = CliRunner().invoke(
            app, ["models", "approve", model, "--digest", good, *base, "--override"]
        )
        assert approved.exit_code == 0, approved.output


def test_a_digest_the_registry_knows_can_be_retired_after_the_config_moved_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An `openai` replica's declared digest was approved, then the config declares another: the old one
    is no longer in the config but is in the registry, so it can still be retired (control: an unknown
    free-form digest is still refused)."""
    config, _ = _models_config(tmp_path, monkeypatch, "local", "vendor-build-7")
    base = ["--reason", "CAB-4", "--config", str(config)]
    approved = CliRunner().invoke(
        app, ["models", "approve", "remote", "--digest", "vendor-build-7", *base, "--override"]
    )
    assert approved.exit_code == 0, approved.output
    config.write_text(config.read_text().replace("vendor-build-7", "vendor-build-8"))
    unknown = CliRunner().invoke(app, ["models", "retire", "remote", "--digest", "vendor-build-6", *base])
    assert unknown.exit_code == 2, unknown.output
    retired = CliRunner().invoke(app, ["models", "retire", "remote", "--digest", "vendor-build-7", *base])
    assert retired.exit_code == 0 and "retired" in retired.stdout, retired.output


def test_decisions_print_what_the_operator_typed_as_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A model id like `x:abc:` is printed as typed in the note and the confirmation, not as an emoji."""
    config, digest = _models_config(tmp_path, monkeypatch, "local", "sha256:" + "0" * 64)
    args = ["models", "approve", "x:abc:", "--digest", digest, "--reason", "CAB-4", "--override"]
    result = CliRunner().invoke(app, [*args, "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "note: x:abc: is not configured here" in result.stdout
    assert f"x:abc: {digest}: approved" in result.stdout


def test_help_lists_each_command_on_one_line() -> None:
    """In `medvault --help` and `medvault models --help`, each command's summary (its docstring's first
    paragraph) stands on one line when the terminal is wide enough: no break left from the source lines."""
    root = typer.main.get_command(app)
    for group, names in (([], ["evaluate"]), (["models"], ["list", "approve", "history", "verify"])):
        commands = root.commands[group[0]].commands if group else root.commands  # type: ignore[attr-defined]
        result = CliRunner().invoke(app, [*group, "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0, result.output
        for name in names:
            summary = " ".join(inspect.cleandoc(commands[name].help).split("\n\n")[0].split())
            assert any(summary in line for line in result.stdout.splitlines()), (summary, result.stdout)


@pytest.mark.root
@pytest.mark.parametrize("cleans_up", [True, False])
def test_down_with_a_broken_config_after_an_isolated_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cleans_up: bool
) -> None:
    """An isolated MedVault that removes what it built when stopped (as the real supervisor does) is
    stopped with exit 0 although the file does not load; one that left its record behind (a crash) makes
    `down` say that the leftovers are named in the broken file (exit 2)."""
    require_root()
    data = tmp_path / "data"
    process = _supervisor(data, isolation="on", cleans_up=cleans_up)
    try:
        monkeypatch.setenv("MEDVAULT_DATA_DIR", str(data))
        config = tmp_path / "medvault.toml"
        config.write_text(TYPO)
        result = CliRunner().invoke(app, ["down", "--timeout", "20", "--config", str(config)])
        assert f"stopped MedVault (pid {process.pid})" in result.stdout, result.output
        if cleans_up:
            assert result.exit_code == 0, result.output
        else:
            assert result.exit_code == 2 and "its namespaces and firewall are named in" in result.output
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
