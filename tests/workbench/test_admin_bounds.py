"""Integers in query strings are bounded before they reach the database: a number past what a database
integer holds is the client's mistake (400 in the page's own format, or the API's 422), never a 500."""

from __future__ import annotations

import pytest

from medvault.store import ID_MAX, Role
from medvault.workbench._admin import query_int
from tests.workbench.conftest import PASSWORD, Bench

AUDIT = "/workbench/admin/audit"


@pytest.mark.parametrize(
    ("given", "value"),
    [("0", 0), ("17", 17), (str(ID_MAX), ID_MAX), (str(ID_MAX + 1), None), ("9" * 4000, None),
     ("-1", None), ("1e3", None), ("²", None), ("١٢", None), (" 1", None)],
)  # fmt: skip
def test_query_int_takes_whole_numbers_a_database_integer_holds(given: str, value: int | None) -> None:
    assert query_int(given) == value


def test_audit_page_answers_a_huge_or_malformed_before_with_a_400_page(bench: Bench) -> None:
    """`before` past 2**63-1, or not a number, is a 400 HTML page saying what it takes, audited as such;
    the controls, the largest allowed value and no value, show the trail."""
    bench.store.create_user("audrey", PASSWORD, Role.AUDITOR)
    auditor, _ = bench.sign_in("audrey")
    for given in ("99999999999999999999999", "abc", "²"):
        refused = auditor.get(AUDIT, params={"before": given, "lang": "en"})
        assert refused.status_code == 400, (given, refused.text[:200])
        assert refused.headers["content-type"].startswith("text/html")
        assert "must be a whole number from 0 to 9223372036854775807" in refused.text
    largest = auditor.get(AUDIT, params={"before": str(ID_MAX)})
    assert largest.status_code == 200 and 'id="admin-audit"' in largest.text
    assert auditor.get(AUDIT).status_code == 200
    views = [(e["status"], e["detail"].get("reason")) for e in bench.audit() if e["action"] == "admin.audit"]
    assert views == [(400, "before")] * 3 + [(200, None)] * 2


def test_api_limit_past_int64_is_a_422_not_a_500(bench: Bench) -> None:
    """The API's one integer query parameter is bounded by its schema (1..100): a huge one is a 422 naming
    it; the control, a small one, lists."""
    client = bench.api()
    huge = client.get("/api/v1/runs", params={"limit": "99999999999999999999999"})
    assert huge.status_code == 422 and huge.json()["error"]["param"] == "limit"
    assert client.get("/api/v1/runs", params={"limit": "5"}).status_code == 200
