"""Risk classification per template: validated at load, complete for every shipped template, and the
deployment setting that refuses device-class templates unless enabled."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from medvault.config import GovernanceSettings, Settings
from medvault.errors import TemplateError
from medvault.templates import JURISDICTIONS, DevicePolicy, TemplateLibrary, TemplateNotEnabled, builtin_dir
from medvault.templates._spec import Risk

RISK: dict[str, Any] = {
    "privacy": 3, "privacy_reason": "an excerpt without identifiers", "reasoning": 2,
    "reasoning_reason": "restating what is written", "target_user": "professional",
    "regulatory": {
        "eu": "not-device", "us": "not-device", "cn": "not-device", "rationale": "a reason long enough",
    },
}  # fmt: skip


def _with(**regulatory: Any) -> dict[str, Any]:
    return {**RISK, "regulatory": {**RISK["regulatory"], **regulatory}}


@pytest.mark.parametrize(
    ("risk", "problem"),
    [
        (_with(eu="conditional"), r"conditional status needs `conditions.<jurisdiction>`.*\['eu'\]"),
        (_with(conditions={"us": "device when used alone"}), r"only for a conditional status.*\['us'\]"),
        (_with(cn="conditional", conditions={"cn": "device"}), "10 characters or more"),
        (_with(eu="borderline"), "Input should be 'device', 'not-device' or 'conditional'"),
        ({**RISK, "privacy_reason": ""}, "privacy_reason"),
        ({k: v for k, v in RISK.items() if k != "reasoning_reason"}, "reasoning_reason"),
        ({**RISK, "target_user": "radiologist"}, "'professional' or 'patient'"),
        ({**RISK, "reasoning": 6}, "less than or equal to 5"),
        (_with(cn=None), "cn"),
    ],
    ids=["no-condition", "stray-condition", "short-condition", "old-borderline", "empty-reason",
         "missing-reason", "target-user", "range", "no-china"],
)  # fmt: skip
def test_risk_fields_are_validated(risk: dict[str, Any], problem: str) -> None:
    """Each incomplete or inconsistent classification is rejected, saying what is wrong."""
    with pytest.raises(ValidationError, match=problem):
        Risk.model_validate(risk)


def test_a_complete_conditional_classification_loads() -> None:
    """A conditional status with its condition, and the device jurisdictions it reports."""
    risk = Risk.model_validate(
        _with(eu="device", us="conditional", conditions={"us": "device when not reviewable by the clinician"})
    )
    assert risk.device_in(JURISDICTIONS) == ["eu"] and risk.regulatory.status("us") == "conditional"


def test_every_shipped_template_is_fully_classified() -> None:
    """Both demands with reasons, a target user, and a status in the EU, the US and China for all 20;
    the two languages of a template agree; open templates are devices everywhere."""
    templates = TemplateLibrary.load().list()
    assert len(templates) == 20
    by_id: dict[str, list[Any]] = {}
    for t in templates:
        risk = t.risk
        assert (
            risk.privacy_reason and risk.reasoning_reason and risk.target_user in ("professional", "patient")
        )
        statuses = [risk.regulatory.status(j) for j in JURISDICTIONS]
        assert all(s in ("device", "not-device", "conditional") for s in statuses), t.source
        by_id.setdefault(t.id, []).append(
            (risk.privacy, risk.reasoning, risk.target_user, statuses, sorted(risk.regulatory.conditions))
        )
        if t.task_type == "open":
            assert statuses == ["device"] * 3
    assert all(len(v) == 2 and v[0] == v[1] for v in by_id.values()), by_id
    assert by_id["patient-simplification"][0][2] == "patient"


def test_device_templates_are_refused_unless_enabled() -> None:
    """Default deployment (EU): the EU-device templates are not offered and answer 403 saying why; once
    enabled all 20 are; under US rules only the US-device ones are refused."""
    default = TemplateLibrary.for_settings(Settings())
    refused = sorted({tid for tid, _ in default.refused})
    assert refused == ["differential-diagnosis", "fleischner-nodule", "impression-from-findings"]
    assert len(default) == 14 and all(not t.risk.device_in(["eu"]) for t in default.list())
    with pytest.raises(TemplateNotEnabled, match=r"medical device in EU.*enable_device_templates") as caught:
        default.get("fleischner-nodule", "de")
    assert caught.value.status_code == 403
    assert default.get("report-correction", "de").id == "report-correction"  # positive control
    enabled = TemplateLibrary.for_settings(
        Settings(governance=GovernanceSettings(enable_device_templates=True))
    )
    assert len(enabled) == 20 and not enabled.refused
    us = TemplateLibrary.for_settings(Settings(governance=GovernanceSettings(jurisdictions=("us",))))
    assert sorted({tid for tid, _ in us.refused}) == ["differential-diagnosis", "impression-from-findings"]
    assert TemplateLibrary.load().get("fleischner-nodule", "en").id == "fleischner-nodule"  # no policy


def test_a_deployment_offers_only_the_templates_it_enables() -> None:
    """`governance.enabled_templates` leaves the others out, refused with the reason (403)."""
    lib = TemplateLibrary.for_settings(
        Settings(governance=GovernanceSettings(enabled_templates=["translation"]))
    )
    assert [(t.id, t.lang) for t in lib.list()] == [("translation", "de"), ("translation", "en")]
    with pytest.raises(TemplateNotEnabled, match=r"not enabled here \(governance.enabled_templates\)"):
        lib.get("report-correction", "en")


def test_a_hospital_file_is_judged_on_its_own_class(tmp_path: Path) -> None:
    """A hospital replacement that declares a device class is refused even where the built-in was not,
    and an invalid classification stops loading naming file and key."""
    text = (builtin_dir() / "translation.en.toml").read_text()
    (tmp_path / "translation.en.toml").write_text(text.replace('eu = "not-device"', 'eu = "device"'))
    lib = TemplateLibrary.load([tmp_path], DevicePolicy(("eu",), enabled=False))
    assert ("translation", "en") in lib.refused and ("translation", "de") not in lib.refused
    (tmp_path / "translation.en.toml").write_text(text.replace('eu = "not-device"', 'eu = "conditional"'))
    with pytest.raises(TemplateError, match=r"translation\.en\.toml: key 'risk.regulatory'.*conditions"):
        TemplateLibrary.load([tmp_path])
