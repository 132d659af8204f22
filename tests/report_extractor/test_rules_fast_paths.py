"""The rules extractor's fast paths give the same records as the slower ones they replace (issue 14)."""

from __future__ import annotations

import json

import pytest

from report_extractor.backends import Completion, create_backend
from report_extractor.backends.fake import FakeBackend
from report_extractor.engine import Extractor, ReportInput
from report_extractor.evaluation import DEV_PATHS, FINAL2_PATH, FINAL_PATH
from report_extractor.rules import extract_report
from report_extractor.rules.lexicon import organ_mentions
from report_extractor.rules.parsing import parse_location
from schemas.llm import LLMReport
from schemas.vocabulary import Organ


def _evalset_reports() -> list[ReportInput]:
    reports: list[ReportInput] = []
    for path in (*DEV_PATHS, FINAL_PATH, FINAL2_PATH):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                reports.append(ReportInput(row["id"], row["text"]))
    return reports


def test_rules_backend_hands_over_the_answer_model_instead_of_json() -> None:
    backend = create_backend("rules")
    request = Extractor(backend)._request(ReportInput("r1", "LIVER: 2 cm cyst in segment VI."))
    (result,) = backend.complete([request])
    assert isinstance(result, Completion)
    assert isinstance(result.answer, LLMReport)
    assert result.answer == extract_report("LIVER: 2 cm cyst in segment VI.")


def test_handed_over_answers_give_the_records_the_json_round_trip_gave() -> None:
    """Every evaluation report: the record from the handed-over model equals the one the engine built when
    the rules backend answered in JSON text (same answer serialised as before, parsed by the engine)."""
    reports = _evalset_reports()
    assert len(reports) > 500
    direct = Extractor(create_backend("rules")).extract_many(reports)
    as_json = FakeBackend(
        answers={r.report_id: extract_report(r.text).model_dump_json(exclude_defaults=True) for r in reports}
    )
    parsed = Extractor(as_json).extract_many(reports)
    for a, b in zip(direct, parsed, strict=True):
        assert a.model_dump(exclude={"provenance"}) == b.model_dump(exclude={"provenance"}), a.report_id


def test_any_backend_may_hand_over_a_validated_answer() -> None:
    answer = LLMReport.model_validate({"organs": [{"organ": "spleen", "status": "normal"}], "lesions": []})
    record = Extractor(FakeBackend(answers={"r1": Completion(answer=answer)})).extract_one(
        ReportInput("r1", "Spleen normal.")
    )
    assert record.status.value == "ok"
    assert record.finding(Organ.SPLEEN).status.value == "normal"


def test_organ_mentions_two_word_names_consume_their_second_word() -> None:
    text = "Left adrenal gland nodule; small bowel loops; bowel wall; renal vein patent; kidney."
    found = [(text[m.start : m.end], m.organ) for m in organ_mentions(text)]
    assert found == [
        ("adrenal gland", Organ.ADRENAL_GLAND),
        ("small bowel", Organ.SMALL_BOWEL),
        ("bowel", Organ.SMALL_BOWEL),
        ("bowel", Organ.COLON),
        ("kidney", Organ.KIDNEY),
    ]


def test_cached_location_parsing_still_checks_its_input_every_time() -> None:
    assert parse_location("segments 6-7", Organ.LIVER) is parse_location("segments 6-7", Organ.LIVER)
    for _ in range(2):  # errors are not cached away
        with pytest.raises(ValueError, match="Couinaud"):
            parse_location("segment 9", Organ.LIVER)
        with pytest.raises(TypeError, match="expected str"):
            parse_location(["segment 6"])  # type: ignore[arg-type]
