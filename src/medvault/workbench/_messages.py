"""Text the server writes for people, in German and English: run errors saying what to do, the note on a
run whose text is not kept, the role notices, and the admin and auditor pages' labels.

Error texts are keyed by the stable codes of `error_code`, which the UI and API clients may act on.
"""

from __future__ import annotations

from medvault.errors import ApiError

_TEXT: dict[str, tuple[str, str]] = {
    # -- run errors (SSE `error` events and refusals) ------------------------------------------------
    "error.input_too_long": (
        "Die Eingabe ist zu lang für das Modell: {tokens} Tokens, höchstens {limit}. Bitte kürzen Sie den "
        "Text oder teilen Sie ihn auf; es wird nichts abgeschnitten.",
        "The input is too long for the model: {tokens} tokens, at most {limit}. Please shorten the text or "
        "split it; nothing is cut off.",
    ),
    "error.engine_unavailable": (
        "Das Sprachmodell ist gerade nicht erreichbar. Bitte in einer Minute erneut versuchen; bleibt es "
        "dabei, die Administration verständigen.",
        "The language model cannot be reached right now. Please try again in a minute; if it persists, "
        "tell your administrator.",
    ),
    "error.engine_busy": (
        "Das Sprachmodell ist ausgelastet. Bitte in {retry} Sekunden erneut versuchen.",
        "The language model is busy. Please try again in {retry} seconds.",
    ),
    "error.context_exceeded": (
        "Eingabe und Antwort passen nicht in das Kontextfenster des Modells. Bitte den Text kürzen.",
        "Input and answer do not fit the model's context window. Please shorten the text.",
    ),
    "error.timeout": (
        "Das Sprachmodell hat zu lange nicht geantwortet. Bitte erneut versuchen, gegebenenfalls mit "
        "kürzerem Text.",
        "The language model stopped answering. Please try again, if need be with a shorter text.",
    ),
    "error.model_not_approved": (
        "Dieses Modell ist noch nicht freigegeben. Die Administration muss es freigeben, bevor es "
        "verwendet werden kann.",
        "This model is not approved yet. An administrator must approve it before it can be used.",
    ),
    "error.engine_failed": (
        "Das Sprachmodell hat die Antwort abgebrochen. Bitte erneut versuchen; bleibt es dabei, die "
        "Administration verständigen.",
        "The language model broke off its answer. Please try again; if it persists, tell your administrator.",
    ),
    "error.store_failed": (
        "Der Lauf konnte nicht gespeichert werden. Bitte die Administration verständigen.",
        "The run could not be stored. Please tell your administrator.",
    ),
    "error.internal": (
        "Interner Fehler. Bitte erneut versuchen; bleibt es dabei, die Administration verständigen.",
        "Internal error. Please try again; if it persists, tell your administrator.",
    ),
    # -- run records ---------------------------------------------------------------------------------
    "diff.too_large": (
        "Kein Wortvergleich: Quelle und Antwort sind zu lang oder zu gleichförmig, um sie Wort für Wort "
        "zu vergleichen.",
        "No word comparison: source and answer are too long or too repetitive to compare word by word.",
    ),
    "content.not_retained": (
        "Der Text dieses Laufs wird auf dem Server nicht aufbewahrt (Datenschutzeinstellung dieser "
        "Installation); er steht nur im Browser-Tab, in dem der Lauf gestartet wurde.",
        "The text of this run is not kept on the server (this installation's privacy setting); it exists "
        "only in the browser tab the run was started in.",
    ),
    "content.purged": (
        "Der Text dieses Laufs wurde nach Ablauf der Aufbewahrungsfrist gelöscht.",
        "The text of this run was deleted when its retention period ended.",
    ),
    "content.hidden": (
        "Die Revision sieht nur die Metadaten eines Laufs, nie seinen Text.",
        "Auditors see a run's metadata only, never its text.",
    ),
    "content.failed": (
        "Dieser Lauf hat keine Antwort ergeben.",
        "This run produced no answer.",
    ),
    # -- roles ---------------------------------------------------------------------------------------
    "role.no_workbench": (
        "Ihre Rolle ({role}) darf keine Vorlagen ausführen. Ihre Seiten finden Sie unter Verwaltung.",
        "Your role ({role}) may not run templates. Your pages are under Administration.",
    ),
    "role.no_admin": (
        "Diese Seiten sind für Administration und Revision. Ihre Rolle ({role}) hat keinen Zugang.",
        "These pages are for administrators and auditors. Your role ({role}) has no access.",
    ),
    "role.signin_refused": (
        "Anmeldung richtig, aber Ihre Rolle ({role}) hat im Browser keine Seiten.",
        "Your sign-in was correct, but your role ({role}) has no pages in the browser.",
    ),
    # -- admin and auditor pages ---------------------------------------------------------------------
    "admin": ("Verwaltung", "Administration"),
    "admin.status": ("Status", "Status"),
    "admin.users": ("Benutzer und API-Schlüssel", "Users and API keys"),
    "admin.audit": ("Prüfpfad", "Audit trail"),
    "admin.bad_before": (
        "Der Parameter `before` muss eine ganze Zahl von 0 bis {max} sein.",
        "The parameter `before` must be a whole number from 0 to {max}.",
    ),
    "admin.reports": ("Berichte", "Reports"),
    "admin.metrics": ("Metriken", "Metrics"),
    "admin.isolation": ("Netzisolation", "Network isolation"),
    "admin.isolation.since": ("Zustand seit", "State since"),
    "admin.isolation.verified": ("Letzte Prüfung (verify)", "Last verify"),
    "admin.verify.ok": ("bestanden", "passed"),
    "admin.verify.failed": ("FEHLGESCHLAGEN", "FAILED"),
    "admin.not_recorded": ("nicht aufgezeichnet", "not recorded"),
    "admin.models": ("Modelle und Freigabe", "Models and approval"),
    "admin.engines": ("Inferenz-Engines", "Inference engines"),
    "admin.queue": ("Warteschlange (laufende Anfragen)", "Queue (requests in flight)"),
    "admin.model": ("Modell", "Model"),
    "admin.digest": ("Digest", "Digest"),
    "admin.approval": ("Freigabe", "Approval"),
    "admin.serving": ("bedient", "serving"),
    "admin.held": ("zurückgehalten", "held"),
    "admin.replica": ("Replikat", "Replica"),
    "admin.health": ("Zustand", "Health"),
    "admin.healthy": ("erreichbar", "healthy"),
    "admin.unhealthy": ("nicht erreichbar", "not reachable"),
    "admin.in_flight": ("in Arbeit", "in flight"),
    "admin.window": ("Kontextfenster (Tokens)", "Context window (tokens)"),
    "admin.decided": ("entschieden von / am", "decided by / at"),
    "admin.user": ("Benutzer", "User"),
    "admin.role": ("Rolle", "Role"),
    "admin.display_name": ("Anzeigename", "Display name"),
    "admin.created": ("angelegt", "created"),
    "admin.disabled": ("gesperrt", "disabled"),
    "admin.active": ("aktiv", "active"),
    "admin.key_id": ("Schlüssel-ID", "Key id"),
    "admin.prefix": ("Präfix", "Prefix"),
    "admin.name": ("Name", "Name"),
    "admin.revoked": ("widerrufen", "revoked"),
    "admin.read_only": (
        "Nur Ansicht. Ändern mit `medvault users …` und `medvault keys …` auf dem Server.",
        "Read only. Change with `medvault users …` and `medvault keys …` on the server.",
    ),
    "admin.audit.note": (
        "Die neuesten Ereignisse zuerst. Der Prüfpfad enthält nie Patiententexte, nur feste Felder.",
        "Newest events first. The audit trail never holds patient text, only fixed fields.",
    ),
    "admin.audit.chain": ("Hash-Kette", "Hash chain"),
    "admin.audit.chain_ok": ("intakt", "intact"),
    "admin.audit.chain_broken": ("BESCHÄDIGT", "BROKEN"),
    "admin.audit.older": ("Ältere Ereignisse", "Older events"),
    "admin.ts": ("Zeit", "Time"),
    "admin.action": ("Aktion", "Action"),
    "admin.status_code": ("Status", "Status"),
    "admin.template": ("Vorlage", "Template"),
    "admin.tokens": ("Tokens (Eingabe/Ausgabe)", "Tokens (in/out)"),
    "admin.latency": ("Dauer (ms)", "Latency (ms)"),
    "admin.client": ("Client", "Client"),
    "admin.detail": ("Details (Zähler, IDs)", "Detail (counts, ids)"),
    "admin.reports.note": (
        "Berichte enthalten nur Bewertungen und Zähler, nie Patiententexte oder Freitext-Kommentare.",
        "Reports hold ratings and counts only, never patient text or free-text comments.",
    ),
    "admin.download": ("Herunterladen", "Download"),
    "report.pilot": ("Pilotbericht (HTML)", "Pilot report (HTML)"),
    "report.pilot.templates": ("Pilotbericht: Vorlagen (CSV)", "Pilot report: templates (CSV)"),
    "report.pilot.survey": ("Pilotbericht: Befragung (CSV)", "Pilot report: survey (CSV)"),
    "report.evidence": (
        "Nachweisbericht (HTML + PDF, Stand jetzt; Isolation hier NICHT geprüft)",
        "Evidence report (HTML + PDF, as of now; isolation NOT verified here)",
    ),
    "report.evidence.note": (
        "Der Nachweisbericht aus dem Browser prüft die Isolation nicht (der Gateway-Prozess hat dafür "
        "keine Rechte). Den zu unterschreibenden Bericht schreibt `medvault report evidence --out DIR` "
        "als root.",
        "The evidence report downloaded here does not verify isolation (the gateway process lacks the "
        "privileges). The report to sign is written by `medvault report evidence --out DIR` as root.",
    ),
    "admin.evaluations": ("Evaluationen", "Evaluations"),
    "admin.evaluations.none": ("Noch keine Evaluation.", "No evaluation yet."),
    "admin.combination": ("Kombination", "Combination"),
    "admin.result": ("Ergebnis", "Result"),
    "admin.passed": ("bestanden", "passed"),
    "admin.failed": ("nicht bestanden", "failed"),
    "admin.reasons": ("Gründe", "Reasons"),
    "admin.date": ("Datum", "Date"),
    "admin.run_by": ("ausgeführt von", "run by"),
    "admin.monitoring": ("Überwachung", "Monitoring"),
    "admin.monitoring.note": (
        "Je Vorlage, Modell und Kalenderwoche: Nutzen (Median), Rate kritischer Fehler, Prüfhinweise; "
        "grau: Vergleichswochen, rot umkreist: Drift-Alarm.",
        "Per template, model and ISO week: utility (median), critical-error rate, guard flags; grey: "
        "baseline weeks, red circle: drift alert.",
    ),
    "admin.monitoring.none": ("Noch keine bewerteten Läufe.", "No rated runs yet."),
    "admin.alerts": ("Drift-Alarme", "Drift alerts"),
    "admin.alerts.none": ("Keine Drift-Alarme.", "No drift alerts."),
    "admin.week": ("Woche", "Week"),
    "admin.metric": ("Kennzahl", "Metric"),
    "admin.baseline": ("Vergleichswert", "Baseline"),
    "admin.value": ("Wochenwert", "Week's value"),
    "admin.p_value": ("p-Wert (Schwelle)", "p-value (threshold)"),
    "admin.runs": ("Läufe", "Runs"),
    "admin.ratings": ("Bewertungen", "Ratings"),
    "admin.utility": ("Nutzen (Median)", "Utility (median)"),
    "admin.critical": ("Kritische Fehler", "Critical errors"),
    "admin.review": ("Prüfhinweise", "Guard review"),
    "admin.unchecked": ("Nicht geprüft", "Unchecked"),
    "admin.metrics.note": (
        "Prometheus liest /metrics mit einem API-Schlüssel der Rolle admin oder auditor "
        "(Authorization: Bearer …). Im Browser zeigt diese Seite dieselben Werte.",
        "Prometheus scrapes /metrics with an API key of role admin or auditor (Authorization: Bearer …). "
        "In the browser, this page shows the same values.",
    ),
    "admin.to_workbench": ("Zum Arbeitsplatz", "To the workbench"),
}


