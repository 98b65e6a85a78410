"""The template library: the built-in files shipped in the package plus the hospital's own directories.

Files are named `<id>.<lang>.toml`. A later directory may replace a template of an earlier one (same
id and language); the replacement has another content hash, so runs record which one they used.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from medvault.errors import Forbidden, NotFound, TemplateError
from medvault.templates import _fleischner
from medvault.templates._spec import Jurisdiction
from medvault.templates._template import Template

if TYPE_CHECKING:
    from medvault.config import Settings

_TASK_ORDER = {"anchored": 0, "semi": 1, "open": 2}


def builtin_dir() -> Path:
    """The directory of the templates shipped with MedVault."""
    return Path(str(resources.files("medvault.templates") / "library"))


def content_version(data: dict[str, Any]) -> str:
    """A hash of what the file says, not how it is laid out: comments and spacing keep the version."""
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    if data.get("decision") == "fleischner-2017":
        # The table lives in code and goes into the prompt, so it is part of the content too.
        canonical += _fleischner.table_text("en") + _fleischner.table_text("de")
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()[:12]


def _describe(error: Any) -> str:
    key = ".".join(str(part) for part in error["loc"]) or "(top level)"
    return f"key {key!r}: {error['msg']}"


def load_file(path: Path) -> Template:
    """One template file, validated; any problem is a TemplateError naming the file and the key."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise TemplateError(f"{path}: cannot read: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise TemplateError(f"{path}: not valid TOML: {exc}") from exc
    for reserved in ("version", "source"):
        if reserved in data:
            raise TemplateError(f"{path}: key {reserved!r}: MedVault sets it itself; remove it from the file")
    try:
        template = Template.model_validate({**data, "version": content_version(data), "source": str(path)})
    except ValidationError as exc:
        problems = "; ".join(_describe(e) for e in exc.errors(include_url=False))
        raise TemplateError(f"{path}: {problems}") from exc
    expected = f"{template.id}.{template.lang}.toml"
    if path.name != expected:
        raise TemplateError(f"{path}: key 'id'/'lang': the file must be named {expected}")
    return template


def _load_dir(directory: Path) -> list[Template]:
    if not directory.is_dir():
        raise TemplateError(f"{directory}: template directory does not exist")
    return [load_file(path) for path in sorted(directory.glob("*.toml"))]


class TemplateNotEnabled(Forbidden):
    """A device-class template the deployment has not enabled (HTTP 403)."""


@dataclass(frozen=True)
class DevicePolicy:
    """The partition between device and non-device use: templates classified as a medical device in one
    of `jurisdictions` are refused unless `enabled` (`governance.enable_device_templates`)."""

    jurisdictions: tuple[Jurisdiction, ...] = ("eu",)
    enabled: bool = False

    def refusal(self, template: Template) -> str | None:
        """Why this deployment refuses `template`, or None."""
        device = template.risk.device_in(self.jurisdictions)
        if self.enabled or not device:
            return None
        return (
            f"template {template.id} is classified as a medical device in {', '.join(device).upper()}; "
            "this deployment does not enable device-class templates (governance.enable_device_templates)"
        )


class TemplateLibrary:
    """All templates by (id, language). Build it with `TemplateLibrary.load` or `for_settings`.

    Templates a `DevicePolicy` refuses, or the deployment does not enable, are kept apart in `refused`
    (with the reason): listed for the record, never offered, and `get` answers 403 for them.
    """

    def __init__(
        self,
        templates: Iterable[Template],
        devices: DevicePolicy | None = None,
        enabled: Iterable[str] | None = None,
    ) -> None:
        self._templates: dict[tuple[str, str], Template] = {}
        self.refused: dict[tuple[str, str], tuple[Template, str]] = {}
        offered = None if enabled is None else frozenset(enabled)
        for template in templates:
            key = (template.id, template.lang)
            self._templates.pop(key, None)
            self.refused.pop(key, None)  # a hospital's replacement is judged on its own class
            reason = devices.refusal(template) if devices is not None else None
            if offered is not None and template.id not in offered:
                reason = f"template {template.id} is not enabled here (governance.enabled_templates)"
            if reason is None:
                self._templates[key] = template
            else:
                self.refused[key] = (template, reason)

    @classmethod
    def load(
        cls,
        extra_dirs: Sequence[Path] = (),
        devices: DevicePolicy | None = None,
        enabled: Iterable[str] | None = None,
    ) -> TemplateLibrary:
        """The built-ins, then each hospital directory in order (later ones replace same id+language);
        `devices` None refuses nothing (tools that show every template), else see `DevicePolicy`;
        `enabled` None offers every id, else only those."""
        # File names are <id>.<lang>.toml, so one directory cannot hold the same template twice.
        templates: list[Template] = []
        for directory in (builtin_dir(), *extra_dirs):
            templates.extend(_load_dir(Path(directory)))
        return cls(templates, devices, enabled)

    @classmethod
    def for_settings(cls, settings: Settings) -> TemplateLibrary:
        """What a deployment offers: its template directories under its device policy."""
        governance = settings.governance
        policy = DevicePolicy(tuple(governance.jurisdictions), governance.enable_device_templates)
        return cls.load(settings.workbench.template_dirs, policy, governance.enabled_templates)

    def list(self, lang: str | None = None) -> list[Template]:
        """Templates grouped by task type (anchored, semi, open), then by id."""
        chosen = [t for t in self._templates.values() if lang is None or t.lang == lang]
        return sorted(chosen, key=lambda t: (_TASK_ORDER[t.task_type], t.id, t.lang))

    def get(self, template_id: str, lang: str) -> Template:
        """One template; NotFound (404) names the languages it has, if any."""
        template = self._templates.get((template_id, lang))
        if template is not None:
            return template
        if (template_id, lang) in self.refused:
            raise TemplateNotEnabled(self.refused[(template_id, lang)][1], code="template_not_enabled")
        langs = sorted(lg for (tid, lg) in self._templates if tid == template_id)
        if langs:
            raise NotFound(f"template {template_id!r} has no language {lang!r}; it has {langs}")
        raise NotFound(f"no template {template_id!r}")

    def __len__(self) -> int:
        return len(self._templates)
