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


# --- pair batches (issue 11): hand-written source/output pairs, measured once before tuning -----------

PAIRS = CORPUS / "pairs"
#: The start of the append-only part of the results file: `--write` keeps everything from here on.
PAIRS_MARKER = "<!-- pair batches: first-look sections below are appended once and never rewritten -->"
#: Seeded error kinds of the pair batches and the flag codes that count as catching them.
PAIR_KINDS: dict[str, frozenset[str]] = {
    "side": frozenset(
        {"side_changed", "side_missing", "direction_changed", "direction_missing", "comparison_changed"}
        | {"correction_changed_meaning"}
    ),
    "negation": frozenset({"negation_changed", "certainty_changed", "correction_changed_meaning"}),
    "certainty": frozenset({"certainty_changed", "negation_changed"}),
    "number": frozenset({"number_changed", "number_added", "number_missing"}),
    "unit": frozenset({"unit_changed", "number_changed"}),
    "omission": frozenset({"omission"}),
}
UNCHECKED_TARGET = 0.10


@dataclass(frozen=True)
class PairCase:
    id: str
    task: str
    languages: tuple[str, str]
    modality: str
    source: str
    output: str
    error: str  # "" for a clean output, else a key of PAIR_KINDS

    @property
    def lang_key(self) -> str:
        a, b = self.languages
        return a if a == b else f"{a}>{b}"


def load_pairs(path: Path) -> list[PairCase]:
    """Read the `[[pair]]` tables of one batch file."""
    pairs = []
    for raw in tomllib.loads(path.read_text(encoding="utf-8"))["pair"]:
        if raw["error"] and raw["error"] not in PAIR_KINDS:
            raise ValueError(f"{raw['id']}: unknown error kind {raw['error']!r}")
        pairs.append(
            PairCase(
                raw["id"],
                raw["task"],
                (raw["languages"][0], raw["languages"][1]),
                raw["modality"],
                raw["source"].strip(),
                raw["output"].strip(),
                raw["error"],
            )
        )
    return pairs


def pair_batches(folder: Path = PAIRS) -> list[Path]:
    return sorted(folder.glob("batch*.toml"))


@dataclass
class PairOutcome:
    case: PairCase
    verdict: str
    caught: bool  # errored: review with a major flag of a matching code; clean: unused
    codes: tuple[str, ...]
    ms: float


@dataclass
class PairResults:
    outcomes: list[PairOutcome]

    def _select(self, clean: bool, **where: str) -> list[PairOutcome]:
        return [
            o
            for o in self.outcomes
            if (not o.case.error) == clean and all(getattr(o.case, k) == v for k, v in where.items())
        ]

    def counts(self) -> dict[str, tuple[int, int]]:
        """Stable numbers for comparing runs: per row label (cases, hits)."""
        rows: dict[str, tuple[int, int]] = {}
        for kind in PAIR_KINDS:
            errs = [o for o in self.outcomes if o.case.error == kind]
            if errs:
                rows[f"recall {kind}"] = (len(errs), sum(o.caught for o in errs))
        clean = self._select(True)
        rows["false alarms"] = (len(clean), sum(o.verdict == "review" for o in clean))
        rows["unchecked"] = (len(clean), sum(o.verdict == "unchecked" for o in clean))
        for task in sorted({o.case.task for o in self.outcomes}):
            for lang in sorted({o.case.lang_key for o in self.outcomes if o.case.task == task}):
                errs = self._select(False, task=task, lang_key=lang)
                clean = self._select(True, task=task, lang_key=lang)
                rows[f"{task} {lang} caught"] = (len(errs), sum(o.caught for o in errs))
                rows[f"{task} {lang} false alarms"] = (len(clean), sum(o.verdict == "review" for o in clean))
                rows[f"{task} {lang} unchecked"] = (len(clean), sum(o.verdict == "unchecked" for o in clean))
        return rows

    def rate(self, label: str) -> float:
        cases, hits = self.counts()[label]
        return hits / cases if cases else 0.0

    def meets_targets(self) -> bool:
        recall = all(
            self.rate(f"recall {k}") >= RECALL_TARGET for k in PAIR_KINDS if f"recall {k}" in self.counts()
        )
        per_task = all(
            self.rate(label) <= FALSE_ALARM_TARGET
            for label in self.counts()
            if label.endswith(" false alarms")
        )
        return recall and per_task and self.rate("unchecked") <= UNCHECKED_TARGET


