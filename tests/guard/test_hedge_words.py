"""Hedge and denial words read by their place: "allenfalls" (at most, if at all) hedges what follows or
precedes it; "eher" (rather) hedges a finding, but before a word of size or degree it grades that word ("eine
eher kleine Zyste" is a cyst, rather small); English "none" denies ("none on the left", "none enlarged"); an
opinion verb ("thought to be", "considered to be", "gilt als", "vermutet wird") hedges what it names. A hedge
paraphrase ("might possibly", "nicht ganz sicher", "indeterminate", "DD") keeps its hedge, also inside a
compound ("...verdächtig"); lay text explaining the doubt repeats it; a hedge the source has on another word
of the sentence makes a change unsure. Every example is invented for this file; controls show that a hedge
made definite is caught.
"""

from __future__ import annotations

import pytest

from tests.guard.conftest import assert_level
from tests.guard.rule_rows import Row, assert_row

LEVELS = [
    ("Links allenfalls beginnende Arthrose.", "de", "osteoarthritis", "possible"),
    ("Pleuraerguss allenfalls minimal.", "de", "pleural_effusion", "possible"),
    ("Allenfalls geringer Pleuraerguss rechts.", "de", "pleural_effusion", "possible"),
    ("Eher Narbe als Rezidiv.", "de", "scar", "probable"),
    ("Befund eher einer Narbe entsprechend.", "de", "scar", "probable"),
    ("Eine eher kleine Zyste der linken Niere.", "de", "cyst", "present"),
    ("Eher geringer Pleuraerguss links.", "de", "pleural_effusion", "present"),
    ("Eher ausgeprägte Stenose der A. carotis interna.", "de", "stenosis", "present"),
    ("Lymph nodes: none enlarged.", "en", "enlargement", "absent"),
    ("Effusion on the right, none enlarged on the left.", "en", "enlargement", "absent"),
    ("None of the nodes is enlarged.", "en", "enlargement", "absent"),
    # An opinion verb hedges what it names ("thought to be", "gilt als").
    ("It is thought to be a fibroadenoma.", "en", "fibroadenoma", "probable"),
    ("The nodule is considered to be a fibroadenoma.", "en", "fibroadenoma", "probable"),
    ("The lesion is believed to be a cyst.", "en", "cyst", "probable"),
    ("Der Herd gilt als Fibroadenom.", "de", "fibroadenoma", "probable"),
    ("Vermutet wird ein Fibroadenom.", "de", "fibroadenoma", "probable"),
    ("She has a fibroadenoma.", "en", "fibroadenoma", "present"),
    # Hedge paraphrases ("might possibly", "nicht ganz sicher", "indeterminate").
    ("It might possibly be a fracture.", "en", "fracture", "possible"),
    ("This could possibly be an abscess.", "en", "abscess", "possible"),
    ("A 2 cm lesion of the kidney, indeterminate.", "en", "lesion", "possible"),
    ("Es könnte eine Entzündung sein.", "de", "inflammation", "possible"),
    ("Ob es ein Abszess ist, ist nicht ganz sicher.", "de", "abscess", "possible"),
]


@pytest.mark.parametrize(("text", "lang", "concept", "level"), LEVELS)
def test_hedge_word_levels(text: str, lang: str, concept: str, level: str) -> None:
    assert_level(text, lang, concept, level)


