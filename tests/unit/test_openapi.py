"""The committed OpenAPI document is what the gateway serves, and every operation the consoles and
tools rely on keeps its stable operationId."""
from pathlib import Path

from services.gateway.entrypoints.document import openapi_document, render

ROOT = Path(__file__).resolve().parents[2]
REQUIRED = {"sealBuilding", "extendSealing", "releaseBuilding", "getBuildingRoster", "reportResident",
            "scheduleTestingRound", "checkOffSample", "listUnsampled", "closeTestingRound", "recordGatePass",
            "requestDelivery", "assignDelivery", "completeDelivery", "getDeliveryQueue", "getRota",
            "getTownOverview", "importResidents"}


def operations(doc: dict) -> dict[str, dict]:
    return {op["operationId"]: op for item in doc["paths"].values() for op in item.values() if "operationId" in op}


def test_the_committed_openapi_document_is_what_the_code_serves():
    committed = (ROOT / "docs" / "openapi.json").read_text()
    assert committed == render(openapi_document()), (
        "docs/openapi.json is stale: python -m services.gateway.entrypoints.document > docs/openapi.json")


def test_every_required_operation_has_its_stable_operation_id():
    assert REQUIRED <= set(operations(openapi_document()))


def test_every_error_of_every_operation_is_documented_as_problem_details():
    doc = openapi_document()
    assert "ProblemDetails" in doc["components"]["schemas"]
    assert not {"HTTPValidationError", "ValidationError"} & set(doc["components"]["schemas"])
    for name, op in operations(doc).items():
        errors = {code: r for code, r in op["responses"].items() if code.startswith(("4", "5"))}
        assert errors, name
        for code, response in errors.items():
            assert response["content"] == {"application/problem+json": {"schema": {
                "$ref": "#/components/schemas/ProblemDetails"}}}, (name, code)  # what the handlers really send
            assert response["description"], (name, code)


def test_every_operation_declares_413_and_every_body_400_and_422():
    for name, op in operations(openapi_document()).items():
        assert "413" in op["responses"], name  # the body limit answers any request
        if "requestBody" in op:
            assert {"400", "422"} <= set(op["responses"]), name


def test_signed_in_operations_declare_401_and_state_changing_ones_403():
    for name, op in operations(doc := openapi_document()).items():
        if name in ("signIn", "signOut"):
            continue
        assert "401" in op["responses"], name
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method != "get" and op["operationId"] not in ("signIn", "signOut"):
                assert "403" in op["responses"], op["operationId"]  # the CSRF check
    assert {"401", "429"} <= set(operations(doc)["signIn"]["responses"])


def test_500_is_never_declared_as_an_answer():
    for name, op in operations(openapi_document()).items():
        assert "500" not in op["responses"], name  # a 500 is a bug, not a documented answer
