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
    "choose": ("Vorlage wählen", "Choose a template"),
    "task.anchored": ("Textgebunden", "Text-anchored"),
    "task.semi": ("Teilweise offen", "Semi-open"),
    "task.open": ("Offen – hohes Risiko", "Open – high risk"),
    "risk": ("Risiko", "Risk"),
    "risk.privacy": ("Datenschutzbedarf", "Privacy demand"),
    "risk.reasoning": ("Denkanforderung", "Reasoning demand"),
    "reg.device": ("Medizinprodukt", "medical device"),
    "reg.not-device": ("kein Medizinprodukt", "not a medical device"),
    "reg.borderline": ("Grenzfall", "borderline"),
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
    "guard.ok": ("Keine Auffälligkeiten gefunden.", "No problems found."),
    "guard.review": ("Bitte prüfen:", "Please review:"),
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
