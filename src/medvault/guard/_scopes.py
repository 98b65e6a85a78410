"""Patterns that bound what a negation cue covers: lists, "not seen" clauses, German word order, side
labels and places that end or widen a scope (the cues themselves are in data/cues.toml)."""

from __future__ import annotations

import re

from medvault.guard._cues import HOMOPHONES, NEG_CUES

# A clause that continues a forward negation's scope: "kein Hinweis, dass ...", and a German relative
# clause on the denied noun ("keine Stelle, die auf einen Krebs hindeutet"). A German relative pronoun
# is told from an article by the preposition or "sich" after it ("die auf", "der sich"; not "die Leber
# ist ..."). An English "which" after a comma adds a statement of its own ("no effusion, which ...").
_THAT = re.compile(
    r"\s*(?:dass|ob|that|whether|(?:die|der|das|welche[rs]?)\s+(?:auf|für|nach|sich|mit|zu|an|in|im)\b)"
)
_LIST_END = re.compile(r"\b(?:oder|noch|bzw|or|nor)\b")
# The verb of a clause that says a finding is not seen: the negation then looks back over the clause
# ("X was not seen", "X lässt sich nicht nachweisen", "X ist nicht mehr abgrenzbar").
_SEEN = (
    r"(?:nachweisbar|abgrenzbar|erkennbar|sichtbar|vorhanden|darstellbar|nachzuweisen|nachweisen|"
    r"nachgewiesen|abzugrenzen|abgrenzen|abgegrenzt|erkennen|erkannt|darstellen|dargestellt|sehen|"
    r"gesehen|feststellbar|festgestellt|zu sehen|gefunden|zu finden|finden|beschrieben|seen|identified|"
    r"present|visuali[sz]ed|visible|apparent|appreciated|depicted|shown|demonstrable|detectable|"
    r"demonstrated|detected|evident|found|noted|observed)\b"
)
# Words of an earlier study, English: what makes it earlier ("the prior CT") and the study itself ("the
# radiograph of 2021"). Also read by `_priors`, which tells what a text says of a finding on it.
EARLIER_EN = r"(?:prior|previous|earlier|old|last|preceding)"
STUDY_EN = r"(?:radiograph|x-?ray|film|study|scan|examination|exam|ct|mri|ultrasound|images?|imaging)"
# ... but "not seen on the prior CT", "not present on the radiograph of 2021" says the finding is new,
# not that it is absent now.
_ON_EARLIER = (
    rf"\s+(?:on|in)\s+(?:the|your|an?)\s+(?:{EARLIER_EN}\b"
    rf"|(?:\w+\s+)?{STUDY_EN}\s+(?:of|from|dated)\s+(?:\w+\s+)?(?:19|20)\d\d)"
)
_NOT_SEEN = re.compile(rf"\s*(?:\w+\s+)?{_SEEN}(?!{_ON_EARLIER})")
# "no longer visible": a forward cue whose clause is the verb of seeing looks back instead
# ("the previously seen pneumothorax is no longer visible").
_NO_LONGER_SEEN = re.compile(rf"no\s+longer\s+(?:be\s+)?(?:\w+ly\s+)?{_SEEN}")
# The word(s) a local "nicht"/"not" negates: the next word, two after an adverb, and across a
# preposition and article ("nicht nach einem Tumor", "not a tumour", "not in keeping with").
_NEXT_WORDS = re.compile(
    r"\s*(?:(?:\w+ly|wesentlich|sicher|signifikant|mehr|ganz|eindeutig)\s+)?"
    r"(?:(?:nach|für|auf|wie|um|like|of|for)\s+)?"
    r"(?:(?:eine?[mnrs]?|der|die|das|den|dem|des|a|an|the)\s+)?[\w-]+"
)
# German word order puts a clause's negated subject or object after its verb: "In den Nieren staut
# sich kein Urin", "berührt keinen Nerv": a finding written as a verb (lower case) before "(sich/es)
# kein..." is negated.
_VERB_THEN_KEIN = re.compile(r"\s+(?:(?:sich|es)\s+)?kein")
# The end of a German clause after its main verb: auxiliaries only ("ausgebreitet hat.").
_CLAUSE_END = re.compile(r"(?:\s+(?:hat|haben|ist|sind|war|waren|wird|werden|wurde|wurden|worden|sein))*\W*$")
_NICHT = re.compile(r"\bnicht\b")
# A separable verb's particle closing a German clause after "nicht": the negation is of the verb
# before it ("drückt sie aber nicht ein", "die Lunge dehnt sich nicht aus").
_PARTICLE_END = re.compile(r"\s*(?:ein|aus|an|auf|ab|vor|zu|mit|fest|zurück|weg|um|durch)\W*$")
_CONJUNCTION = re.compile(r"\s*(?:aber|jedoch|allerdings|but|however)?\s*")
# A dictated homophone of a negation word where a sentence starts ("Know suspicious calcifications."):
# no statement starts with "know"; it is the dictated "no" (homophones in data/cues.toml).
_DICTATED_CUE = {
    lang: re.compile(
        r"(?:^|(?<=[.;:]))\s*(?P<word>"
        + "|".join(w for w, cue in HOMOPHONES[lang].items() if NEG_CUES[lang].fullmatch(cue))
        + r")(?=\s+\w)",
        re.MULTILINE,
    )
    if any(NEG_CUES[lang].fullmatch(cue) for cue in HOMOPHONES[lang].values())
    else re.compile(r"(?!)")
    for lang in ("de", "en")
}
# A finding word that starts with a negating prefix ("unkompliziert", "uncomplicated", "nonobstructing").
_NEG_PREFIX = ("un", "non")
# Words that join a side word to what stands before it: "in the left kidney", "right or left", "der
# linken Niere" (see `Analysis._label_start`).
_JOINED = re.compile(
    r"\b(?:in|of|the|at|on|to|and|or|nor|both|either|within|into|from|der|die|das|des|dem|den|im|am|an|"
    r"und|oder|beider|zur|zum|ohne|von|vom)\s+$"
)
# A forward cue after a preposition names where a finding is absent, and the finding may stand before
# it: "ein Harnstau besteht auf keiner Seite", "erosions are seen at no point": it covers the segment.
_PLACE_CUE = re.compile(r"(?<!\w)(?:auf|an|in|bei|on|at)\s+$")
# A German noun (capitalised word) inside a clause.
_NOUN = re.compile(r"(?<![\w-])[A-ZÄÖÜ][^\W\d_]+")
# "kein Erguss, und es besteht ...": a new clause after "und"/"and" ends a forward negation scope
# ("no X and Y" still negates both, as radiology reads it).
_NEW_CLAUSE = re.compile(r"\s(?:und|and)\s+(?:there\s+(?:is|are)|it\s+is|es\s+(?:gibt|ist|besteht|zeigt))\b")
