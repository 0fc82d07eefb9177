"""Clause group 1: schema conformance (schemathesis, from contracts/openapi.yaml) and auth.

Positive cases hit real data: the project id is the target's and sample/block ids are mapped
onto ones the listing holds, so the documented success bodies are what gets validated.
Negative cases must get the failure envelope, in either convention (4xx, or 200 with
success false). Auth goes through a schema-wide auth provider, never per-call headers: a
per-call header would put the key back on negative cases that drop it (a false ST201).
"""

from __future__ import annotations

import zlib
from typing import Any

import httpx
import pytest
import schemathesis
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation.meta import CoveragePhaseData, CoverageScenario
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
)

from eicontract import contract
from eicontract.drive.evidence import judged
from eicontract.http.client import Exchange
from eicontract.http.guard import operation_of
from eicontract.http.pagelimit import PageLimit
from eicontract.oracles.envelope import check_failure, check_key_not_echoed, check_success_envelope
from eicontract.oracles.options import may_be_refused
from eicontract.pytest.fixtures import Target
from eicontract.reporting.record import EXAMPLE_REPR, Recorder
from eicontract.settings import Settings
from eicontract.suite.dataset import Dataset
from eicontract.violations import Violation, expect_no_violations


def _unknown_query_parameter(mutation: Any) -> bool:
    return (mutation.parameter_location == ParameterLocation.QUERY and mutation.parameter is None
            and set(mutation.keywords) == {"additionalProperties"})


def _claims_nothing(case: Any) -> bool:
    """Negative cases the contract does not forbid: unknown query parameters, or a repeated one.
    The documents never say a server must reject them, and real APIs ignore them."""
    data = getattr(getattr(case.meta, "phase", None), "data", None)
    if isinstance(data, CoveragePhaseData):
        if data.scenario == CoverageScenario.DUPLICATE_PARAMETER:
            return True
        if data.scenario == CoverageScenario.OBJECT_UNEXPECTED_PROPERTIES and data.parameter is None:
            return True
    mutations = getattr(data, "mutations", ()) or ()
    if mutations:
        return all(_unknown_query_parameter(m) for m in mutations)
    description = str(getattr(data, "description", "") or "")
    return (getattr(data, "parameter", None) is None and "additionalProperties" in description
            and getattr(data, "parameter_location", None) in (None, ParameterLocation.QUERY))


def _really_negative(case: Any) -> bool:
    """Schemathesis marks which parts it mutated; a 'negative' case with none is valid on the wire."""
    components = getattr(case.meta, "components", None) or {}
    mutated = any(info.mode == GenerationMode.NEGATIVE for info in components.values())
    return mutated and not _claims_nothing(case)


def _configure(schema: Any, mode: GenerationMode, settings: Settings) -> None:
    schema.config.seed = settings.seed
    schema.config.generation.update(modes=[mode], max_examples=settings.profile.schema_examples,
                                    database="none")
    # the examples phase sends the documented (valid) examples: meaningless in negative mode
    phases = ["coverage", "fuzzing"] if settings.profile.name == "thorough" else ["fuzzing"]
    if mode == GenerationMode.POSITIVE:
        phases.insert(0, "examples")
    schema.config.phases.update(phases=phases)

    @schema.auth()
    class ApiKey:
        def get(self, case: Any, ctx: Any) -> str:
            return settings.api_key

        def set(self, case: Any, data: str, ctx: Any) -> None:
            case.headers = {**(case.headers or {}), "x-api-key": data}


# The run's settings are not known when this module is imported: the suite's conftest hands them
# to configure() at collection, before schemathesis turns the two tests below into items.
POSITIVE = schemathesis.openapi.from_dict(contract.bundled_openapi())
NEGATIVE = schemathesis.openapi.from_dict(contract.bundled_openapi())


def configure(settings: Settings) -> None:
    """Seed both schemas with the run's settings (seed, examples, phases, the key's auth)."""
    _configure(POSITIVE, GenerationMode.POSITIVE, settings)
    _configure(NEGATIVE, GenerationMode.NEGATIVE, settings)