def evaluate_pairs(pairs: list[PairCase]) -> PairResults:
    outcomes = []
    for case in pairs:
        started = time.perf_counter()
        result = check(
            case.source, case.output, task=case.task, lang=case.languages[0], target_lang=case.languages[1]
        )
        ms = (time.perf_counter() - started) * 1000
        codes = tuple(f.to_dict()["code"] for f in result.flags if f.severity == "major")
        caught = bool(case.error) and result.verdict == "review" and bool(set(codes) & PAIR_KINDS[case.error])
        outcomes.append(PairOutcome(case, result.verdict, caught, codes, ms))
    return PairResults(outcomes)


def render_pairs(results: PairResults, title: str, note: str) -> str:
    """One batch's numbers as a Markdown section: counts per row, then latency."""
    ms = sorted(o.ms for o in results.outcomes)
    lines = [
        f"### {title}",
        "",
        note,
        "",
        "| measure | cases | hits | rate |",
        "| --- | ---: | ---: | ---: |",
    ]
    for label, (cases, hits) in results.counts().items():
        rate = f"{hits / cases:.1%}" if cases else "-"
        lines.append(f"| {label} | {cases} | {hits} | {rate} |")
    lines += [
        "",
        f"Latency per check ({len(ms)} pairs): p50 {ms[len(ms) // 2]:.2f} ms, max {ms[-1]:.2f} ms, "
        f"mean {statistics.fmean(ms):.2f} ms. Targets met: {'yes' if results.meets_targets() else 'no'}.",
    ]
    return "\n".join(lines) + "\n"


def parse_counts(section: str) -> dict[str, tuple[int, int]]:
    """The (cases, hits) rows of a section written by `render_pairs`."""
    rows = {}
    for m in re.finditer(r"^\| ([^|]+?) \| (\d+) \| (\d+) \| [^|]+ \|$", section, re.MULTILINE):
        rows[m.group(1)] = (int(m.group(2)), int(m.group(3)))
    return rows


def section(text: str, title: str) -> str | None:
    """The body of the `### title` section of the results file, or None."""
    start = text.find(f"### {title}\n")
    if start < 0:
        return None
    end = text.find("\n### ", start + 1)
    return text[start : end if end >= 0 else len(text)]


def first_look_title(batch: Path) -> str:
    return f"{batch.stem}: first look"


def record_first_look(batch: Path) -> str:
    """Measure a new batch once and append its section; refuse when it was recorded before."""
    text = RESULTS.read_text(encoding="utf-8")
    title = first_look_title(batch)
    if section(text, title) is not None:
        raise SystemExit(f"{title!r} is already in {RESULTS.name}: first looks are never overwritten")
    pairs = load_pairs(batch)
    note = (
        f"`{_shown(batch)}`: {len(pairs)} pairs, measured once with the guard as it stood before any rule "
        "was changed because of this batch."
    )
    body = render_pairs(evaluate_pairs(pairs), title, note)
    if PAIRS_MARKER not in text:
        text += f"\n## Pair batches (issue 11)\n\n{PAIRS_MARKER}\n"
    RESULTS.write_text(text.rstrip("\n") + "\n\n" + body, encoding="utf-8")
    return body


