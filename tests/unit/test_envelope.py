"""The CloudEvents envelope and upcasting, without a server."""
from datetime import datetime, timezone

import orjson
import pytest

from shared.eventlog.envelope import Event, Metadata, UndecodableEvent, decode, encode, register, upcaster
from shared.eventlog.subjects import AggregateSubject, InvalidToken, events_filter
from shared.logging import scrub_personal_data

SUBJECT = AggregateSubject.make("yinghuayuan", "yinghuayuan", "testsvc", "thing", "t1")


@register
class ThingNamed(Event):
    """A thing got a name (v2 split the name in two)."""

    service = "testsvc"
    aggregate = "thing"
    version = 2
    family: str
    given: str


@upcaster("louzu.testsvc.ThingNamed", 1)
def _split_name(body: dict) -> dict:
    return {"family": body["name"][0], "given": body["name"][1:]}


def test_an_event_round_trips_through_headers_and_body():
    headers, body = encode(SUBJECT, ThingNamed(family="袁", given="廷海"), Metadata("cmd-1", "corr"), 0,
                           datetime(2022, 3, 23, tzinfo=timezone.utc))
    recorded = decode(7, str(SUBJECT), headers, body)
    assert recorded.event == ThingNamed(family="袁", given="廷海")
    assert (recorded.seq, recorded.command_id, recorded.correlation_id) == (7, "cmd-1", "corr")
    assert headers["ce-type"] == "louzu.testsvc.ThingNamed.v2" and headers["ce-time"] == "2022-03-23T00:00:00Z"


def test_an_old_version_is_upcast_on_read():
    headers, _ = encode(SUBJECT, ThingNamed(family="x", given="y"), Metadata("cmd-1"), 0)
    headers["ce-type"] = "louzu.testsvc.ThingNamed.v1"
    recorded = decode(1, str(SUBJECT), headers, orjson.dumps({"name": "高莹"}))
    assert recorded.event == ThingNamed(family="高", given="莹")


def test_a_version_newer_than_the_code_is_undecodable_not_guessed():
    headers, body = encode(SUBJECT, ThingNamed(family="x", given="y"), Metadata("cmd-1"), 0)
    headers["ce-type"] = "louzu.testsvc.ThingNamed.v9"
    with pytest.raises(UndecodableEvent, match="newer"):
        decode(1, str(SUBJECT), headers, body)


def test_a_bad_body_is_undecodable_and_the_reason_does_not_echo_the_value():
    headers, _ = encode(SUBJECT, ThingNamed(family="x", given="y"), Metadata("cmd-1"), 0)
    with pytest.raises(UndecodableEvent) as caught:
        decode(1, str(SUBJECT), headers, orjson.dumps({"family": "13812345678"}))
    assert "13812345678" not in str(caught.value) and "given" in str(caught.value)


def test_ids_are_deterministic_per_command_so_a_retry_reuses_them():
    a, _ = encode(SUBJECT, ThingNamed(family="x", given="y"), Metadata("cmd-1"), 0)
    b, _ = encode(SUBJECT, ThingNamed(family="x", given="y"), Metadata("cmd-1"), 0)
    c, _ = encode(SUBJECT, ThingNamed(family="x", given="y"), Metadata("cmd-1"), 1)
    assert a["ce-id"] == b["ce-id"] != c["ce-id"]


def test_subjects_carry_tenant_and_compound_tokens_and_refuse_bad_ones():
    assert str(SUBJECT) == "louzu.evt.yinghuayuan.yinghuayuan.testsvc.thing.t1"
    assert events_filter(tenant="yinghuayuan") == "louzu.evt.yinghuayuan.*.*.*.*"
    with pytest.raises(InvalidToken):
        AggregateSubject.make("ying.huayuan", "c", "s", "a", "1")


def test_the_log_scrubber_removes_id_numbers_and_phones_that_slip_into_a_log_line():
    line = scrub_personal_data(None, "info", {"event": "x 310107195001010012 y 13812345678", "n": 5})
    assert line == {"event": "x [id-number] y [phone]", "n": 5}
