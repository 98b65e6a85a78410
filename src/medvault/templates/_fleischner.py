"""The Fleischner Society 2017 guideline for incidental pulmonary nodules, as a decision table in code.

Source: MacMahon H. et al., "Guidelines for Management of Incidental Pulmonary Nodules Detected on CT
Images: From the Fleischner Society 2017", Radiology 2017;284:228-243, Table 1.

The model only extracts the nodule's features from the report; the category and the recommendation
are looked up here, so the same features always give the same answer, and the table shown to the
model and the clinician is rendered from the same rows that decide.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

NoduleType = Literal["solid", "ground_glass", "part_solid"]
Multiplicity = Literal["single", "multiple"]
Risk = Literal["low", "high", "unknown"]
SizeBand = Literal["<6", "6-8", ">8", ">=6"]

GUIDELINE = "Fleischner 2017"

# Why these fields: they are exactly what the table's rows and exclusions depend on.
EXTRACTED_FIELDS = (
    "nodule_type",
    "multiplicity",
    "long_axis_mm",
    "short_axis_mm",
    "risk",
    "age_years",
    "known_cancer",
    "immunocompromised",
    "screening",
)

_Text = dict[str, str]  # language -> wording

# (type, multiplicity, size band) -> risk ("any" for rows where risk does not matter) -> wording
_TABLE: dict[tuple[NoduleType, Multiplicity, SizeBand], dict[str, _Text]] = {
    ("solid", "single", "<6"): {
        "low": {"en": "No routine follow-up.", "de": "Keine routinemäßige Verlaufskontrolle."},
        "high": {"en": "Optional CT at 12 months.", "de": "Optional CT nach 12 Monaten."},
    },
    ("solid", "single", "6-8"): {
        "low": {
            "en": "CT at 6-12 months, then consider CT at 18-24 months.",
            "de": "CT nach 6-12 Monaten, dann CT nach 18-24 Monaten erwägen.",
        },
        "high": {
            "en": "CT at 6-12 months, then CT at 18-24 months.",
            "de": "CT nach 6-12 Monaten, dann CT nach 18-24 Monaten.",
        },
    },
    ("solid", "single", ">8"): {
        "any": {
            "en": "Consider CT at 3 months, PET/CT, or tissue sampling.",
            "de": "CT nach 3 Monaten, PET/CT oder Gewebeprobe erwägen.",
        },
    },
    ("solid", "multiple", "<6"): {
        "low": {"en": "No routine follow-up.", "de": "Keine routinemäßige Verlaufskontrolle."},
        "high": {"en": "Optional CT at 12 months.", "de": "Optional CT nach 12 Monaten."},
    },
    ("solid", "multiple", "6-8"): {
        "low": {
            "en": "CT at 3-6 months, then consider CT at 18-24 months.",
            "de": "CT nach 3-6 Monaten, dann CT nach 18-24 Monaten erwägen.",
        },
        "high": {
            "en": "CT at 3-6 months, then CT at 18-24 months.",
            "de": "CT nach 3-6 Monaten, dann CT nach 18-24 Monaten.",
        },
    },
    ("solid", "multiple", ">8"): {
        "any": {
            "en": "CT at 3-6 months, then consider CT at 18-24 months.",
            "de": "CT nach 3-6 Monaten, dann CT nach 18-24 Monaten erwägen.",
        },
    },
    ("ground_glass", "single", "<6"): {
        "any": {"en": "No routine follow-up.", "de": "Keine routinemäßige Verlaufskontrolle."},
    },
    ("ground_glass", "single", ">=6"): {
        "any": {
            "en": "CT at 6-12 months to confirm persistence, then CT every 2 years until 5 years.",
            "de": "CT nach 6-12 Monaten zur Bestätigung der Persistenz, dann CT alle 2 Jahre bis 5 Jahre.",
        },
    },
    ("part_solid", "single", "<6"): {
        "any": {"en": "No routine follow-up.", "de": "Keine routinemäßige Verlaufskontrolle."},
    },
    ("part_solid", "single", ">=6"): {
        "any": {
            "en": "CT at 3-6 months to confirm persistence. If unchanged and the solid component remains "
            "<6 mm, annual CT for 5 years.",
            "de": "CT nach 3-6 Monaten zur Bestätigung der Persistenz. Bei unverändertem Befund und solidem "
            "Anteil <6 mm jährliche CT über 5 Jahre.",
        },
    },
    ("ground_glass", "multiple", "<6"): {
        "any": {
            "en": "CT at 3-6 months. If stable, consider CT at 2 and 4 years.",
            "de": "CT nach 3-6 Monaten. Bei Stabilität CT nach 2 und 4 Jahren erwägen.",
        },
    },
    ("ground_glass", "multiple", ">=6"): {
        "any": {
            "en": "CT at 3-6 months. Subsequent management based on the most suspicious nodule(s).",
            "de": "CT nach 3-6 Monaten. Weiteres Vorgehen nach dem suspektesten Rundherd.",
        },
    },
}
# The guideline has one row for multiple subsolid nodules, whether ground-glass or part-solid.
_TABLE[("part_solid", "multiple", "<6")] = _TABLE[("ground_glass", "multiple", "<6")]
_TABLE[("part_solid", "multiple", ">=6")] = _TABLE[("ground_glass", "multiple", ">=6")]

_WORDS: dict[str, _Text] = {
    "solid": {"en": "solid", "de": "solide"},
    "ground_glass": {"en": "ground-glass", "de": "Milchglas"},
    "part_solid": {"en": "part-solid", "de": "teilsolide"},
    "subsolid": {
        "en": "subsolid (ground-glass or part-solid)",
        "de": "subsolide (Milchglas oder teilsolide)",
    },
    "single": {"en": "single", "de": "solitär"},
    "multiple": {"en": "multiple", "de": "multipel"},
    "low": {"en": "low risk", "de": "niedriges Risiko"},
    "high": {"en": "high risk", "de": "hohes Risiko"},
    "any": {"en": "any risk", "de": "jedes Risiko"},
    "unknown": {"en": "risk not stated", "de": "Risiko nicht angegeben"},
}
_NOT_APPLICABLE: dict[str, _Text] = {
    "age": {"en": "patient younger than 35 years", "de": "Patient jünger als 35 Jahre"},
    "known_cancer": {"en": "known primary cancer", "de": "bekanntes Primärmalignom"},
    "immunocompromised": {"en": "immunocompromised patient", "de": "immunsupprimierter Patient"},
    "screening": {"en": "lung cancer screening", "de": "Lungenkrebs-Screening"},
}
_NOTES: dict[str, _Text] = {
    "part_solid_suspicious": {
        "en": "A persistent part-solid nodule with a solid component of 6 mm or more is highly suspicious.",
        "de": "Ein persistierender teilsolider Rundherd mit solidem Anteil ab 6 mm ist hochsuspekt.",
    },
    "size": {
        "en": "Size is the mean of long and short axis, rounded to the nearest millimetre.",
        "de": "Größe ist der Mittelwert aus langer und kurzer Achse, auf ganze Millimeter gerundet.",
    },
}


@dataclass(frozen=True)
class Nodule:
    """The features the model extracted; None where the report does not say."""

    nodule_type: NoduleType
    multiplicity: Multiplicity
    long_axis_mm: float
    short_axis_mm: float | None = None
    risk: Risk = "unknown"
    age_years: float | None = None
    known_cancer: bool | None = None
    immunocompromised: bool | None = None
    screening: bool | None = None


@dataclass(frozen=True)
class Recommendation:
    """The looked-up row: `category` is a stable key, `text` the wording in the template's language."""

    guideline: str
    applicable: bool
    category: str
    size_mm: int
    text: str
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {
            "guideline": self.guideline,
            "applicable": self.applicable,
            "category": self.category,
            "size_mm": self.size_mm,
            "text": self.text,
            "notes": list(self.notes),
        }


