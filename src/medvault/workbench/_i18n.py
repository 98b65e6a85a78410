"""The workbench's UI text in German and English (templates carry their own text in both languages)."""

from __future__ import annotations

LANGS = ("de", "en")

_TEXT: dict[str, tuple[str, str]] = {
    # key: (German, English)
    "app": ("MedVault Arbeitsplatz", "MedVault Workbench"),
    "isolation": ("Isolation", "Isolation"),
    "isolation.ok": ("aktiv", "active"),
    "isolation.breached": ("VERLETZT – nicht verwenden", "BREACHED – do not use"),
    "isolation.off": ("aus (Entwicklungsmodus)", "off (development mode)"),
    "isolation.unknown": ("UNBEKANNT – nicht verwenden", "UNKNOWN – do not use"),
    "language": ("Sprache", "Language"),
    "signin": ("Anmelden", "Sign in"),
    "signin.title": ("Anmeldung", "Sign in"),
    "signin.failed": ("Benutzername oder Passwort ist falsch.", "Wrong username or password."),
    "signin.not_enabled": (
        "Ihr Konto ist für MedVault nicht freigeschaltet. Bitte wenden Sie sich an die IT.",
        "Your account is not enabled for MedVault. Please ask IT.",
    ),
    "signin.directory_unavailable": (
        "Der Verzeichnisdienst der Klinik ist nicht erreichbar. Bitte später erneut versuchen; "
        "lokale Konten funktionieren weiterhin.",
        "The hospital directory cannot be reached. Please try again later; local accounts still work.",
    ),
    "signin.expired": (
        "Ihre Sitzung ist abgelaufen. Bitte melden Sie sich erneut an.",
        "Your session has expired. Please sign in again.",
    ),
    "signin.csrf": (
        "Das Formular war veraltet. Bitte erneut versuchen.",
        "The form was out of date. Please try again.",
    ),
    "signin.throttled": (
        "Zu viele fehlgeschlagene Anmeldungen. Bitte warten Sie kurz und versuchen Sie es dann erneut.",
        "Too many failed sign-ins. Please wait a moment, then try again.",
    ),
    "username": ("Benutzername", "Username"),
    "password": ("Passwort", "Password"),
    "signout": ("Abmelden", "Sign out"),
    "signed_in_as": ("Angemeldet als", "Signed in as"),
    "survey": ("Abschlussbefragung", "Pilot survey"),
    "workbench": ("Arbeitsplatz", "Workbench"),
    "administration": ("Verwaltung", "Administration"),
    "choose": ("Vorlage wählen", "Choose a template"),
    "task.anchored": ("Textgebunden", "Text-anchored"),
    "task.semi": ("Teilweise offen", "Semi-open"),
    "task.open": ("Offen – hohes Risiko", "Open – high risk"),
    "risk": ("Risiko", "Risk"),
    "risk.privacy": ("Datenschutzbedarf", "Privacy demand"),
    "risk.reasoning": ("Denkanforderung", "Reasoning demand"),
    "reg.device": ("Medizinprodukt", "medical device"),
    "reg.not-device": ("kein Medizinprodukt", "not a medical device"),
    "reg.conditional": ("bedingt Medizinprodukt", "conditional"),
    "reg.status": ("Regulatorischer Status", "Regulatory status"),
    "reg.eu": ("EU", "EU"),
    "reg.us": ("USA", "US"),
    "reg.cn": ("China", "China"),
    "risk.target_user": ("Zielgruppe", "Target user"),
    "target.professional": ("Fachpersonal", "professionals"),
    "target.patient": ("Patienten", "patients"),
    "postprocess": ("Ausgewertete Antwort", "Processed answer"),
    "inputs": ("Eingaben", "Inputs"),
    "run": ("Ausführen", "Run"),
    "running": ("Antwort wird erzeugt …", "Generating the answer …"),
    "done": ("Fertig.", "Done."),
    "stop": ("Abbrechen", "Stop"),
    "stopped": ("Abgebrochen.", "Stopped."),
    "failed": ("Fehler", "Error"),
    "answer": ("Antwort", "Answer"),
    "reasoning": ("Begründung des Modells", "Model reasoning"),
    "copy_button": ("In die Zwischenablage kopieren", "Copy to clipboard"),
    "copied": ("Kopiert.", "Copied."),
    "diff": ("Änderungen gegenüber der Vorlage (Wortebene)", "Changes against the source (word level)"),
    "diff.legend": (
        "durchgestrichen: entfernt · unterstrichen: eingefügt · markiert: Prüfhinweis",
        "struck through: removed · underlined: inserted · marked: guard flag",
    ),
    "guard": ("Prüfung gegen den Ausgangstext", "Grounding check"),
    # "ok" is shown only for verdict ok, and says what it covers: never a blanket all-clear.
    "guard.ok": (
        "In den geprüften Punkten keine Auffälligkeiten.",
        "No problems found in the aspects checked.",
    ),
    "guard.review": ("Bitte prüfen:", "Please review:"),
    "guard.unchecked": (
        "Nicht vollständig geprüft: grau markierte Stellen konnte die Prüfung nicht beurteilen.",
        "Not fully checked: the passages marked grey could not be judged.",
    ),
    "guard.partial": (
        "Keine Auffälligkeiten in den geprüften Punkten; der Inhalt dieser offenen Antwort ist nicht "
        "geprüft – bitte selbst prüfen.",
        "No problems in the aspects checked; the content of this open-ended answer is not checked – "
        "please check it yourself.",
    ),
    "guard.none": (
        "Offene Antwort – nicht geprüft. Die automatische Prüfung beurteilt diese Vorlage nicht; "
        "bitte die Antwort selbst prüfen.",
        "Open-ended answer – not checked. The automatic check does not judge this template; "
        "please check the answer yourself.",
    ),
    "guard.not_kept": (
        "Ergebnis der Prüfung: {verdict}. Die Einzelheiten werden mit dem Text nicht aufbewahrt.",
        "Check result: {verdict}. The details are not kept with the text.",
    ),
    "guard.checked": ("Geprüft", "Checked"),
    "guard.not_checked": ("nicht geprüft", "not checked"),
    "guard.passage": ("Stelle nicht geprüft", "Passage not checked"),
    "guard.jump": ("Im Vergleich zeigen", "Show in the diff"),
    "verdict.ok": ("unauffällig", "no problems"),
    "verdict.review": ("bitte prüfen", "please review"),
    "verdict.unchecked": ("nicht vollständig geprüft", "not fully checked"),
    "check.laterality": ("Seitenangaben", "sides"),
    "check.sides": ("Seitenangaben", "sides"),
    "check.negation": ("Verneinungen", "negations"),
    "check.certainty": ("Sicherheitsgrad", "certainty"),
    "check.numbers": ("Zahlen", "numbers"),
    "check.units": ("Einheiten", "units"),
    "check.new_findings": ("neue Befunde", "new findings"),
    "check.omissions": ("Auslassungen", "omissions"),
    "check.edit_budget": ("Umfang der Änderungen", "extent of changes"),
    "check.language": ("Sprache", "language"),
    "check.content": ("Inhalt", "content"),
    "check.directions": ("Richtungsangaben", "directions"),
    "check.dates": ("Datumsangaben", "dates"),
    "check.edit_extent": ("Umfang der Änderungen", "extent of changes"),
    # Flag names, used only until the guard sends its own translated sentence (`text`).
    "flag.laterality": ("Seitenangabe geändert", "Side changed"),
    "flag.side_changed": ("Seitenangabe geändert", "Side changed"),
    "flag.negation": ("Verneinung geändert", "Negation changed"),
    "flag.negation_changed": ("Verneinung geändert", "Negation changed"),
    "flag.certainty_changed": ("Sicherheitsgrad geändert", "Certainty changed"),
    "flag.numbers": ("Zahl geändert oder nicht im Ausgangstext", "Number changed or not in the source"),
    "flag.number_changed": ("Zahl geändert", "Number changed"),
    "flag.number_added": ("Zahl nicht im Ausgangstext", "Number not in the source"),
    "flag.number_removed": ("Zahl ausgelassen", "Number left out"),
    "flag.unit_changed": ("Einheit geändert", "Unit changed"),
    "flag.new_findings": ("Befund nicht im Ausgangstext", "Finding not in the source"),
    "flag.new_finding": ("Befund nicht im Ausgangstext", "Finding not in the source"),
    "flag.omissions": ("Befund ausgelassen", "Finding left out"),
    "flag.omission": ("Befund ausgelassen", "Finding left out"),
    "flag.edit_budget": ("Ungewöhnlich viele Änderungen", "Unusually many changes"),
    "flag.wrong_language": ("Antwort in der falschen Sprache", "Answer in the wrong language"),
    "flag.other": ("Prüfhinweis", "Check finding"),
    "suggested": (
        "Vorschläge aus der Prüfung sind angekreuzt; bitte bestätigen oder abwählen.",
        "Suggestions from the check are ticked; please confirm or untick them.",
    ),
    "rating.need": (
        "Bitte Nutzen und „Kritischer Fehler“ wählen.",
        "Please choose a utility and answer “Critical error”.",
    ),
    "queued": ("In der Warteschlange …", "Queued …"),
    "seconds": ("{n} s", "{n} s"),
    "conn_lost": (
        "Die Verbindung zum Server ist abgebrochen. Es wird kein zweiter Lauf gestartet; "
        "„Erneut ausführen“ startet einen neuen Lauf.",
        "The connection to the server was lost. No second run is started; “Run again” starts a new run.",
    ),
    "conn_checking": (
        "Verbindung abgebrochen – es wird nachgesehen, was aus dem Lauf wurde …",
        "Connection lost – checking what became of the run …",
    ),
    "retry": ("Erneut ausführen", "Run again"),
    "run_attached": (
        "Dieser Lauf war bereits gestartet; hier ist sein Ergebnis.",
        "This run had already been started; here is its result.",
    ),
    "tokens": ("{n} von {limit} Tokens", "{n} of {limit} tokens"),
    "too_long": (
        "Der Text ist zu lang für das Modell: {n} Tokens, höchstens {limit}. Bitte kürzen oder "
        "aufteilen – es wird nichts abgeschnitten.",
        "The text is too long for the model: {n} tokens, at most {limit}. Please shorten or split "
        "it – nothing is cut off.",
    ),
    "too_long_chars": (
        "„{field}“ hat {n} Zeichen, höchstens {limit}. Bitte kürzen – es wird nichts abgeschnitten.",
        "“{field}” has {n} characters, at most {limit}. Please shorten it – nothing is cut off.",
    ),
    "search": ("Vorlagen durchsuchen", "Search templates"),
    "no_match": ("Keine passende Vorlage.", "No matching template."),
    "details": ("Details", "Details"),
    "shortcut": ("Strg+Enter führt aus", "Ctrl+Enter runs"),
    "theme.dark": ("Dunkel", "Dark"),
    "theme.light": ("Hell", "Light"),
    "recent": ("Meine letzten Läufe", "My recent runs"),
    "recent.rated": ("bewertet", "rated"),
    "status.ok": ("fertig", "done"),
    "status.error": ("Fehler", "error"),
    "status.cancelled": ("abgebrochen", "cancelled"),
    "restored": ("Aus diesem Browser-Tab wiederhergestellt.", "Restored from this browser tab."),
    "no_copy": (
        "Kopieren nicht möglich: der Text wird auf dem Server nicht aufbewahrt und ist in diesem "
        "Browser-Tab nicht mehr vorhanden.",
        "Nothing to copy: the server does not keep the text and this browser tab no longer has it.",
    ),
    "raw_answer": ("Antwort des Modells (Rohform)", "The model's answer (raw)"),
    "tech_details": ("Technische Einzelheiten", "Technical details"),
    "schema_error": (
        "Die Antwort des Modells hatte nicht das erwartete Format ({n} Abweichung(en)); daraus wurde "
        "nichts berechnet. Bitte erneut ausführen oder den Befund selbst beurteilen.",
        "The model's answer did not have the expected format ({n} problem(s)); nothing was computed "
        "from it. Please run again or judge the report yourself.",
    ),
    "ungrounded": (
        "Zitate, die so nicht im Ausgangstext stehen:",
        "Quotes that are not in the source as written:",
    ),
    "fl.recommendation": ("Empfehlung", "Recommendation"),
    "fl.category": ("Kategorie", "Category"),
    "fl.rule": ("Regel", "Rule"),
    "fl.size": ("Größe (Mittel der Achsen)", "Size (mean of the axes)"),
    "fl.risk.low": ("niedriges Risiko", "low risk"),
    "fl.risk.high": ("hohes Risiko", "high risk"),
    "fl.risk.any": ("jedes Risiko", "any risk"),
    "fl.risk.unknown": ("Risiko nicht angegeben", "risk not stated"),
    "fl.not_applicable": ("Leitlinie nicht anwendbar", "Guideline does not apply"),
    "fl.extracted": (
        "Vom Modell entnommene Angaben – bitte prüfen, die Empfehlung folgt aus ihnen",
        "What the model extracted – please check it: the recommendation follows from it",
    ),
    "field.nodule_found": ("Rundherd beschrieben", "Nodule described"),
    "field.nodule_type": ("Art", "Type"),
    "field.multiplicity": ("Anzahl", "Number"),
    "field.long_axis_mm": ("Lange Achse (mm)", "Long axis (mm)"),
    "field.short_axis_mm": ("Kurze Achse (mm)", "Short axis (mm)"),
    "field.risk": ("Risiko", "Risk"),
    "field.age_years": ("Alter (Jahre)", "Age (years)"),
    "field.known_cancer": ("Bekanntes Malignom", "Known cancer"),
    "field.immunocompromised": ("Immunsuppression", "Immunocompromised"),
    "field.screening": ("Screening", "Screening"),
    "field.evidence": ("Belegstelle im Befund", "Evidence in the report"),
    # Values of choices and extracted fields, shown instead of their codes.
    "val.solid": ("solide", "solid"),
    "val.ground_glass": ("Milchglas", "ground-glass"),
    "val.part_solid": ("teilsolide", "part-solid"),
    "val.single": ("solitär", "single"),
    "val.multiple": ("multipel", "multiple"),
    "val.low": ("niedrig", "low"),
    "val.high": ("hoch", "high"),
    "val.unknown": ("nicht angegeben", "not stated"),
    "val.any": ("jedes Risiko", "any risk"),
    "val.true": ("ja", "yes"),
    "val.false": ("nein", "no"),
    "val.null": ("nicht genannt", "not stated"),
    "val.de-en": ("Deutsch → Englisch", "German → English"),
    "val.en-de": ("Englisch → Deutsch", "English → German"),
    "feedback": ("Bewertung", "Feedback"),
    "utility": ("Klinischer Nutzen (0–10)", "Clinical utility (0–10)"),
    "critical": ("Kritischer Fehler?", "Critical error?"),
    "yes": ("ja", "yes"),
    "no": ("nein", "no"),
    "categories": ("Fehlerarten", "Error categories"),
    "cat.hallucination": ("Halluzination", "Hallucination"),
    "cat.omission": ("Auslassung", "Omission"),
    "cat.laterality": ("Seitenverwechslung", "Laterality"),
    "cat.negation": ("Negation", "Negation"),
    "cat.number_unit": ("Zahl/Einheit", "Number/unit"),
    "cat.other": ("Sonstiges", "Other"),
    "comment": ("Kommentar (optional)", "Comment (optional)"),
    "send": ("Absenden", "Submit"),
    "thanks": ("Danke, gespeichert.", "Thank you, saved."),
    "feedback.saved": (
        "Ihre Bewertung dieses Laufs ist gespeichert. Jeder Lauf hat eine Bewertung; "
        "eine Änderung ersetzt sie.",
        "Your rating of this run is saved. A run has one rating; changing it replaces it.",
    ),
    "survey.saved": (
        "Ihre Antwort ist gespeichert. Sie haben eine Antwort; eine Änderung ersetzt sie.",
        "Your answer is saved. You have one answer; changing it replaces it.",
    ),
    "change": ("Ändern", "Change"),
    "stability": ("Stabilität (0–10)", "Stability (0–10)"),
    "ease": ("Bedienbarkeit (0–10)", "Ease of use (0–10)"),
    "survey.intro": (
        "Zum Ende des Pilotbetriebs: Wie stabil und wie einfach zu bedienen war der Arbeitsplatz?",
        "At the end of the pilot: how stable and how easy to use was the workbench?",
    ),
    "no_templates": ("Keine Vorlagen verfügbar.", "No templates available."),
    "pick_first": ("Bitte zuerst eine Vorlage wählen.", "Please choose a template first."),
    "run_id": ("Lauf", "Run"),
    "not_retained": (
        "Der Text dieses Laufs wird nicht aufbewahrt.",
        "The text of this run is not retained.",
    ),
}

CATEGORIES = ("hallucination", "omission", "laterality", "negation", "number_unit", "other")
TASK_TYPES = ("anchored", "semi", "open")


def texts(lang: str) -> dict[str, str]:
    """All UI strings in `lang` (de or en)."""
    index = LANGS.index(lang)
    return {key: pair[index] for key, pair in _TEXT.items()}


def pick_lang(*candidates: str | None) -> str:
    """The first supported language among the candidates (query, session, cookie, default)."""
    return next((c for c in candidates if c in LANGS), LANGS[0])
