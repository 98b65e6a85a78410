"""The template library: the built-in files shipped in the package plus the hospital's own directories.

Files are named `<id>.<lang>.toml`. A later directory may replace a template of an earlier one (same
id and language); the replacement has another content hash, so runs record which one they used.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from medvault.errors import NotFound, TemplateError
from medvault.templates import _fleischner
from medvault.templates._template import Template

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


class TemplateLibrary:
    """All templates by (id, language). Build it with `TemplateLibrary.load`."""

    def __init__(self, templates: Iterable[Template]) -> None:
        self._templates: dict[tuple[str, str], Template] = {}
        for template in templates:
            self._templates[(template.id, template.lang)] = template

    @classmethod
    def load(cls, extra_dirs: Sequence[Path] = ()) -> TemplateLibrary:
        """The built-ins, then each hospital directory in order (later ones replace same id+language)."""
        # File names are <id>.<lang>.toml, so one directory cannot hold the same template twice.
        templates: list[Template] = []
        for directory in (builtin_dir(), *extra_dirs):
            templates.extend(_load_dir(Path(directory)))
        return cls(templates)

    def list(self, lang: str | None = None) -> list[Template]:
        """Templates grouped by task type (anchored, semi, open), then by id."""
        chosen = [t for t in self._templates.values() if lang is None or t.lang == lang]
        return sorted(chosen, key=lambda t: (_TASK_ORDER[t.task_type], t.id, t.lang))

    def get(self, template_id: str, lang: str) -> Template:
        """One template; NotFound (404) names the languages it has, if any."""
        template = self._templates.get((template_id, lang))
        if template is not None:
            return template
        langs = sorted(lg for (tid, lg) in self._templates if tid == template_id)
        if langs:
            raise NotFound(f"template {template_id!r} has no language {lang!r}; it has {langs}")
        raise NotFound(f"no template {template_id!r}")

    def __len__(self) -> int:
        return len(self._templates)