def _envelope_violations(response: Any, *, negative: bool) -> list[Violation]:
    try:
        body = response.json()
    except ValueError:
        body = None
    status = response.status_code
    if negative:
        return check_failure(body, status, clause_id="SCHEMA-NEGATIVE")
    if 200 <= status < 300 and isinstance(body, dict) and body.get("success") is True:
        return check_success_envelope(body)
    if status >= 400 or (isinstance(body, dict) and body.get("success") is False):
        return [v for v in check_failure(body, status) if v.clause == "ENVELOPE-ERROR"]
    return []


# Ids a positive case sends as drawn (no real one to map them to): they may not exist, and an
# unknown id may be answered 404 or 400 alike (docs/CLAIMS.md decision.unknown-ids).
_UNMAPPED_IDS = (("path", "jobId"), ("query", "impulseId"))


def _may_name_unknown_ids(case: Any, learned: PageLimit) -> bool:
    """Also valid data a server may refuse by a reading: a documented variant the project may
    lack (decision.akida-refused), any dataType (reading.data-type), a number past 64 bits
    (decision.huge-integers), an offset past int32, or a limit above the largest the target
    answered, or a page larger or reaching farther than any it answered (`learned`: the documents
    name no maximum, nor a window; decision.large-limit-offset). Its refusal is a failure
    envelope, not a rejection of valid data."""
    parts = {"path": case.path_parameters or {}, "query": case.query or {}}
    bound = learned.answered + 1
    return (any(name in parts[where] for where, name in _UNMAPPED_IDS)
            or may_be_refused(parts["query"])
            or _past_answered_pages(parts["query"], learned)
            or any(_past(value, bound if name == "limit" else 2**31 if name == "offset" else 2**63)
                   for part in parts.values() for name, values in part.items() for value in _each(values)))


def _past_answered_pages(query: dict[str, Any], learned: PageLimit) -> bool:
    """A page (limit and offset as integers; a missing offset is 0, a missing limit counts as the
    smallest page: its default size is the server's) no answered page covers: as large and
    reaching as far (a window of the server's may refuse it)."""
    limits, offsets = _each(query.get("limit")) or ["1"], _each(query.get("offset")) or ["0"]
    if len(limits) != 1 or len(offsets) != 1 or not (limits[0].isdigit() and offsets[0].isdigit()):
        return False
    return not learned.answers(int(offsets[0]), int(limits[0]))


def _each(value: object) -> list[str]:
    """A parameter's values as text: a repeated one (the coverage phase sends them) is a list."""
    return [str(v) for v in value] if isinstance(value, list | tuple) else [] if value is None else [str(value)]


def _past(value: object, bound: int) -> bool:
    """A number (or its text) of magnitude at least bound."""
    try:
        return abs(float(str(value))) >= bound
    except (ValueError, OverflowError):
        return False


def _status_violations(status: int, clause: str) -> list[Violation]:
    """claims row reading.failure-status: 200 (the only status the published spec declares), or a
    failure with any 4xx; anything else (1xx, 3xx, another 2xx) is no reading. 5xx: not_a_server_error."""
    if status == 200 or 400 <= status < 600:
        return []
    return [Violation(clause, f"HTTP {status}: the published spec declares only 200, and a failure "
                              f"may come with a 4xx")]


def _checks(negative: bool, error_style: str, unknown_ids: bool = False) -> list[Any]:
    # No status_code_conformance: the bundled contract's 400/401/404 are one server's choice
    # (API-FACTS: the published spec declares only 200); _status_violations judges the status.
    checks = [not_a_server_error, content_type_conformance, response_schema_conformance]
    # with failures as HTTP 200, status-based acceptance checks don't apply; nor do they to valid
    # data naming an id that may not exist (a 400 for it is a failure envelope, not a rejection)
    if error_style == "http" and (negative or not unknown_ids):
        checks.append(negative_data_rejection if negative else positive_data_acceptance)
    return checks


def _url(case: Any, target: Target) -> str:
    """The case's full URL, with its query (not redacted)."""
    kwargs = case.as_transport_kwargs(base_url=target.url)
    return str(httpx.URL(kwargs["url"], params=kwargs.get("params") or {}))


