"""The survey instrument end to end: the workbench API stores it, rejects what it must, and the pilot
report reads it; the store refuses values the API would never send."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from medvault.governance.pilot import build_report
from medvault.store import Store, get_survey_answer, save_survey_answer
from tests.workbench.conftest import Bench, bench, fake_engine  # noqa: F401 (fixtures used by name)

FULL = {
    "stability": 8, "ease_of_use": 7, "rater_role": "consultant", "critical_errors_seen": 3,
    "template_utility": {"translation": 9, "referrer-summary": 4}, "comment": "Befund 12 mm",
}  # fmt: skip


def _error(response: Any) -> dict[str, Any]:
    return dict(response.json()["error"])


def test_survey_round_trip_and_report(bench: Bench, tmp_path: Path) -> None:  # noqa: F811
    """Every field of the instrument is stored, echoed, audited as numbers, replaced whole, and reported."""
    client = bench.api()
    first = client.post("/api/v1/survey", json=FULL)
    assert first.status_code == 201, first.text
    body = first.json()
    assert (body["rater_role"], body["critical_errors_seen"], body["replaced"]) == ("consultant", 3, False)
    assert body["template_utility"] == {"referrer-summary": 4, "translation": 9}
    stored = get_survey_answer(bench.store, "alice")
    assert stored is not None
    assert (stored.rater_role, stored.critical_errors_seen, stored.template_utility) == (
        "consultant", 3, {"referrer-summary": 4, "translation": 9},
    )  # fmt: skip
    assert stored.comment is None  # content retention is off: the comment is not kept
    detail = [e["detail"] for e in bench.audit() if e["action"] == "survey.create"][-1]
    assert detail["rater_role"] == "consultant" and detail["critical_errors_seen"] == 3
    assert detail["templates_rated"] == 2 and "12 mm" not in str(detail)
    summary = build_report(bench.store.url, tmp_path / "report")
    assert summary.data.survey.roles["consultant"][0][8] == 1  # stability 8, by a consultant
    assert summary.data.survey.template_utility["translation"][9] == 1
    assert summary.data.survey.errors_seen == {"consultant": [3]}
    # Answering again replaces the whole answer, the parts left out included.
    again = client.post("/api/v1/survey", json={"stability": 5, "ease_of_use": 5})
    assert again.status_code == 201 and again.json()["replaced"] is True
    replaced = get_survey_answer(bench.store, "alice")
    assert replaced is not None
    assert (replaced.rater_role, replaced.critical_errors_seen, replaced.template_utility) == (
        None,
        None,
        None,
    )


@pytest.mark.parametrize(
    ("change", "param"),
    [
        ({"rater_role": "chief"}, "rater_role"),
        ({"critical_errors_seen": -1}, "critical_errors_seen"),
        ({"critical_errors_seen": "3"}, "critical_errors_seen"),
        ({"template_utility": {"translation": 11}}, "template_utility"),
        ({"template_utility": {"no-such-template": 5}}, "template_utility"),
        ({"stability": 11}, "stability"),
        ({"usability": 5}, "usability"),
    ],
)
def test_survey_validation(bench: Bench, change: dict[str, Any], param: str) -> None:  # noqa: F811
    """Out-of-range scores, an unknown role or template, a string count, an unknown field: 422 naming it;
    nothing is stored."""
    response = bench.api().post("/api/v1/survey", json={**FULL, **change})
    assert response.status_code == 422, response.text
    assert _error(response)["param"].startswith(param), _error(response)
    assert get_survey_answer(bench.store, "alice") is None


def test_survey_page_offers_the_instrument(bench: Bench) -> None:  # noqa: F811
    """The page asks for the role and the critical errors seen (and takes the templates when given)."""
    client, _token = bench.sign_in()
    page = client.get("/workbench/survey?lang=en").text
    assert 'name="rater_role" value="resident"' in page and 'name="rater_role" value="consultant"' in page
    assert 'id="critical_errors_seen"' in page and "How many critical errors" in page


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"rater_role": "chief"}, "rater_role"),
        ({"critical_errors_seen": True}, "critical_errors_seen"),
        ({"template_utility": {"translation": 10.5}}, "utility of translation"),
        ({"template_utility": {"": 5}}, "template ids"),
        ({"stability": -1}, "stability"),
    ],
)
def test_store_refuses_bad_answers(db_url: str, change: dict[str, Any], message: str) -> None:
    """The store checks the instrument itself, for callers other than the API."""
    store = Store.open(db_url)
    store.migrate()
    try:
        values: dict[str, Any] = {"user": "dr-a", "stability": 5, "ease_of_use": 5, **change}
        with pytest.raises(ValueError, match=message):
            save_survey_answer(store, **values)
        assert get_survey_answer(store, "dr-a") is None
        saved = save_survey_answer(store, user="dr-a", stability=5, ease_of_use=6, rater_role="resident",
                                   critical_errors_seen=0, template_utility={"translation": 10})  # fmt: skip
        assert get_survey_answer(store, "dr-a") == saved
    finally:
        store.close()


def test_0008_up_and_down_keeps_ratings_and_answers(db_url: str) -> None:
    """Revision 0008 adds and removes its columns in place: no rating or survey answer is lost (a table
    rebuild on SQLite would cascade-delete the ratings with the runs table)."""
    store = Store.open(db_url)
    try:
        store.migrate()
        run = store.save_run(user="dr-a", status="ok", template_id="translation", template_version="v1")
        store.save_feedback(run_id=run.id, user="dr-a", utility=7, critical_error=False)
        save_survey_answer(store, user="dr-a", stability=6, ease_of_use=7, rater_role="resident")
        store.downgrade("0003")
        assert store.get_feedback(run.id) is not None
        store.migrate()
        assert store.get_feedback(run.id) is not None and store.get_run(run.id) is not None
        answer = get_survey_answer(store, "dr-a")
        assert answer is not None and (answer.stability, answer.rater_role) == (
            6,
            None,
        )  # the column's value went
    finally:
        store.close()
