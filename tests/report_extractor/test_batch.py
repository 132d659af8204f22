"""The batch engine shared by the CLI and the job worker: one outcome per report, never an exception."""

from __future__ import annotations

from collections.abc import Sequence

from report_extractor.backends.base import Completion, CompletionRequest, Failure
from report_extractor.backends.fake import FakeBackend
from report_extractor.batch import OutcomeKind, extract_batch
from report_extractor.engine import Extractor, ReportInput

LIVER = "Liver: 2 cm cyst in segment VI."


class BrokenBackend(FakeBackend):
    """A backend with a bug: every call raises something that is not a ReportExtractorError."""

    def complete(self, requests: Sequence[CompletionRequest]) -> list[Completion | Failure]:
        raise KeyError("bug")


def test_bad_rows_are_input_errors_and_the_rest_is_extracted() -> None:
    reports = [ReportInput("a" * 257, LIVER), ReportInput("ok", LIVER), ReportInput("nul", "x\x00")]
    outcomes = extract_batch(reports, Extractor(FakeBackend()))
    assert [o.kind for o in outcomes] == [OutcomeKind.INPUT_ERROR, OutcomeKind.OK, OutcomeKind.INPUT_ERROR]
    assert [o.error_kind for o in outcomes] == ["bad_id", None, "bad_text"]
    assert outcomes[0].error == "report_id: has 257 characters, more than the limit of 256"


def test_an_unexpected_backend_error_fails_the_reports_instead_of_raising() -> None:
    outcomes = extract_batch([ReportInput("r1", LIVER), ReportInput("r2", LIVER)], Extractor(BrokenBackend()))
    assert [o.kind for o in outcomes] == [OutcomeKind.BACKEND_FAILURE] * 2
    assert all(o.record is not None and o.record.status.value == "failed" for o in outcomes)
    assert outcomes[0].error == "internal error in the backend (KeyError); retry later"