def _exchange(case: Any, target: Target, response: Any) -> Exchange:
    """The case as sent and what came back, as the evidence of its violations (the reports make
    it a curl line with the key as $EI_API_KEY; schemathesis' own masks it as [Filtered])."""
    kwargs = case.as_transport_kwargs(base_url=target.url)
    url = target.client.redactor.text(_url(case, target))
    sent = (kwargs.get("headers") or {}).get("x-api-key")
    sent_key = "missing" if sent is None else ("valid" if sent == target.settings.api_key else "wrong")
    method = str(kwargs["method"]).upper()
    if response is None:
        return Exchange(method, url, None, None, error="no answer", sent_key=sent_key)
    try:
        body = target.client.redactor.data(response.json())
    except ValueError:
        body = None
    text = "" if body is not None else target.client.redactor.text(response.text)[:2000]
    return Exchange(method, url, response.status_code, body, text, sent_key=sent_key)


def _call(case: Any, target: Target, recorder: Recorder, *, negative: bool, clause: str) -> None:
    if operation_of(case.method, case.formatted_path) is None:
        return  # a probe of an undocumented method or path: never sent, a live API gets only the contract's calls
    # hypothesis calls the test last with the minimal failing case: the report's minimal example
    recorder.example = {"case": repr(case)[:EXAMPLE_REPR]}
    style = target.settings.error_style if target.embedded else "body"  # a live server: either convention
    violations: list[Violation] = []
    # the same classify sent before may be refused by a reading: its job may still run or have failed
    may_refuse = (_may_name_unknown_ids(case, target.client.page_limit)
                  or target.client.classified.sent_before(case.method, _url(case, target)))
    try:
        response = case.call(base_url=target.url, session=target.session)  # the session sets the run's timeouts
    except Exception as exc:  # a transport failure (reset, timeout): evidence, not a crash
        response = None
        violations.append(Violation(clause, f"no answer: {type(exc).__name__}: {exc}"))
    if response is not None:
        try:
            case.validate_response(response, checks=_checks(negative, style, may_refuse))
        except FailureGroup as group:
            violations += [Violation(clause, f"{f.title}: {f.message}") for f in group.exceptions]
        except AssertionError as failure:  # a single failed check
            violations.append(Violation(clause, str(failure)))
        # the envelope is judged on the same reply, whatever schemathesis found
        violations += _status_violations(response.status_code, clause)
        violations += _envelope_violations(response, negative=negative)
        violations += check_key_not_echoed(target.client.redactor.echoed_in(response.text), "this reply")
    expect_no_violations(judged(_exchange(case, target, response), violations) if violations else [])


def _use_real_ids(case: Any, target: Target, ids: dict[str, list[int]]) -> None:
    params = case.path_parameters or {}
    if "projectId" in params:
        params["projectId"] = target.settings.project_id
    for name, known in ids.items():
        if name in params and known:
            # crc32, not hash(): str hashes are salted per process, and a red gate must replay
            params[name] = known[zlib.crc32(str(params[name]).encode()) % len(known)]


@pytest.mark.clause("SCHEMA-RESPONSE", "ENVELOPE-ERROR", "SECRET-ECHO")
@POSITIVE.parametrize()
def test_positive_data_gets_conforming_bodies(case: Any, target: Target, dataset: Dataset,
                                              ei_recorder: Recorder) -> None:
    _use_real_ids(case, target, {"sampleId": dataset.classify_ids, "blockId": sorted(dataset.blocks)})
    _call(case, target, ei_recorder, negative=False, clause="SCHEMA-RESPONSE")


@pytest.mark.clause("SCHEMA-NEGATIVE", "ENVELOPE-ERROR", "SECRET-ECHO")
@NEGATIVE.parametrize()
def test_negative_data_gets_the_failure_envelope(case: Any, target: Target, ei_recorder: Recorder) -> None:
    if not _really_negative(case):
        return  # nothing invalid was sent: no claim to check (hypothesis still counts the example)
    _call(case, target, ei_recorder, negative=True, clause="SCHEMA-NEGATIVE")
