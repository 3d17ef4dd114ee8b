"""The HTTP API and the NATS contracts describe the same commands, field by field: every command of
the services has an HTTP operation (but those the services issue themselves), every field of a
command is in the operation's path, its body or set by the route, and each field's limits in
docs/openapi.json are exactly those of docs/asyncapi/<service>.json."""
import json
from pathlib import Path

import pytest

from shared.commands import delivery, gateway, lockdown, registry, roster
from services.gateway.entrypoints.operations import OPERATIONS
from services.gateway.entrypoints.routing import ENVELOPE, Operation, body_model, command_fields

ROOT = Path(__file__).resolve().parents[2]
OPENAPI = json.loads((ROOT / "docs" / "openapi.json").read_text())
ASYNCAPI = {s: json.loads((ROOT / "docs" / "asyncapi" / f"{s}.json").read_text())
            for s in ("registry", "lockdown", "delivery", "roster", "gateway")}
# issued by the services themselves, or carrying sealed personal data only an import produces
NOT_OVER_HTTP = {"advance_phase", "lend_duty_person", "register_resident"}
DESCRIPTIVE = {"title", "description", "examples"}


def resolve(doc: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def body_of(document: dict) -> dict:
    """The request body's object schema (an optional body is `anyOf: [object, null]`)."""
    schema = resolve(OPENAPI, document["requestBody"]["content"]["application/json"]["schema"])
    for option in schema.get("anyOf", ()):
        if option.get("type") != "null":
            return resolve(OPENAPI, option)
    return schema


def limits(doc: dict, schema: dict) -> object:
    """A schema without its words, every reference followed: what a value must be."""
    schema = resolve(doc, schema)
    if isinstance(schema, dict):
        return {k: ([limits(doc, v) for v in value] if isinstance(value, list) and k in ("anyOf", "allOf", "oneOf")
                    else limits(doc, value) if isinstance(value, dict) and k in ("items", "additionalProperties")
                    else {n: limits(doc, p) for n, p in value.items()} if k == "properties" else value)
                for k, value in schema.items() if k not in DESCRIPTIVE and not (k == "default" and value is None)}
    return schema


def operation_doc(op: Operation) -> dict:
    return OPENAPI["paths"]["/api/v1" + op.path]["post"]


def command_schema(op: Operation) -> dict:
    return resolve(ASYNCAPI[op.service], {"$ref": f"#/components/schemas/{op.command.__name__}"})


def test_every_command_a_person_gives_has_an_http_operation():
    sent = {op.command.model_fields["name"].default for op in OPERATIONS}
    every = {name for module in (delivery, gateway, lockdown, registry, roster) for name in module.COMMANDS}
    assert every - NOT_OVER_HTTP - sent == set()


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.operation_id)
def test_every_field_of_the_command_is_in_the_path_the_body_or_set_by_the_route(op):
    body = set((op.body or body_model(op)).model_fields) if (op.body or command_fields(op)) else set()
    assert set(op.command.model_fields) - ENVELOPE - set(op.path_params) - set(op.fixed) - op.hidden - body == set()


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.operation_id)
def test_each_body_field_has_the_limits_of_the_command_field_on_the_bus(op):
    document = operation_doc(op)
    command = command_schema(op)
    if op.body is None and command_fields(op):
        body = body_of(document)
        for name, schema in body["properties"].items():
            assert limits(OPENAPI, schema) == limits(ASYNCAPI[op.service], command["properties"][name]), name
        assert set(body.get("required", ())) == set(command.get("required", ())) & set(body["properties"])
    for param in document.get("parameters", ()):
        if param["in"] == "path" and param["name"] in command["properties"]:
            on_bus = resolve(ASYNCAPI[op.service], command["properties"][param["name"]])
            for key in ("minLength", "maxLength", "pattern"):
                assert param["schema"].get(key) == on_bus.get(key), (param["name"], key)


def test_the_comparison_sees_a_limit_that_differs():
    one = {"type": "string", "maxLength": 20, "title": "A"}
    other = {"type": "string", "maxLength": 21, "title": "A"}
    assert limits(OPENAPI, one) != limits(OPENAPI, other)
    assert limits(OPENAPI, one) == limits(OPENAPI, {**one, "description": "words only"})


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.operation_id)
def test_every_operation_has_an_id_a_service_tag_and_an_example(op):
    document = operation_doc(op)
    assert document["operationId"] == op.operation_id and document["tags"] == [op.service]
    if "requestBody" in document:
        body = body_of(document)
        assert body.get("examples"), op.operation_id
        model = op.body or body_model(op)
        for example in body["examples"]:
            model.model_validate(example)  # an example that would be refused teaches nothing