def nodule_size_mm(long_axis_mm: float, short_axis_mm: float | None) -> int:
    """Mean of both axes rounded half up to whole millimetres (the long axis alone if no short one)."""
    mean = long_axis_mm if short_axis_mm is None else (long_axis_mm + short_axis_mm) / 2
    # round() rounds half to even (6.5 -> 6); the guideline means ordinary rounding (6.5 -> 7).
    return math.floor(mean + 0.5)


def _band(nodule_type: NoduleType, size_mm: int) -> SizeBand:
    if size_mm < 6:
        return "<6"
    if nodule_type != "solid":
        return ">=6"
    return "6-8" if size_mm <= 8 else ">8"


def _exclusions(nodule: Nodule) -> list[str]:
    reasons = []
    if nodule.age_years is not None and nodule.age_years < 35:
        reasons.append("age")
    for flag in ("known_cancer", "immunocompromised", "screening"):
        if getattr(nodule, flag):
            reasons.append(flag)
    return reasons


def recommend(nodule: Nodule, lang: str) -> Recommendation:
    """Look the nodule up in the table; say so instead when the guideline does not apply."""
    size = nodule_size_mm(nodule.long_axis_mm, nodule.short_axis_mm)
    band = _band(nodule.nodule_type, size)
    category = f"{nodule.nodule_type}-{nodule.multiplicity}-{band}mm"
    notes = [_NOTES["size"][lang]]
    excluded = _exclusions(nodule)
    if excluded:
        why = ", ".join(_NOT_APPLICABLE[r][lang] for r in excluded)
        lead = "Fleischner 2017 does not apply" if lang == "en" else "Fleischner 2017 ist nicht anwendbar"
        return Recommendation(GUIDELINE, False, "not-applicable", size, f"{lead}: {why}.", tuple(notes))
    row = _TABLE[(nodule.nodule_type, nodule.multiplicity, band)]
    if "any" in row:
        text = row["any"][lang]
    elif nodule.risk in row:
        text = row[nodule.risk][lang]
        category += f"-{nodule.risk}"
    else:  # risk unknown: both rows, so the clinician decides with the risk they know
        text = " / ".join(f"{_WORDS[r][lang]}: {row[r][lang]}" for r in ("low", "high"))
    if nodule.nodule_type == "part_solid" and band == ">=6":
        notes.append(_NOTES["part_solid_suspicious"][lang])
    return Recommendation(GUIDELINE, True, category, size, text, tuple(notes))