def message(key: str, lang: str, **params: object) -> str:
    """The text under `key` in `lang` (German unless `en`), with `{params}` filled in."""
    german, english = _TEXT[key]
    text = english if lang == "en" else german
    return text.format(**params) if params else text


def admin_texts(lang: str) -> dict[str, str]:
    """Every text in one language, for the admin and auditor pages."""
    return {key: message(key, lang) for key, (german, _) in _TEXT.items() if "{" not in german}


# ApiError codes (medvault.backends._upstream, medvault.errors) -> the stable code the UI acts on.
_CODES = {
    "backend_unavailable": "engine_unavailable",
    "engine_busy": "engine_busy",
    "context_length_exceeded": "context_exceeded",
    "backend_timeout": "timeout",
    "model_not_approved": "model_not_approved",
    "store_failed": "store_failed",
    "internal_error": "internal",
}


def error_code(exc: ApiError) -> str:
    """The stable code of an engine or run error (every other engine fault is `engine_failed`)."""
    return _CODES.get(exc.code or "", "engine_failed")


def engine_fault(exc: ApiError) -> bool:
    """Whether `exc` is the engine's (or the run's) failure rather than a fault of the request."""
    return exc.status_code >= 500 or exc.code in ("context_length_exceeded", "engine_rejected")


def localized(exc: ApiError, lang: str) -> ApiError:
    """`exc` with its stable code and a text saying what to do in `lang`; status and type kept."""
    code = error_code(exc)
    out = ApiError(message(f"error.{code}", lang, retry=exc.retry_after_s or 5), code=code, param=exc.param)
    out.status_code, out.error_type, out.retry_after_s = exc.status_code, exc.error_type, exc.retry_after_s
    return out
