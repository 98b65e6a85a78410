"""Engine settings cannot change what is served without changing the approved weights digest: vLLM flags
that load other weights, adapters, tokenizers, chat templates or generation overrides are refused, and a
`command` replica with `model` must load exactly `{model}` (model change control, docs/governance.md)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from medvault.backends._managed import launch
from medvault.config import ReplicaSettings

_DIGEST_NOTE = "changes what is served without changing the approved weights digest"


def _vllm(*extra_args: str) -> ReplicaSettings:
    return ReplicaSettings.model_validate(
        {
            "kind": "vllm",
            "python": "/opt/vllm/bin/python",
            "model": "/srv/m",
            "gpus": [0],
            "extra_args": list(extra_args),
        }
    )


@pytest.mark.parametrize(
    ("extra_args", "flag"),
    [
        (["--lora-modules", "x=/opt/adapter"], "--lora-modules"),
        (["--enable-lora"], "--enable-lora"),
        (["--tokenizer", "/other"], "--tokenizer"),
        (["--tokenizer=/other"], "--tokenizer"),
        (["--chat-template", "/etc/t.jinja"], "--chat-template"),
        (["--chat_template=/etc/t.jinja"], "--chat-template"),
        (["--chat-temp", "/etc/t.jinja"], "--chat-template"),  # argparse takes an unambiguous prefix
        (["--generation-config", "/other"], "--generation-config"),
        (["--override-generation-config", '{"temperature": 2}'], "--override-generation-config"),
        (["--hf-overrides", '{"rope_theta": 1}'], "--hf-overrides"),
        (["--hf-overrides.rope_theta", "1"], "--hf-overrides"),  # vLLM's dotted JSON keys
        (["--speculative-model", "/draft"], "--speculative-model"),
        (["--speculative-config", '{"model": "/draft"}'], "--speculative-config"),
        (["-sc", '{"model": "/draft"}'], "-sc"),
        (["--qlora-adapter-name-or-path", "/a"], "--qlora-adapter-name-or-path"),
        (["--load-format", "dummy"], "--load-format"),
        (["--config", "/etc/vllm.yaml"], "--config"),
        (["--revision", "other"], "--revision"),
        (["--logits-processors", "x.Y"], "--logits-processors"),
    ],
)
def test_vllm_flag_that_changes_what_is_served_is_refused(extra_args: list[str], flag: str) -> None:
    """Each flag is refused, naming it and why; the model's digest would not see what it loads."""
    with pytest.raises(ValidationError) as caught:
        _vllm(*extra_args)
    message = str(caught.value)
    assert f"sets {flag} (" in message and _DIGEST_NOTE in message and "fix:" in message


def test_rendered_flag_abbreviated_or_short_is_refused_as_rendered() -> None:
    """An abbreviation or a short alias of a flag MedVault renders names the key to use instead."""
    for args, key in ((["--served-model", "x"], "served_model_name"), (["-tp", "2"], "tensor_parallel_size")):
        with pytest.raises(ValidationError, match=f"renders itself; fix: use `{key}`"):
            _vllm(*args)
    with pytest.raises(ValidationError, match="never runs"):
        _vllm("--trust-remote")


def test_vllm_flags_that_keep_what_is_served_are_accepted() -> None:
    """Positive control: tuning flags pass and reach the rendered argv unchanged."""
    tuning = ["--max-num-seqs", "8", "--enable-prefix-caching", "--kv-cache-dtype=fp8", "--seed", "1"]
    replica = _vllm(*tuning)
    argv = launch(replica, model_id="m", host="127.0.0.1", port=18123).argv
    assert argv[-len(tuning) :] == tuning


def _command(argv: list[str], model: Path | None) -> ReplicaSettings:
    return ReplicaSettings.model_validate(
        {"kind": "command", "argv": argv, **({"model": str(model)} if model else {})}
    )


def test_command_with_model_must_load_model(tmp_path: Path) -> None:
    """`model` set, but argv loading other weights itself: refused; with `{model}` it passes and loads
    exactly `model`; without `model` (no digest, unpinned) argv may name its weights."""
    approved = tmp_path / "approved.gguf"
    approved.write_bytes(b"GGUF approved")
    other = ["/opt/s/server", "-m", "/srv/other.gguf", "--host", "{host}", "--port", "{port}"]
    with pytest.raises(ValidationError) as caught:
        _command(other, approved)
    assert "`model` is set but `argv` has no {model}" in str(caught.value) and "fix:" in str(caught.value)

    good = _command([*other[:2], "{model}", *other[3:]], approved)
    assert launch(good, model_id="m", host="127.0.0.1", port=18124).argv[2] == str(approved)
    assert _command(other, None).model is None
