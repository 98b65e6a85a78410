"""The template library: ten radiology templates in German and English, and hospitals' own ones.

    lib = TemplateLibrary.load(extra_dirs=settings.workbench.template_dirs)
    t = lib.get("report-correction", "de")          # NotFound (404) if unknown
    messages = t.render({"report": text})             # TemplateInputError (422) names the bad input
    result = t.postprocess(answer)                    # JSON checked against the schema; Fleischner computed

A template's `version` is the hash of its content ("sha256:<12 hex>"), so editing a file makes a new
version and every run records the exact template it used. Invalid files raise `TemplateError` naming
the file, the key and the problem. The file format is described in docs/templates.md.
"""

from __future__ import annotations

from medvault.templates._fleischner import Recommendation
from medvault.templates._library import (
    DevicePolicy,
    TemplateLibrary,
    TemplateNotEnabled,
    builtin_dir,
    load_file,
)
from medvault.templates._spec import JURISDICTIONS, InputSpec, Regulatory, Risk, Sampling
from medvault.templates._template import PostResult, Template, TemplateInputError

__all__ = [
    "JURISDICTIONS",
    "DevicePolicy",
    "InputSpec",
    "PostResult",
    "Recommendation",
    "Regulatory",
    "Risk",
    "Sampling",
    "Template",
    "TemplateInputError",
    "TemplateLibrary",
    "TemplateNotEnabled",
    "builtin_dir",
    "load_file",
]
