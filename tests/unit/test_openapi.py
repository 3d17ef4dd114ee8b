"""The committed OpenAPI document is what the gateway serves, and every operation the consoles and
tools rely on keeps its stable operationId."""
from pathlib import Path

from services.gateway.entrypoints.openapi import openapi_document, render

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
        "docs/openapi.json is stale: python -m services.gateway.entrypoints.openapi > docs/openapi.json")


def test_every_required_operation_has_its_stable_operation_id():
    assert REQUIRED <= set(operations(openapi_document()))


def test_every_operation_documents_problem_details_for_its_errors():
    for name, op in operations(openapi_document()).items():
        errors = {code: r for code, r in op["responses"].items() if code.startswith(("4", "5"))}
        assert errors, name
        for response in errors.values():
            if "content" in response:
                schema = next(iter(response["content"].values()))["schema"]
                assert schema.get("$ref", "").endswith("ProblemDetails"), name  # what the handlers really send
