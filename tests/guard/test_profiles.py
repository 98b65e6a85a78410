"""The product runs the guard profiles the benchmark measures."""

from __future__ import annotations

from typing import get_args

from medvault.guard import CHECKS, TASKS
from medvault.templates import Template, TemplateLibrary
from medvault.templates._spec import GuardCheck

#: Tasks whose default profile bench/guard_eval.py measures.
BENCHMARKED = ("correction", "simplification", "translation", "summary")


def _templates() -> list[Template]:
    return TemplateLibrary.load().list()


def test_template_spec_knows_every_check() -> None:
    """A template may name every check the guard has, omissions included."""
    assert set(get_args(GuardCheck)) == set(CHECKS)


def test_every_anchored_template_has_a_guard_profile() -> None:
    """Each anchored template declares a guard task and checks."""
    anchored = [t for t in _templates() if t.task_type == "anchored"]
    assert anchored
    assert all(t.guard_task and t.guard_checks for t in anchored), [
        t.id for t in anchored if not t.guard_task
    ]


def _profiled(summary: bool) -> list[Template]:
    return [
        t
        for t in _templates()
        if t.guard_task in BENCHMARKED
        and t.id not in ("error-check", "consistency-check")
        and (t.guard_task == "summary") == summary
    ]


def test_benchmarked_templates_run_the_measured_profile() -> None:
    """Templates of a benchmarked task whose output is the rewritten text run that task's default profile."""
    assert _profiled(summary=False)
    for t in _profiled(summary=False):
        assert tuple(t.guard_checks) == TASKS[t.guard_task].checks, t.id


def test_summary_templates_run_the_measured_profile() -> None:
    """Summary templates run the summary profile, omissions of actionable findings included."""
    assert _profiled(summary=True)
    for t in _profiled(summary=True):
        assert tuple(t.guard_checks) == TASKS[t.guard_task].checks, t.id