ROWS: list[Row] = [
    (
        "allenfalls-de-simplification",
        "Allenfalls geringer Pleuraerguss rechts.",
        "Rechts vielleicht ein kleiner Erguss.",
        "simplification",
        "de",
        None,
        "ok",
    ),
    (
        "eher-degree-de-summary",
        "Eine eher kleine Zyste der linken Niere.",
        "Kleine Zyste der linken Niere.",
        "summary",
        "de",
        None,
        "ok",
    ),
    (
        "none-en-summary",
        "Lymph nodes: none enlarged.",
        "No enlarged lymph nodes.",
        "summary",
        "en",
        None,
        "ok",
    ),
    # Controls: the hedge made definite, the denial made a finding.
    (
        "allenfalls-de-definite",
        "Allenfalls geringer Pleuraerguss rechts.",
        "Rechts sicher ein Pleuraerguss.",
        "summary",
        "de",
        None,
        "certainty_changed",
    ),
    (
        "eher-de-definite",
        "Eher Narbe als Rezidiv.",
        "Narbe.",
        "summary",
        "de",
        None,
        "certainty_changed",
    ),
    (
        "none-en-present",
        "Lymph nodes: none enlarged.",
        "Lymph nodes: an enlarged node.",
        "summary",
        "en",
        None,
        "negation_changed",
    ),
    # A hedged finding does not support a certain, more specific one ("DD" -> "sicher").
    (
        "dd-to-certain-specific",
        "Transparenzminderung rechts basal, DD Infiltrat, DD Atelektase.",
        "Rechts unten ist die Lunge schlechter belüftet, das ist sicher eine Lungenentzündung.",
        "simplification",
        "de",
        None,
        "certainty_changed",
    ),
    (
        "dd-kept-hedged",
        "Transparenzminderung rechts basal, DD Infiltrat, DD Atelektase.",
        "Rechts unten ist die Lunge schlechter belüftet, möglicherweise eine Lungenentzündung.",
        "simplification",
        "de",
        None,
        "ok",
    ),
    # The hedge inside a compound belongs to the finding it starts with, not to "verdächtig" itself.
    (
        "in-word-suspicion-translated",
        "Malignitätsverdächtiger Rundherd im rechten Oberlappen.",
        "Nodule in the right upper lobe, suspicious for malignancy.",
        "translation",
        "de",
        "en",
        "ok",
    ),
    # A hedge the source has in the same sentence, on another word: unsure, not a flag.
    (
        "hedge-moved",
        "Mildly enlarged left lymph node, likely reactive.",
        "The lymph node on the left is most likely swollen because it is reacting.",
        "simplification",
        "en",
        None,
        "unchecked",
    ),
    (
        "hedge-added",
        "Mildly enlarged left lymph node.",
        "The lymph node on the left is most likely swollen.",
        "simplification",
        "en",
        None,
        "certainty_changed",
    ),
    # Hedge paraphrases keep a hedge; a hedge turned into a fact is still caught.
    (
        "hedge-en-might-possibly",
        "Possible fracture of the scaphoid.",
        "The scaphoid bone might possibly be broken.",
        "simplification",
        "en",
        None,
        "ok",
    ),
    (
        "hedge-de-nicht-ganz-sicher",
        "Fraglich Fraktur des Kahnbeins.",
        "Ob das Kahnbein gebrochen ist, ist nicht ganz sicher.",
        "simplification",
        "de",
        None,
        "ok",
    ),
    (
        "hedge-en-indeterminate",
        "A 2 cm lesion in the right kidney, indeterminate. Follow-up recommended.",
        "In the right kidney there might be a 2 cm spot. A check-up is recommended.",
        "simplification",
        "en",
        None,
        "ok",
    ),
    (
        "hedge-control-en",
        "Possible fracture of the scaphoid.",
        "The scaphoid bone is broken.",
        "simplification",
        "en",
        None,
        "certainty_changed",
    ),
    (
        "hedge-control-de",
        "Ob eine Fraktur vorliegt, ist nicht ganz sicher.",
        "Es liegt sicher eine Fraktur vor.",
        "simplification",
        "de",
        None,
        "certainty_changed",
    ),
    # Lay text explaining what the source's doubt could mean repeats the doubt.
    (
        "lay-speculation-de",
        "Gruppierter Mikrokalk links, BI-RADS 4. Biopsie empfohlen.",
        "Diese Kalkpunkte können harmlos sein, aber auch ein Hinweis auf Krebs. Deshalb wird eine "
        "Gewebeprobe empfohlen.",
        "simplification",
        "de",
        None,
        "ok",
    ),
    (
        "lay-speculation-en",
        "Nodule in the right lung, 9 mm, suspicious. CT follow-up recommended.",
        "There is a 9 mm spot in the right lung. Such spots might be harmless, but they could also be "
        "cancer, so another scan is recommended.",
        "simplification",
        "en",
        None,
        "ok",
    ),
    (
        "lay-speculation-control",
        "Simple renal cyst on the left, 2 cm. No other findings.",
        "There is a cancer in your left kidney.",
        "simplification",
        "en",
        None,
        "new_finding",
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_hedge_word_rows(row: Row) -> None:
    assert_row(row)
