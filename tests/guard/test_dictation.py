"""Dictation and typing slips a correction fixes are no edits: dictated punctuation, split compounds, an
inflection, "know" for "no", spoken decimals; a typo fix must be the nearest plausible reading, and a
respelling never makes or unmakes a negation (a real word beside a negation word is no typo of it). A
dictated homophone of a negation word corrected to another word, a swapped direction part, or a dropped
"no" is still a change of meaning.

Every example is invented for the guard's tests; each slip has a control with a real change.
"""

from __future__ import annotations

import pytest

from medvault.guard._respell import respellings
from tests.guard.rule_rows import CheckedRow, Row, assert_checked_row, assert_row

ROWS: list[Row] = [
    # Dictated punctuation and split compounds are no edits; a swapped direction part is.
    (
        "dictation-punctuation",
        "Galea Hämatom rechts parietal von 12 mm Dicke Punkt Keine Mittellinien Verlagerung Punkt "
        "Keine Fraktur Punkt Keine Blutung Punkt",
        "Galeahämatom rechts parietal von 12 mm Dicke. Keine Mittellinienverlagerung. Keine Fraktur. "
        "Keine Blutung.",
        "correction",
        "de",
        None,
        "ok",
    ),
    (
        "split-compound-en",
        "No pseudo cyst period. The gall bladder contains small stones period.",
        "No pseudocyst. The gallbladder contains small stones.",
        "correction",
        "en",
        None,
        "ok",
    ),
    (
        "inflection-not-negation",
        "Fraglich kleine Hämangiom im Wirbelkörper.",
        "Fraglich kleines Hämangiom im Wirbelkörper.",
        "correction",
        "de",
        None,
        "ok",
    ),
    (
        "compound-direction-swapped",
        "Fraktur des Innenknöchels, nicht disloziert. Sprunggelenksgabel kongruent.",
        "Fraktur des Außenknöchels, nicht disloziert. Sprunggelenksgabel kongruent.",
        "correction",
        "de",
        None,
        "correction_changed_meaning",
    ),
    # Dictation: "know" for "no" where the correction writes "no"; a dropped "no" is still a flip.
    (
        "homophone-know",
        "Know abnormal enhancement period.",
        "No abnormal enhancement.",
        "correction",
        "en",
        None,
        "ok",
    ),
    (
        "negation-dropped",
        "No abnormal enhancement period.",
        "Abnormal enhancement.",
        "correction",
        "en",
        None,
        "negation_changed",
    ),
    # A dictated homophone of a negation word ("Know" for "No") corrected to another word.
    (
        "dictated-no-en-new",
        "Know pleural effusion. Small pneumothorax on the left.",
        "New pleural effusion. Small pneumothorax on the left.",
        "correction",
        "en",
        None,
        "negation_changed",
    ),
    (
        "dictated-no-en-some",
        "Heart normal. Know free fluid in the pelvis.",
        "Heart normal. Some free fluid in the pelvis.",
        "correction",
        "en",
        None,
        "negation_changed",
    ),
    (
        "dictated-no-en-line",
        "Liver normal.\nKnow focal lesion.",
        "Liver normal.\nNew focal lesion.",
        "correction",
        "en",
        None,
        "negation_changed",
    ),
    (
        "dictated-no-control-kept",
        "Know pleural effusion. Small pneumothorax on the left.",
        "No pleural effusion. Small pneumothorax on the left.",
        "correction",
        "en",
        None,
        "ok",
    ),
    # A real word beside a negation word is no typo of it: the output's "kleinen" stays "kleinen".
    (
        "respell-de-kleinen",
        "Keine Fraktur. Facettengelenkarthrose beidseits.",
        "Es gibt keinen Bruch. Die kleinen Wirbelgelenke zeigen beidseits Verschleiß.",
        "simplification",
        "de",
        None,
        "ok",
    ),
    (
        "respell-de-kleine-zyste",
        "Kleine Zyste der linken Niere.",
        "Keine Zyste der linken Niere.",
        "correction",
        "de",
        None,
        "negation_changed",
    ),
    ("respell-en-know", "Know pleural effusion.", "No pleural effusion.", "correction", "en", None, "ok"),
    # Slips of the negation itself are still read as it: transposed or doubled letters.
    (
        "respell-de-kien",
        "Kien Pleuraerguss rechts.",
        "Kein Pleuraerguss rechts.",
        "correction",
        "de",
        None,
        "ok",
    ),
    (
        "respell-de-keeine",
        "Keeine freie Flüssigkeit.",
        "Keine freie Flüssigkeit.",
        "correction",
        "de",
        None,
        "ok",
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_dictation_rows(row: Row) -> None:
    assert_row(row)


CHECKED: list[CheckedRow] = [
    # A typo fix must be the nearest plausible reading.
    (
        "medial-fixed",
        "Riss des Innenmeniskus, Ruptur nach mitial verlagert.",
        "Riss des Innenmeniskus, Ruptur nach medial verlagert.",
        "correction",
        "de",
        None,
        "edit_budget",
        "ok",
    ),
    (
        "posterior-fixed",
        "Fragment displaced posteriro.",
        "Fragment displaced posterior.",
        "correction",
        "en",
        None,
        "edit_budget",
        "ok",
    ),
    (
        "distal-fixed",
        "Fraktur des dostalen Radius.",
        "Fraktur des distalen Radius.",
        "correction",
        "de",
        None,
        "edit_budget",
        "ok",
    ),
    # negative controls: the "fix" chose another direction than the dictated word's nearest reading
    (
        "medial-to-lateral",
        "Sehne nach mitial luxiert.",
        "Sehne nach lateral luxiert.",
        "correction",
        "de",
        None,
        "edit_budget",
        "correction_changed_meaning",
    ),
    (
        "posterior-to-anterior",
        "Fragment displaced posteriro.",
        "Fragment displaced anterior.",
        "correction",
        "en",
        None,
        "edit_budget",
        "correction_changed_meaning",
    ),
    (
        "distal-to-proximal",
        "Fraktur des dostalen Radius.",
        "Fraktur des proximalen Radius.",
        "correction",
        "de",
        None,
        "edit_budget",
        "correction_changed_meaning",
    ),
]


@pytest.mark.parametrize("row", CHECKED, ids=[r[0] for r in CHECKED])
def test_nearest_reading_rows(row: CheckedRow) -> None:
    assert_checked_row(row)


@pytest.mark.parametrize(
    ("source", "output", "fixed"),
    [
        ("No pneumoperitooneum.", "Pneumoperitoneum.", "Pneumoperitoneum"),
        ("Kein Pneumthorax rechts.", "Pneumothorax rechts.", "Pneumothorax"),
    ],
)
def test_typo_beside_dropped_word_is_respelled(source: str, output: str, fixed: str) -> None:
    """A typo in a passage that also lost a word still gets the output's spelling."""
    fix_src, _, _ = respellings(source, output, "en" if source.startswith("No") else "de")
    assert [new for *_, new in fix_src] == [fixed]
