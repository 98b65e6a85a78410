"""Benchmark of the grounding guard on the synthetic corpus in `bench/guard_corpus/`.

Every case is derived in code from the hand-written reports: a clean pair (noisy dictation -> final
report for corrections, report -> lay text for simplifications, report -> other language for
translations, report -> impression for summaries) and, from each clean output, errored outputs per
category. The mutations below were written before the checker and know nothing about its lexicon.

Run `.venv/bin/python bench/guard_eval.py` to print recall per error category, the false-alarm rate
on clean outputs and latency; `--write` also writes the numbers to `bench/results-guard.md`.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import time
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from medvault.guard import check

CORPUS = Path(__file__).parent / "guard_corpus"
RESULTS = Path(__file__).parent / "results-guard.md"
HELD_OUT = CORPUS / "heldout"
HELD_OUT_2 = CORPUS / "heldout2"
HELD_OUT_3 = CORPUS / "heldout3"
RESULTS_HEAD = """# Grounding guard: benchmark results

Written by `.venv/bin/python bench/guard_eval.py --write`. Every case is generated in code from the
hand-written reports (see the module docstring of `bench/guard_eval.py`). A case counts as caught when
the verdict is `review` and, for the four targeted categories, a major flag of the matching kind is
among the flags; a clean output counts as a false alarm when its verdict is `review`. Latency is the
wall time of one `check()` call in one Python process (the machine was shared, so these are upper
bounds).

## Main corpus (used while developing the checks)

These numbers are in-sample: the vocabulary and the scope rules were improved by looking at the misses
and false alarms on this corpus (the corpus texts themselves were not changed to suit the checker).
A few corpus-only phrases were later removed from the lexicon ("temple bone", "hip head", ...), which
costs the main corpus some cases on purpose.

"""
HELD_OUT_NOTE = """
## First held-out set (used for tuning since the second round)

`bench/guard_corpus/heldout/` holds 10 reports written after the first tuning. Its misses were then
read and fixed with general rules (qualifiers, directions, anatomy, lexicon gaps), so it is no longer
out of sample: read it like the main corpus.

"""
HELD_OUT_2_NOTE = """
## Second held-out set (used for tuning in the third round)

`bench/guard_corpus/heldout2/` holds 10 reports written before the second round of fixes. Its misses
and false alarms were read in the third round and fixed with general vocabulary and scope rules, so it
is no longer out of sample either.

"""
HELD_OUT_3_NOTE = """
## Third held-out set (never looked at case by case)

`bench/guard_corpus/heldout3/` holds 10 reports written at the start of the third round, before any
of its fixes; only its totals were looked at. This is the honest out-of-sample measure. Before the
third round it stood at side 90.0%, negation 73.9%, number 100%, unit 100%, false alarms 26.0%.

"""
RESULTS_TAIL = """
## Reading the numbers

- Numbers and units hold up out of sample, sides nearly: they rest on the text's own numbers and
  side words.
- Negation and new findings depend on the German/English vocabulary in `medvault/guard/_lexicon.py`:
  a finding the lexicon does not know is only checked in corrections (word-aligned negation words).
  The third round fixed the second held-out set's misses with general vocabulary (negation 67.4% ->
  87.2%, false alarms 18% -> 4%), yet the third held-out set, written before that round, barely moved
  (negation 73.9% -> 75.0%, false alarms 26% -> 28%): each new report brings its own organs, findings
  and lay paraphrases. Hand-grown vocabulary does not generalise far; the lexicon needs real report
  vocabulary (a terminology such as RadLex) before a pilot.
- Simplifications cause most false alarms: lay text rephrases organs and findings in ways a lexicon
  only partly covers; their minor flags (missing numbers, omissions) do not change the verdict.
- "dropped finding" and "inserted finding" have no target in issue 5; dropped negative findings in
  simplifications are allowed, which keeps that recall low by design.
