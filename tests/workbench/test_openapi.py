"""The OpenAPI document describes the errors the API really sends (`{"error": {...}}`), not FastAPI's
`{"detail": [...]}`, per route, and the `Idempotency-Key` header of run creation."""

from __future__ import annotations

from typing import Any

from tests.workbench.conftest import Bench

ERROR_REF = "#/components/schemas/ErrorOut"


def _schema_of(document: dict[str, Any], operation: dict[str, Any], status: str) -> dict[str, Any]:
    """The JSON schema a response of `status` declares, with a top-level $ref resolved."""
    schema: dict[str, Any] = operation["responses"][status]["content"]["application/json"]["schema"]
    if "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def test_every_route_declares_the_real_error_body(bench: Bench) -> None:
    response = bench.api().get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert (
        "HTTPValidationError" not in response.text
        and "ValidationError" not in document["components"]["schemas"]
    )
    error = document["components"]["schemas"]["ErrorOut"]
    assert error["required"] == ["error"]
    detail = document["components"]["schemas"]["ErrorDetail"]
    assert {"message", "type", "code", "param"} <= set(detail["properties"])
    operations = [
        (path, method, operation)
        for path, item in document["paths"].items()
        if path.startswith("/api/v1/")
        for method, operation in item.items()
    ]
    assert len(operations) == 8  # the workbench API's routes, all of them checked below
    for path, method, operation in operations:
        for status in ("401", "403", "422", "429", "500"):
            schema = operation["responses"][status]["content"]["application/json"]["schema"]
            assert schema == {"$ref": ERROR_REF}, (path, method, status)
        if method == "post":
            assert {"400", "413", "415"} <= set(operation["responses"]), (path, method)
        else:  # a GET has no body: no 415 is declared for it
            assert "415" not in operation["responses"], (path, method)


def test_run_creation_declares_its_conflict_its_413_and_the_idempotency_key(bench: Bench) -> None:
    document = bench.api().get("/openapi.json").json()
    create = document["paths"]["/api/v1/runs"]["post"]
    assert create["responses"]["409"]["content"]["application/json"]["schema"] == {"$ref": ERROR_REF}
    too_long = _schema_of(document, create, "413")
    detail = document["components"]["schemas"][too_long["properties"]["error"]["$ref"].rsplit("/", 1)[1]]
    assert {"message", "code", "tokens", "limit", "exact"} <= set(detail["properties"])
    assert "text/event-stream" in create["responses"]["200"]["content"]
    [header] = [p for p in create["parameters"] if p["in"] == "header"]
    assert header["name"] == "Idempotency-Key" and header["required"] is False
    assert "UUID" in header["description"]
    # Control: the header is declared where it is read, not on every route.
    listing = document["paths"]["/api/v1/runs"]["get"]
    assert all(p["in"] != "header" for p in listing.get("parameters", []))
    # A lookup declares its 404 in the error shape; the template list, which looks nothing up, does not.
    read = document["paths"]["/api/v1/runs/{run_id}"]["get"]
    assert read["responses"]["404"]["content"]["application/json"]["schema"] == {"$ref": ERROR_REF}
    assert "404" not in document["paths"]["/api/v1/templates"]["get"]["responses"]