def recommend_extracted(data: Mapping[str, Any], lang: str) -> Recommendation:
    """The recommendation for schema-valid extracted JSON; not applicable when no measured nodule."""
    required = ("nodule_type", "multiplicity", "long_axis_mm")
    if data.get("nodule_found") is False or any(data.get(k) is None for k in required):
        text = (
            "No measured pulmonary nodule described: Fleischner 2017 cannot be applied."
            if lang == "en"
            else "Kein vermessener Lungenrundherd beschrieben: Fleischner 2017 nicht anwendbar."
        )
        return Recommendation(GUIDELINE, False, "no-nodule", 0, text)
    return recommend(Nodule(**{k: data[k] for k in EXTRACTED_FIELDS if data.get(k) is not None}), lang)


def table_text(lang: str) -> str:
    """The decision table as plain text, for the prompt and for the clinician."""
    lines = []
    for (nodule_type, multiplicity, band), row in _TABLE.items():
        kind: str = nodule_type
        if nodule_type != "solid" and multiplicity == "multiple":
            if nodule_type == "part_solid":
                continue  # the same row as ground-glass: shown once, as "subsolid"
            kind = "subsolid"
        head = f"{_WORDS[kind][lang]}, {_WORDS[multiplicity][lang]}, {band} mm"
        for risk, text in row.items():
            lines.append(f"- {head}, {_WORDS[risk][lang]}: {text[lang]}")
    excluded = "; ".join(reason[lang] for reason in _NOT_APPLICABLE.values())
    label = "Not applicable to" if lang == "en" else "Nicht anwendbar bei"
    lines += [f"- {_NOTES['size'][lang]}", f"- {label}: {excluded}."]
    return "\n".join(lines)