- The generator's mutation rules (`mit`/`with` -> `ohne`/`without`, "There is" -> "There is no") also
  hit phrases that are not findings ("without a maximum diameter"); such cases stay in the counts.
  Two generator bugs were fixed after the checker existed: `mit`/`with` before a number ("mit 9 mm")
  is no longer turned into `ohne`, and "There is no" no longer becomes "There is no no".
"""

#: Error categories, and the flag kinds that count as catching them.
ERROR_KINDS: dict[str, frozenset[str] | None] = {
    "side confusion": frozenset({"laterality"}),
    "negation flip": frozenset({"negation"}),
    "number change": frozenset({"numbers"}),
    "unit change": frozenset({"numbers"}),
    "dropped finding": None,  # any flag counts: a dropped sentence may lose a number, a side or a term
    "inserted finding": None,
}
CLEAN = ("clean correction", "clean simplification", "clean translation", "clean summary", "spelling only")
#: Targets of issue 5.
RECALL_TARGET = 0.95
FALSE_ALARM_TARGET = 0.05
TARGETED = ("side confusion", "negation flip", "number change", "unit change")
SITES_PER_OUTPUT = 3  # errored variants drawn per clean output and category


@dataclass(frozen=True)
class Report:
    id: str
    lang: str
    modality: str
    report: str
    simplified: str
    translation: str

    @property
    def other_lang(self) -> str:
        return "en" if self.lang == "de" else "de"


@dataclass(frozen=True)
class Case:
    category: str
    report_id: str
    task: str
    lang: str
    target_lang: str | None
    source: str
    output: str


@dataclass
class Tally:
    cases: int = 0
    hits: int = 0  # errors caught, or clean outputs flagged (false alarms)
    examples: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.hits / self.cases if self.cases else 0.0


@dataclass
class Results:
    tallies: dict[str, Tally]
    latencies_ms: list[float]

    def recall(self, category: str) -> float:
        return self.tallies[category].rate

    @property
    def false_alarm_rate(self) -> float:
        cases = sum(self.tallies[c].cases for c in CLEAN)
        return sum(self.tallies[c].hits for c in CLEAN) / cases

    def latency(self, quantile: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(quantile * len(ordered)))]


def load_reports(folder: Path = CORPUS) -> list[Report]:
    """Read every `[[report]]` of the corpus files, in a stable order."""
    reports = []
    for path in sorted(folder.glob("*.toml")):
        for raw in tomllib.loads(path.read_text(encoding="utf-8"))["report"]:
            fields = {k: v.strip() if isinstance(v, str) else v for k, v in raw.items()}
            reports.append(Report(**fields))
    return reports


# --- spelling noise (what a typist or speech recogniser leaves behind) --------------------------------

_NOISE_WORD = re.compile(r"[A-Za-zÄÖÜäöüß]{5,}")
_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})


def _typo(word: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(word) - 1)
    match rng.randrange(5):
        case 0:
            return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        case 1:
            return word[:i] + word[i + 1 :]
        case 2:
            return word[:i] + word[i] + word[i:]
        case 3 if word.translate(_FOLD) != word:
            return word.translate(_FOLD)
        case _:
            return word[0].swapcase() + word[1:]


def noisy(text: str, rng: random.Random, rate: float = 0.08) -> str:
    """Spelling-only damage: letter swaps, drops, doubles, umlaut folding, case (never digits)."""
    out = _NOISE_WORD.sub(lambda m: _typo(m.group(), rng) if rng.random() < rate else m.group(), text)
    if out == text:  # always at least one change, so the case is not trivially identical
        words = list(_NOISE_WORD.finditer(text))
        m = words[rng.randrange(len(words))]
        out = text[: m.start()] + _typo(m.group(), rng) + text[m.end() :]
    return out


# --- error mutations ---------------------------------------------------------------------------------

Mutation = Callable[[re.Match[str]], str]

_SIDE_SWAP = {"links": "rechts", "rechts": "links", "left": "right", "right": "left"}


def _swap_side(m: re.Match[str]) -> str:
    word = m.group()
    low = word.lower()
    if low.startswith(("beid", "bilateral")):
        new = "links" if low.startswith("beid") else "left"
    elif low in _SIDE_SWAP:
        new = _SIDE_SWAP[low]
    elif low.startswith("link"):
        new = "recht" + low[4:]
    elif low.startswith("recht"):
        new = "link" + low[5:]
    else:
        new = _SIDE_SWAP[low.split("-")[0]] + low[len(low.split("-")[0]) :]
    return new.capitalize() if word[0].isupper() else new


_SIDE = {
    "de": re.compile(
        r"\b(?:links|rechts|(?:links|rechts)seitig\w*|linke[nmrs]?|rechte[nmrs]?|beid\w*seits|beidseitig\w*)\b"
    ),
    "en": re.compile(r"\b(?:left|right|bilateral(?:ly)?)(?:-sided)?\b", re.IGNORECASE),
}


def _drop_cue(m: re.Match[str]) -> str:
    return ""


def _recase(replacement: str) -> Mutation:
    return lambda m: replacement.capitalize() if m.group()[0].isupper() else replacement


_NEGATION: dict[str, list[tuple[re.Pattern[str], Mutation]]] = {
    "de": [
        (re.compile(r"\b[Kk]ein(?:e[nmrs]?)?\s+"), _drop_cue),
        (re.compile(r"\b[Oo]hne\b"), _recase("mit")),
        (re.compile(r"\bnicht\s+"), _drop_cue),
        (re.compile(r"\b[Mm]it\b(?!\s+\d)"), _recase("ohne")),
        (re.compile(r"(?<=[.:]\s)(?:Kleine[rs]?|Geringe[rs]?|Mäßige[rs]?)\b"), _recase("kein")),
    ],
    "en": [
        (re.compile(r"\b[Nn]o\s+"), _drop_cue),
        (re.compile(r"\b[Ww]ithout\b"), _recase("with")),
        (re.compile(r"\bnot\s+"), _drop_cue),
        (re.compile(r"\b[Ww]ith\b(?!\s+\d)"), _recase("without")),
        (
            re.compile(r"\b(?:There is|There are) (?!no\b)(?:an? )?"),
            lambda m: m.group().split()[0] + " is no ",
        ),
        (re.compile(r"(?<=[.:]\s)(?:Small|Mild|Moderate|Large)\b"), _recase("no")),
    ],
}

_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")


def _change_number(rng: random.Random) -> Mutation:
    def change(m: re.Match[str]) -> str:
        text = m.group()
        sep = "," if "," in text else "."
        value = float(text.replace(",", "."))
        decimals = len(text.partition(sep)[2])
        new = value
        while new == value or new <= 0:
            new = rng.choice([value + 1, value - 1, value + 2, value * 2, value + 10**-decimals])
        formatted = f"{new:.{decimals}f}"
        return formatted.replace(".", sep) if decimals else formatted

    return change


_UNIT = re.compile(r"(?<=\d)(\s?)(mm|cm|ml)\b")
_UNIT_SWAP = {"mm": "cm", "cm": "mm", "ml": "l"}


def _swap_unit(m: re.Match[str]) -> str:
    return m.group(1) + _UNIT_SWAP[m.group(2)]


_INSERTS = {
    "de": [
        "Geringer Perikarderguss.",
        "Zusätzlich kleine Leberzyste.",
        "Verdacht auf Pneumonie im Mittellappen.",
        "Nebenbefundlich Nierenzyste.",
        "Begleitend geringer Aszites.",
        "Frische Rippenfraktur.",
        "Splenomegalie.",
        "Kleine Hiatushernie.",
        "Plattenatelektase im Oberlappen.",
        "Aneurysma der Bauchaorta.",
    ],
    "en": [
        "Small pericardial effusion.",
        "Incidental simple liver cyst.",
        "Suspected pneumonia in the middle lobe.",
        "Mild splenomegaly.",
        "Small hiatal hernia.",
        "Acute rib fracture.",
        "Trace ascites.",
        "Subsegmental atelectasis in the lingula.",
        "Incidental renal cyst.",
        "Mild hepatic steatosis.",
    ],
}
_SENTENCE_END = re.compile(r"(?<=[.])\s+(?=[A-ZÄÖÜ])")


def _sentences(text: str) -> list[tuple[int, int]]:
    """Spans of the sentences after the title line (the title names the study, not a finding)."""
    start = text.index("\n") + 1
    spans, pos = [], start
    for m in _SENTENCE_END.finditer(text, start):
        spans.append((pos, m.start()))
        pos = m.end()
    spans.append((pos, len(text)))
    return [(a, b) for a, b in spans if not text[a:b].rstrip(".").endswith(("Befund:", "Findings:"))]


def _sites(pattern: re.Pattern[str], text: str) -> list[re.Match[str]]:
    title_end = text.index("\n")
    return [m for m in pattern.finditer(text) if m.start() > title_end]


def _apply(text: str, m: re.Match[str], replace: Mutation) -> str:
    return text[: m.start()] + replace(m) + text[m.end() :]


def errored(category: str, text: str, lang: str, rng: random.Random) -> Iterator[str]:
    """Up to SITES_PER_OUTPUT variants of `text` with one error of `category` each."""
    variants: list[str] = []
    if category == "side confusion":
        variants = [_apply(text, m, _swap_side) for m in _sites(_SIDE[lang], text)]
    elif category == "negation flip":
        variants = [_apply(text, m, fn) for pat, fn in _NEGATION[lang] for m in _sites(pat, text)]
    elif category == "number change":
        variants = [_apply(text, m, _change_number(rng)) for m in _sites(_NUMBER, text)]
    elif category == "unit change":
        variants = [_apply(text, m, _swap_unit) for m in _sites(_UNIT, text)]
    elif category == "dropped finding":
        variants = [text[:a] + text[b:].lstrip() for a, b in _sentences(text)]
    elif category == "inserted finding":
        pool = [s for s in _INSERTS[lang] if s.split()[-1].rstrip(".").lower() not in text.lower()]
        for _, end in _sentences(text):
            variants.append(f"{text[:end]} {rng.choice(pool)}{text[end:]}")
    variants = [v for v in variants if v != text]
    rng.shuffle(variants)
    yield from variants[:SITES_PER_OUTPUT]


def _impression(text: str) -> str:
    marker = "Beurteilung:" if "Beurteilung:" in text else "Impression:"
    return text[text.index(marker) + len(marker) :].strip()


def build_cases(reports: list[Report]) -> list[Case]:
    """Clean pairs and their errored variants for every report."""
    cases: list[Case] = []
    for r in reports:
        rng = random.Random(r.id)
        dictation = noisy(r.report, rng)
        pairs = {
            "correction": Case("clean correction", r.id, "correction", r.lang, None, dictation, r.report),
            "simplification": Case(
                "clean simplification", r.id, "simplification", r.lang, None, r.report, r.simplified
            ),
            "translation": Case(
                "clean translation", r.id, "translation", r.lang, r.other_lang, r.report, r.translation
            ),
        }
        cases.extend(pairs.values())
        cases.append(Case("clean summary", r.id, "summary", r.lang, None, r.report, _impression(r.report)))
        cases.append(Case("spelling only", r.id, "correction", r.lang, None, r.report, noisy(r.report, rng)))
        for pair in pairs.values():
            out_lang = pair.target_lang or pair.lang
            for category in ERROR_KINDS:
                site_rng = random.Random(f"{r.id}:{pair.task}:{category}")
                for text in errored(category, pair.output, out_lang, site_rng):
                    cases.append(
                        Case(category, r.id, pair.task, pair.lang, pair.target_lang, pair.source, text)
                    )
    return cases


def evaluate(cases: list[Case]) -> Results:
    """Run the guard on every case; count catches per error category and false alarms on clean ones."""
    tallies = {category: Tally() for category in (*ERROR_KINDS, *CLEAN)}
    latencies: list[float] = []
    for case in cases:
        started = time.perf_counter()
        result = check(case.source, case.output, task=case.task, lang=case.lang, target_lang=case.target_lang)
        latencies.append((time.perf_counter() - started) * 1000)
        tally = tallies[case.category]
        tally.cases += 1
        if case.category in CLEAN:
            hit = result.verdict == "review"
        else:
            kinds = ERROR_KINDS[case.category]
            hit = result.verdict == "review" and (
                kinds is None or any(f.kind in kinds and f.severity == "major" for f in result.flags)
            )
        if hit:
            tally.hits += 1
        elif case.category not in CLEAN and len(tally.examples) < 5:
            tally.examples.append(f"{case.report_id}/{case.task}")
        if hit and case.category in CLEAN and len(tally.examples) < 5:
            tally.examples.append(f"{case.report_id}/{case.task}: {result.flags[0].message}")
    return Results(tallies, latencies)


def _shown(folder: Path) -> str:
    try:
        return folder.resolve().relative_to(CORPUS.parent.parent).as_posix()
    except ValueError:
        return folder.as_posix()


def render(results: Results, n_reports: int, folder: Path = CORPUS) -> str:
    """The results of one corpus as Markdown tables."""
    lines = [
        f"Corpus: {n_reports} synthetic reports (`{_shown(folder)}/`, CC0).",
        "",
        "| category | cases | caught | recall | target |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    for category in ERROR_KINDS:
        t = results.tallies[category]
        target = f">= {RECALL_TARGET:.0%}" if category in TARGETED else "-"
        lines.append(f"| {category} | {t.cases} | {t.hits} | {t.rate:.1%} | {target} |")
    lines += ["", "| clean outputs | cases | flagged (false alarms) | rate |", "| --- | ---: | ---: | ---: |"]
    for category in CLEAN:
        t = results.tallies[category]
        lines.append(f"| {category} | {t.cases} | {t.hits} | {t.rate:.1%} |")
    lines += [
        f"| **all clean** | {sum(results.tallies[c].cases for c in CLEAN)} | "
        f"{sum(results.tallies[c].hits for c in CLEAN)} | **{results.false_alarm_rate:.1%}** "
        f"(target <= {FALSE_ALARM_TARGET:.0%}) |",
        "",
        f"Latency per check (all {len(results.latencies_ms)} cases, one core): "
        f"p50 {results.latency(0.5):.2f} ms, p99 {results.latency(0.99):.2f} ms, "
        f"mean {statistics.fmean(results.latencies_ms):.2f} ms.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"also write {RESULTS.name} (all four sets)")
    parser.add_argument("--misses", action="store_true", help="list missed cases and false alarms")
    parser.add_argument(
        "--corpus", type=Path, default=None, help="one folder of *.toml reports (default: all four sets)"
    )
    args = parser.parse_args(argv)
    folders = [args.corpus] if args.corpus else [CORPUS, HELD_OUT, HELD_OUT_2, HELD_OUT_3]
    texts, met = [], True
    for folder in folders:
        reports = load_reports(folder)
        results = evaluate(build_cases(reports))
        texts.append(render(results, len(reports), folder.resolve()))
        print(texts[-1])
        if args.misses:
            for category, tally in results.tallies.items():
                for example in tally.examples:
                    print(f"{category}: {example}")
        met = met and meets_targets(results)
    if args.write and not args.corpus:
        notes = (HELD_OUT_NOTE, HELD_OUT_2_NOTE, HELD_OUT_3_NOTE)
        body = texts[0] + "".join(note + text for note, text in zip(notes, texts[1:], strict=True))
        RESULTS.write_text(RESULTS_HEAD + body + RESULTS_TAIL, encoding="utf-8")
    return 0 if met else 1


def meets_targets(results: Results) -> bool:
    """Whether recall on the targeted categories and the false-alarm rate meet issue 5's targets."""
    recall = all(results.recall(c) >= RECALL_TARGET for c in TARGETED)
    return recall and results.false_alarm_rate <= FALSE_ALARM_TARGET


if __name__ == "__main__":
    sys.exit(main())
