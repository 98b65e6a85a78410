"""A finding form followed in its word by a procedure ending names a treatment, not a finding of the study:
"Uterusarterien|emboli|sation", "uterine artery emboli|zation" (cues.toml `[procedure]`), like "lump|ectomy",
and so does a procedure word before a hyphen ("Thrombektomie-Kandidat"). Every example is invented for this
file; controls show that the finding itself is read.
"""

from __future__ import annotations

import pytest

from medvault.guard._text import Analysis
from tests.guard.conftest import assert_reading
from tests.guard.rule_rows import Row, assert_row

READINGS = [
    ("Z. n. Uterusarterienembolisation 2022.", "de", "embolisation", None),
    ("Geplante Pfortaderembolisation rechts.", "de", "embolisation", None),
    ("Status post uterine artery embolization.", "en", "embolization", None),
    ("Prior embolisation of the right renal artery.", "en", "embolisation", None),
    # Controls: the finding.
    ("Lungenembolie rechts.", "de", "lungenembolie", "pulmonary_embolism"),
    ("Emboli in the right lower lobe arteries.", "en", "emboli", "embolism"),
    # A procedure word before a hyphen.
    ("Thrombektomie-Kandidat.", "de", "thrombektomie", None),
    ("Polypektomie-Termin in 3 Monaten.", "de", "polypektomie", None),
]


@pytest.mark.parametrize(("text", "lang", "word", "concept"), READINGS)
def test_procedure_is_no_finding(text: str, lang: str, word: str, concept: str | None) -> None:
    assert_reading(text, lang, word, concept)


ROWS: list[Row] = [
    # Word boundaries: a finding's form inside a procedure's word ("lump|ectomy") is no finding.
    (
        "procedure-en-lumpectomy",
        "Mammographie: Narbe nach brusterhaltender Operation links. Kein Karzinomrezidiv.",
        "Mammography: post-lumpectomy scar on the left. No recurrent carcinoma.",
        "translation",
        "de",
        "en",
        "ok",
    ),
    (
        "procedure-en-polypectomy",
        "Status post polypectomy. No polyp is seen in the colon.",
        "You had a polypectomy before. No polyp is seen in the bowel now.",
        "simplification",
        "en",
        None,
        "ok",
    ),
    (
        "procedure-de-polypektomie",
        "Zustand nach Polypektomie. Kein Polyp im Kolon.",
        "Früher wurde eine Polypektomie gemacht. Im Dickdarm ist kein Polyp zu sehen.",
        "simplification",
        "de",
        None,
        "ok",
    ),
    (
        "procedure-control-lump",
        "No palpable lump in the left breast.",
        "There is a lump in the left breast.",
        "simplification",
        "en",
        None,
        "negation_changed",
    ),
    # A procedure word before a hyphen names a treatment, not a finding ("Thrombektomie-Kandidat").
    (
        "procedure-hyphen-de",
        "Verschluss der A. cerebri media rechts. Kandidat für eine Thrombektomie.",
        "Verschluss der A. cerebri media rechts. Thrombektomie-Kandidat.",
        "correction",
        "de",
        None,
        "ok",
    ),
    (
        "procedure-hyphen-en-de",
        "Occlusion of the right middle cerebral artery. Candidate for thrombectomy.",
        "Verschluss der rechten A. cerebri media. Thrombektomie-Kandidat.",
        "translation",
        "en",
        "de",
        "ok",
    ),
    (
        "procedure-hyphen-control",
        "Occlusion of the right middle cerebral artery. Candidate for thrombectomy.",
        "Verschluss der rechten A. cerebri media durch einen Thrombus. Thrombektomie-Kandidat.",
        "translation",
        "en",
        "de",
        "new_finding",
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_procedure_word_rows(row: Row) -> None:
    assert_row(row)


def test_procedure_word_is_no_finding() -> None:
    doc = Analysis("Post-lumpectomy scar. A lump in the right breast.", "en")
    assert [m.word for m in doc.mentions if m.concept == "mass"] == ["lump"]
