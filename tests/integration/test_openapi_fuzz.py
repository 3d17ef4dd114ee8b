"""Schemathesis against the gateway on real servers, over HTTP, signed in as a committee cadre with
the CSRF header: every operation of the document the gateway serves, positive and negative inputs,
and every answer must be no server error and exactly what the document declares (status, content
type, schema). Another test plants a 500 behind one extra route and shows the same fuzzing reports it.

The committee and compound in the paths are the seeded ones (past the reach check); a building or a
round is the seeded one most of the time and anything else otherwise. Reproducible: Hypothesis is
derandomized, so a failure here fails again the same way."""
from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter

import hypothesis
import pytest
import requests
import schemathesis
from fastapi import Query
from hypothesis import HealthCheck, Phase, given
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup, ServerError
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)

from services.gateway.entrypoints.app import create_app
from services.gateway.entrypoints.common import ERRORS, C, Who
from services.gateway.entrypoints.document import openapi_document
from tests.support.http_gateway import Served, served_gateway
from tests.support.servers import new_tenant

pytestmark = pytest.mark.integration

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
MAX_EXAMPLES = 25  # generated cases per operation, beside the examples and the coverage phase's boundary values
SETTINGS = hypothesis.settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
                               suppress_health_check=list(HealthCheck),
                               phases=(Phase.explicit, Phase.generate, Phase.shrink))
# the seeded committee, known before the tests are collected (schemathesis fixes path values then)
TENANT, COMPOUND, BUILDING, ROUND = new_tenant(), "c1", "41", "r1"
TOWN = "town" + TENANT[1:7]
PLANTED = "/api/v1" + C + "/planted"
ANSWERS: Counter = Counter()  # (operation, status) → calls, printed at the end (pytest -s)


def config() -> schemathesis.Config:
    return schemathesis.Config.from_dict({
        "seed": 1,
        "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "deterministic": True},
        "phases": {"stateful": {"enabled": False}},
        "checks": {"enabled": False, **{check.__name__: {"enabled": True} for check in CHECKS}},
        "dictionaries": {"buildings": {"values": [BUILDING]}, "rounds": {"values": [ROUND]}},
        "parameters": {"path.tenant": TENANT, "path.compound": COMPOUND, "path.town": TOWN,
                       "path.building": {"dictionary": "buildings", "probability": 0.7},
                       "path.round_id": {"dictionary": "rounds", "probability": 0.7}},
    })


def with_planted_bug(ctx, stop):
    """The gateway's own app, with one more route that fails on any label outside ASCII."""
    app = create_app(ctx, stop)

    @app.get(PLANTED, operation_id="plantedBug", responses=ERRORS)
    async def planted_bug(tenant: str, compound: str, who: Who,
                          label: str = Query(min_length=1, max_length=40)) -> dict[str, str]:
        return {"label": label.encode("ascii").decode()}

    return app


DOCUMENT = json.loads(json.dumps(openapi_document()))
schema = schemathesis.openapi.from_dict(DOCUMENT, config=config())


@pytest.fixture(scope="module")
def served(platform, tmp_path_factory):
    planted = {"planted": lambda gateway: with_planted_bug(gateway.app.state.ctx, gateway.stop)}
    with served_gateway(platform, tmp_path_factory.mktemp("secrets"), planted, tenant=TENANT, town=TOWN) as running:
        assert (running.building, running.round_id) == (BUILDING, ROUND)
        started = time.monotonic()
        yield running
        statuses = Counter()
        for (_, status), calls in ANSWERS.items():
            statuses[status] += calls
        print(f"\nschemathesis: {sum(ANSWERS.values())} calls on {len({op for op, _ in ANSWERS})} operations in "
              f"{time.monotonic() - started:.0f} s; by status {dict(sorted(statuses.items()))}", file=sys.stderr)


@pytest.fixture(scope="module")
def http():
    with requests.Session() as session:
        yield session


def call(case, served: Served, http: requests.Session, url: str | None = None) -> None:
    response = case.call(base_url=url or served.url, session=http, headers=served.signed_in)
    ANSWERS[(case.operation.label, response.status_code)] += 1
    case.validate_response(response, checks=CHECKS, headers=served.signed_in)


def test_the_fuzzed_document_is_the_one_the_gateway_serves(served, http):
    assert http.get(served.url + "/openapi.json").json() == DOCUMENT


@schema.parametrize()
@SETTINGS
def test_every_generated_request_gets_an_answer_the_document_declares(case, served, http):
    call(case, served, http)


def test_the_fuzzing_reports_a_planted_server_error(served, http):
    document = json.loads(json.dumps(with_planted_bug(None, asyncio.Event()).openapi()))
    operation = schemathesis.openapi.from_dict(document, config=config()).find_operation_by_label(f"GET {PLANTED}")
    assert operation is not None

    @given(case=operation.as_strategy())
    @SETTINGS
    def fuzz(case):
        call(case, served, http, served.extra_urls["planted"])

    with pytest.raises(FailureGroup) as caught:
        fuzz()
    assert any(isinstance(failure, ServerError) and failure.status_code == 500 for failure in caught.value.exceptions)
