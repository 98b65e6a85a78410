"""A finding form followed in its word by a procedure ending names a treatment, not a finding of the
study: "Uterusarterien|emboli|sation", "uterine artery emboli|zation" (cues.toml `[procedure]`), like
"lump|ectomy". Every example is invented for this file; controls show that the finding itself is read.
"""

from __future__ import annotations

import pytest

from tests.guard.conftest import assert_reading

READINGS = [
    ("Z. n. Uterusarterienembolisation 2022.", "de", "embolisation", None),
    ("Geplante Pfortaderembolisation rechts.", "de", "embolisation", None),
    ("Status post uterine artery embolization.", "en", "embolization", None),
    ("Prior embolisation of the right renal artery.", "en", "embolisation", None),
    # Controls: the finding.
    ("Lungenembolie rechts.", "de", "lungenembolie", "pulmonary_embolism"),
    ("Emboli in the right lower lobe arteries.", "en", "emboli", "embolism"),
]


@pytest.mark.parametrize(("text", "lang", "word", "concept"), READINGS)
def test_procedure_is_no_finding(text: str, lang: str, word: str, concept: str | None) -> None:
    assert_reading(text, lang, word, concept)
