"""Workbench runs, feedback and survey: validation, content retention, and purge that leaves no trace."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

from medvault.errors import StoreError
from medvault.store import Store

CANARY = "CANARY-7f3a9c-Patientin-Erika-Musterfrau"


def _run(store: Store, **content: str) -> str:
    return store.save_run(
        user="dr.who", status="ok", template_id="discharge-letter", template_version="1.2", model_id="m",
        model_digest="sha256:00", latency_ms=812.5, prompt_tokens=120, completion_tokens=80,
        guard_verdict="pass", guard_counts={"numbers": 3}, **content,
    ).id  # fmt: skip


def test_run_round_trip_with_retention(content_store: Store) -> None:
    """With retention on, a run keeps its content and an expiry content_days ahead."""
    run_id = _run(content_store, input_json='{"text": "x"}', output_text="out", reasoning_text="why")
    run = content_store.get_run(run_id)
    assert run is not None
    assert (run.input_json, run.output_text, run.reasoning_text) == ('{"text": "x"}', "out", "why")
    assert run.guard_counts == {"numbers": 3} and run.template_version == "1.2"
    assert run.expires_at is not None
    assert timedelta(days=29) < run.expires_at - run.created_at <= timedelta(days=30)
    assert content_store.get_run("no-such-run") is None
    assert [r.id for r in content_store.list_runs(user="dr.who")] == [run_id]


def test_content_is_not_stored_without_retention(store: Store, db_url: str) -> None:
    """With content_days = 0 the run's text and comments never reach the database."""
    run_id = _run(store, input_json=CANARY, output_text=CANARY, reasoning_text=CANARY)
    feedback = store.save_feedback(
        run_id=run_id, user="dr.who", utility=7, critical_error=False, comment=CANARY
    )
    store.save_survey(user="dr.who", stability=8, ease_of_use=9, comment=CANARY)
    run = store.get_run(run_id)
    assert run is not None and run.output_text is None and run.expires_at is None
    assert feedback.comment is None
    engine = create_engine(db_url)
    with engine.connect() as conn:
        for table in ("runs", "feedback", "survey"):
            rows = conn.execute(text(f"SELECT * FROM {table}")).all()  # noqa: S608 (fixed table names)
            assert rows and not any(CANARY in str(cell) for row in rows for cell in row)
    engine.dispose()


def test_feedback_copies_the_run_and_validates(content_store: Store) -> None:
    """Feedback takes template and model from its run; bad scores, categories and run ids are refused."""
    run_id = _run(content_store)
    fb = content_store.save_feedback(
        run_id=run_id, user="dr.who", utility=3, critical_error=True, categories=["negation", "laterality"],
        comment="left/right swapped",
    )  # fmt: skip
    assert (fb.template_id, fb.model_digest, fb.categories) == (
        "discharge-letter",
        "sha256:00",
        ["laterality", "negation"],
    )
    assert content_store.list_feedback()[0] == fb
    with pytest.raises(ValueError, match="utility"):
        content_store.save_feedback(run_id=run_id, user="u", utility=11, critical_error=False)
    with pytest.raises(ValueError, match="categories"):
        content_store.save_feedback(
            run_id=run_id, user="u", utility=5, critical_error=False, categories=["typo"]
        )
    with pytest.raises(StoreError, match="no run"):
        content_store.save_feedback(run_id="missing", user="u", utility=5, critical_error=False)


def test_survey_validation(store: Store) -> None:
    """Survey scores are whole numbers from 0 to 10."""
    assert store.save_survey(user="u", stability=0, ease_of_use=10).id > 0
    with pytest.raises(ValueError, match="stability"):
        store.save_survey(user="u", stability=-1, ease_of_use=5)
    with pytest.raises(ValueError, match="ease_of_use"):
        store.save_survey(user="u", stability=1, ease_of_use=True)  # type: ignore[arg-type]


def _database_files(request: pytest.FixtureRequest, db_url: str) -> list[Path]:
    """Every file that holds table data: SQLite's db, WAL and shm, or PostgreSQL's relation files."""
    if db_url.startswith("sqlite"):
        db = Path(make_url(db_url).database or "")
        return [p for p in db.parent.iterdir() if p.name.startswith(db.name)]
    cluster = request.getfixturevalue("pg_cluster")
    cluster.admin("CHECKPOINT")  # shared buffers out to the files, so the scan sees what the server holds
    return [p for p in (cluster.data_dir / "base").rglob("*") if p.is_file()]


def _canary_in_files(files: list[Path]) -> bool:
    return any(CANARY.encode() in path.read_bytes() for path in files if path.exists())


def test_purge_removes_expired_content_from_the_files(
    content_store: Store, db_url: str, request: pytest.FixtureRequest
) -> None:
    """After purge_expired the canary cannot be found in any byte of the database files."""
    run_id = _run(content_store, input_json=CANARY, output_text=CANARY, reasoning_text=CANARY)
    content_store.save_feedback(run_id=run_id, user="u", utility=5, critical_error=False, comment=CANARY)
    content_store.save_survey(user="u", stability=5, ease_of_use=5, comment=CANARY)
    assert _canary_in_files(_database_files(request, db_url)), "the test must see the canary before purging"
    assert content_store.purge_expired() == 0
    assert content_store.purge_expired(now=datetime.now(UTC) + timedelta(days=31)) == 3
    run = content_store.get_run(run_id)
    assert (
        run is not None and run.input_json is None and run.output_text is None and run.reasoning_text is None
    )
    assert run.guard_verdict == "pass"  # metadata stays for the pilot analytics
    assert content_store.list_feedback()[0].comment is None
    assert not _canary_in_files(_database_files(request, db_url))


def test_a_second_rating_of_a_run_replaces_the_first(content_store: Store) -> None:
    """A run has at most one rating: saving again overwrites it in place, comment and expiry included."""
    run_id = _run(content_store)
    first = content_store.save_feedback(
        run_id=run_id, user="dr.who", utility=8, critical_error=False, comment="fine"
    )
    second = content_store.save_feedback(
        run_id=run_id, user="dr.who", utility=2, critical_error=True, categories=["omission"]
    )
    assert second.id == first.id
    assert content_store.list_feedback() == [second]
    assert content_store.get_feedback(run_id) == second and second.comment is None
    assert content_store.get_feedback("no-such-run") is None


def test_a_second_survey_answer_replaces_the_first(store: Store) -> None:
    """Each user has at most one survey answer; other users' answers are untouched."""
    first = store.save_survey(user="u", stability=3, ease_of_use=4)
    other = store.save_survey(user="v", stability=9, ease_of_use=9)
    again = store.save_survey(user="u", stability=7, ease_of_use=6)
    assert again.id == first.id != other.id
    answer = store.get_survey("u")
    assert answer is not None and (answer.stability, answer.ease_of_use) == (7, 6)
    assert store.get_survey("nobody") is None


def test_user_stamp_changes_with_password_role_and_disabling(store: Store) -> None:
    """The stamp a session rests on changes when the password is set, and is None once disabled."""
    store.create_user("dr.who", "a long enough password", "clinician")
    stamp = store.user_stamp("dr.who")
    assert stamp is not None and store.user_stamp("dr.who") == stamp
    store.set_password("dr.who", "a long enough password")  # the same password, a new salted hash
    changed = store.user_stamp("dr.who")
    assert changed not in (None, stamp)
    store.set_disabled("dr.who", True)
    assert store.user_stamp("dr.who") is None and store.user_stamp("nobody") is None
