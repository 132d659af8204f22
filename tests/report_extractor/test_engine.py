"""The engine: prompts, repair-once, statuses, provenance; and the backend registry."""

from __future__ import annotations

import json

import pytest

from report_extractor.backends import Completion, CompletionRequest, Failure, create_backend
from report_extractor.backends.fake import FakeBackend
from report_extractor.engine import Extractor, ReportInput, validate_report
from report_extractor.errors import BackendUnavailableError, ConfigurationError, InputError
from report_extractor.prompting import PROMPT_VERSION, PromptBuilder, system_prompt, worked_examples
from schemas.records import ExtractionStatus

GOOD = json.dumps(
    {
        "organs": [{"organ": "pancreas", "status": "lesion", "count": 1}],
        "lesions": [
            {
                "organ": "pancreas",
                "pancreas_parts": ["head"],
                "diameters": [12],
                "unit": "mm",
                "quote": "12 mm mass in the pancreatic head",
            }
        ],
    }
)
TEXT = "IMPRESSION: 12 mm mass in the pancreatic head."


class PromptedFake(FakeBackend):
    """A fake that behaves like an LLM backend (gets prompts, allows the repair retry)."""

    name = "prompted-fake"
    uses_prompt = True


def test_registry_lists_and_builds_backends() -> None:
    backend = create_backend("fake")
    assert isinstance(backend, FakeBackend)
    with pytest.raises(ConfigurationError, match=r"backend: unknown backend 'nope'; choose one of \["):
        create_backend("nope")


def test_lazy_backend_with_missing_dependency_says_how_to_install() -> None:
    from report_extractor.backends import register_lazy_backend

    register_lazy_backend("needs-missing", "a_module_that_is_not_installed", "X")
    with pytest.raises(BackendUnavailableError, match=r"pip install 'rsuper\[needs-missing\]'"):
        create_backend("needs-missing")


@pytest.mark.parametrize(
    ("report", "message"),
    [
        pytest.param(ReportInput("r", "   "), "text: report text is empty", id="blank"),
        pytest.param(ReportInput("", "x"), "report_id: must be a non-empty string", id="no-id"),
        pytest.param(
            ReportInput("r", "x" * 11),
            "text: report has 11 characters, more than the limit of 10",
            id="too-long",
        ),
    ],
)
def test_validate_report(report: ReportInput, message: str) -> None:
    with pytest.raises(InputError, match=message):
        validate_report(report, max_chars=10)


def test_ok_record_carries_provenance_and_tokens() -> None:
    backend = PromptedFake(
        answers={"r1": Completion(GOOD, prompt_tokens=900, cached_tokens=800, completion_tokens=60)}
    )
    record = Extractor(backend).extract_one(ReportInput("r1", TEXT))
    assert record.status is ExtractionStatus.OK
    assert record.provenance.prompt_tokens == 900
    assert record.provenance.cached_tokens == 800
    assert record.provenance.completion_tokens == 60
    assert record.provenance.prompt_version == PROMPT_VERSION
    assert record.provenance.attempts == 1
    assert record.lesions[0].evidence is not None
    assert record.lesions[0].evidence.start == TEXT.index("12 mm")


def test_invalid_answer_is_repaired_once_with_the_error_shown() -> None:
    backend = PromptedFake(
        answers={
            "r1": [
                Completion('{"organs": [', prompt_tokens=10, completion_tokens=5),
                Completion(GOOD, prompt_tokens=20, completion_tokens=7),
            ]
        }
    )
    record = Extractor(backend).extract_one(ReportInput("r1", TEXT))
    assert record.status is ExtractionStatus.OK
    assert record.provenance.attempts == 2
    assert record.provenance.prompt_tokens == 30
    assert record.provenance.completion_tokens == 12
    repair = backend.calls[1]
    assert repair.messages[-1].role == "user"
    assert repair.messages[-1].content.startswith("That JSON is invalid (answer is not valid JSON")
    assert repair.messages[-2].content == '{"organs": ['


def test_still_invalid_after_repair_is_kept_as_invalid_with_reason() -> None:
    backend = PromptedFake(answers={"r1": ['{"organs": [', "nope"]})
    record = Extractor(backend).extract_one(ReportInput("r1", TEXT))
    assert record.status is ExtractionStatus.INVALID
    assert record.error is not None
    assert record.error.startswith("invalid answer: answer is not valid JSON")
    assert len(backend.calls) == 2  # one repair, not a loop


def test_non_prompt_backends_are_not_repaired() -> None:
    backend = FakeBackend(answers={"r1": ['{"organs": [', GOOD]})
    record = Extractor(backend).extract_one(ReportInput("r1", TEXT))
    assert record.status is ExtractionStatus.INVALID
    assert len(backend.calls) == 1


def test_backend_failure_becomes_failed_record_and_batch_goes_on() -> None:
    backend = FakeBackend(answers={"bad": Failure("server said 503"), "good": GOOD})
    records = Extractor(backend).extract_many([ReportInput("bad", TEXT), ReportInput("good", TEXT)])
    assert [r.status for r in records] == [ExtractionStatus.FAILED, ExtractionStatus.OK]
    assert records[0].error == "server said 503"


def test_answer_breaking_cross_field_rules_is_invalid_not_a_crash() -> None:
    # a side on the liver is dropped by conversion; but 30 segments cannot be validated at all
    bad = json.dumps({"lesions": [{"organ": "liver", "segments": [9], "quote": "x"}]})
    record = Extractor(FakeBackend(answers={"r": bad})).extract_one(ReportInput("r", TEXT))
    assert record.status is ExtractionStatus.INVALID
    assert record.error is not None
    assert "segments.0" in record.error


def test_extractor_version_changes_with_backend_and_prompt() -> None:
    assert Extractor(create_backend("fake")).version == "fake|llm-1.2|schema-1.1"
    assert Extractor(PromptedFake(model="m")).version == "prompted-fake:m|p2|llm-1.2|schema-1.1"


def test_prompt_has_static_prefix_and_report_last() -> None:
    a = PromptBuilder().messages("report one")
    b = PromptBuilder().messages("a different report")
    assert a[0] == b[0]
    assert a[-1].content.endswith("report one\nJSON:")
    prefix_chars = len(a[0].content)
    assert prefix_chars / (prefix_chars + len(a[-1].content)) > 0.8


def test_worked_examples_validate_and_quote_their_reports() -> None:
    examples = worked_examples()
    assert len(examples) >= 2
    for report, answer in examples:
        assert answer.lesions
        for lesion in answer.lesions:
            assert lesion.quote in report
            for d in lesion.diameters:
                assert f"{d:g}" in lesion.quote
    assert "JSON schema:" in system_prompt()


def test_requests_carry_schema_and_token_cap() -> None:
    backend = PromptedFake()
    Extractor(backend, max_tokens=300).extract_one(ReportInput("r", TEXT))
    request: CompletionRequest = backend.calls[0]
    assert request.max_tokens == 300
    assert request.json_schema["title"] == "LLMReport"
    with pytest.raises(ConfigurationError, match="max_tokens must be >= 16, got 4"):
        Extractor(backend, max_tokens=4)
