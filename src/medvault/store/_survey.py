"""The pilot's survey instrument: stability, usability, utility per template, critical errors seen, role.

The answer lives in the `survey` table (one per user; the instrument's columns since migration 0008).
`save_survey_answer` writes the whole instrument in one upsert, so a resubmission replaces every part of
the earlier answer at once. The comment is content and follows content retention like the rest.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from medvault.store._content import ContentMixin, _score
from medvault.store._models import survey as _survey

RATER_ROLES = ("resident", "consultant")
_MAX_TEMPLATES = 200  # far more than any library; bounds what one answer can write
_MAX_ERRORS_SEEN = 100_000


@dataclass(frozen=True, slots=True)
class SurveyAnswer:
    """A user's answer to the pilot survey; fields of the instrument are None in answers from before it."""

    id: int
    user: str
    created_at: datetime
    stability: int
    ease_of_use: int
    rater_role: str | None
    critical_errors_seen: int | None
    template_utility: dict[str, int] | None
    comment: str | None


def _checked_instrument(
    rater_role: str | None, critical_errors_seen: int | None, template_utility: Mapping[str, int] | None
) -> dict[str, int] | None:
    if rater_role is not None and rater_role not in RATER_ROLES:
        raise ValueError(f"rater_role must be one of {', '.join(RATER_ROLES)}, got {rater_role!r}")
    if critical_errors_seen is not None and (
        isinstance(critical_errors_seen, bool)
        or not isinstance(critical_errors_seen, int)
        or not 0 <= critical_errors_seen <= _MAX_ERRORS_SEEN
    ):
        raise ValueError(f"critical_errors_seen must be a whole number from 0 to {_MAX_ERRORS_SEEN}")
    if template_utility is None:
        return None
    if len(template_utility) > _MAX_TEMPLATES:
        raise ValueError(f"at most {_MAX_TEMPLATES} templates per answer")
    for template_id, score in template_utility.items():
        if not isinstance(template_id, str) or not 0 < len(template_id) <= 128:
            raise ValueError("template ids are 1 to 128 characters")
        _score(f"utility of {template_id}", score)
    return dict(sorted(template_utility.items()))


def save_survey_answer(
    store: ContentMixin,
    *,
    user: str,
    stability: int,
    ease_of_use: int,
    rater_role: str | None = None,
    critical_errors_seen: int | None = None,
    template_utility: Mapping[str, int] | None = None,
    comment: str | None = None,
) -> SurveyAnswer:
    """Store a user's whole survey answer, replacing any earlier one of theirs."""
    _score("stability", stability)
    _score("ease_of_use", ease_of_use)
    utility = _checked_instrument(rater_role, critical_errors_seen, template_utility)
    now = datetime.now(UTC)
    values: dict[str, Any] = {
        "user": user, "created_at": now, "stability": stability, "ease_of_use": ease_of_use,
        "rater_role": rater_role, "critical_errors_seen": critical_errors_seen, "template_utility": utility,
        "comment": store._keep(comment),
    }  # fmt: skip
    with store._write("saving a survey answer") as conn:
        new_id = store._upsert(conn, _survey, "user", {"expires_at": store._expiry(now), **values})
    return SurveyAnswer(id=new_id, **values)


def get_survey_answer(store: ContentMixin, user: str) -> SurveyAnswer | None:
    """The user's survey answer with the instrument's fields, if any (there is at most one)."""
    with store._read("reading a survey answer") as conn:
        row = conn.execute(select(_survey).where(_survey.c.user == user)).first()
    return (
        None if row is None else SurveyAnswer(**{name: getattr(row, name) for name in SurveyAnswer.__slots__})
    )