CURRENT_TITLE = "all pair batches: current guard"
PAIRS_NOTE = """Hand-written source/output pairs in `bench/guard_corpus/pairs/` (CC0): the four tasks, both
languages and both translation directions, six modalities; about half clean, half with one seeded error
(side/direction, negation, certainty, number, unit, omission of an actionable finding). Each batch is
measured once with `--first-look` before any rule is changed because of it; that section is appended
below and never rewritten. A pair counts as caught when the verdict is `review` and a major flag has a
code of the seeded kind; a clean pair is a false alarm when its verdict is `review`, abstained when it
is `unchecked`. Targets (issue 11, on first looks): recall >= 95% per kind, false alarms <= 5% per
task, unchecked <= 10% of clean pairs. Batches 02 and 03 were written by the guard's author after
reading its code; batches 04 to 31 were written blind, by helpers that had not read the guard, and
committed before their first look (from batch11 on in `pending/`, out of the tuning scripts' reach).
Tuned on after their first look: batches 01 to 08 (batch03 and batch04 to 07 in the fourth round, whose
first looks of 06 and 07 were taken while that round had tuned on 04 and 05 only; batch08 and all
earlier ones in the fifth round), then one new batch per round: round 6 tuned on 09 and 10 and was
measured on batch11, round 7 tuned on 11 and was measured on batch12, and so on to round 11, tuned on
batch15. From then on four blind batches per round, all measured under one guard: 16 to 19 under round
11 (then tuned on in round 12), 20 to 23 under round 12 (tuned on in round 13), 24 to 27 and, a
session later with no round in between, 28 to 31 under round 13: none of 24 to 31 has been tuned on.
The latency lines of the first looks from batch16 on were taken on a
machine shared with other work (benchmarks, helpers): read them as upper bounds.
"""


def current_pairs_section() -> str:
    """All pair batches measured with the guard as it is now (rewritten by `--write`, unlike first looks)."""
    batches = pair_batches()
    pairs = [p for batch in batches for p in load_pairs(batch)]
    note = (
        f"{len(pairs)} pairs in {len(batches)} batches, measured with the current guard; batches tuned on "
        "after their first look make these numbers partly in-sample. "
        "`tests/guard/test_pair_batches.py` checks these rows against a fresh run."
    )
    return render_pairs(evaluate_pairs(pairs), CURRENT_TITLE, note)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"also write {RESULTS.name} (all four sets)")
    parser.add_argument("--misses", action="store_true", help="list missed cases and false alarms")
    parser.add_argument(
        "--corpus", type=Path, default=None, help="one folder of *.toml reports (default: all four sets)"
    )
    parser.add_argument("--pairs", type=Path, default=None, help="measure one pair batch file and print it")
    parser.add_argument(
        "--first-look",
        type=Path,
        default=None,
        help="measure a new pair batch once and append it to the results",
    )
    args = parser.parse_args(argv)
    if args.first_look:
        print(record_first_look(args.first_look))
        return 0
    if args.pairs:
        measured = evaluate_pairs(load_pairs(args.pairs))
        print(render_pairs(measured, args.pairs.stem, "(not recorded)"))
        if args.misses:
            for o in measured.outcomes:
                if (o.case.error and not o.caught) or (not o.case.error and o.verdict != "ok"):
                    print(f"{o.case.id} {o.case.task} {o.case.error or 'clean'}: {o.verdict} {o.codes}")
        return 0 if measured.meets_targets() else 1
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
        old = RESULTS.read_text(encoding="utf-8")
        kept = old[old.index(PAIRS_MARKER) :] if PAIRS_MARKER in old else ""
        pairs_head = (
            f"\n## Pair batches (issue 11)\n\n{PAIRS_NOTE}\n{current_pairs_section()}\n" if kept else ""
        )
        RESULTS.write_text(RESULTS_HEAD + body + RESULTS_TAIL + pairs_head + kept, encoding="utf-8")
    return 0 if met else 1


def meets_targets(results: Results) -> bool:
    """Whether recall on the targeted categories and the false-alarm rate meet issue 5's targets."""
    recall = all(results.recall(c) >= RECALL_TARGET for c in TARGETED)
    return recall and results.false_alarm_rate <= FALSE_ALARM_TARGET


if __name__ == "__main__":
    sys.exit(main())
