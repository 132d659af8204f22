"""Headers (:mod:`report_extractor.rules.sections`): side headers and headers of non-organ sites."""

from __future__ import annotations

import pytest

from report_extractor.rules.lexicon import named_organ
from report_extractor.rules.sections import split_report
from schemas.vocabulary import Organ, Side


def test_side_header_keeps_the_organ_header_until_the_next_header() -> None:
    sentences = split_report(
        "ADRENALS:\nLeft:\n2 cm nodule.\nWashout present\nRight:\nnormal.\nSPLEEN: normal."
    )
    assert [(s.text, s.header_organs, s.header_side) for s in sentences] == [
        ("2 cm nodule.", (Organ.ADRENAL_GLAND,), Side.LEFT),
        ("Washout present", (Organ.ADRENAL_GLAND,), Side.LEFT),
        ("normal.", (Organ.ADRENAL_GLAND,), Side.RIGHT),
        ("normal.", (Organ.SPLEEN,), None),
    ]


@pytest.mark.parametrize(
    ("text", "side"),
    [
        pytest.param("RIGHT KIDNEY: 1 cm cyst.", Side.RIGHT, id="right-kidney"),
        pytest.param("Lt adrenal: nodule.", Side.LEFT, id="abbreviated"),
        pytest.param("Kidneys: cysts.", None, id="unsided"),
        pytest.param("Right and left kidneys: cysts.", None, id="both"),
    ],
)
def test_organ_header_side(text: str, side: Side | None) -> None:
    assert split_report(text)[0].header_side is side


@pytest.mark.parametrize(
    "header",
    ["THYROID", "Lymph nodes", "VASCULATURE", "Soft tissues", "Peritoneum"],
)
def test_non_organ_site_headers(header: str) -> None:
    (sentence,) = split_report(f"{header}: 1 cm nodule.")
    assert sentence.foreign_header
    assert sentence.header_organs == ()


def test_organ_header_is_not_foreign() -> None:
    assert not split_report("LIVER: 1 cm cyst.")[0].foreign_header


@pytest.mark.parametrize(
    ("name", "organ"),
    [
        pytest.param("IPMN", Organ.PANCREAS, id="ipmn"),
        pytest.param("insulinoma", Organ.PANCREAS, id="insulinoma"),
        pytest.param("HCC", Organ.LIVER, id="hcc"),
        pytest.param("angiomyolipomas", Organ.KIDNEY, id="aml"),
        pytest.param("myelolipoma", Organ.ADRENAL_GLAND, id="myelolipoma"),
        pytest.param("fibroid", Organ.UTERUS, id="fibroid"),
        pytest.param("adenoma", None, id="adenoma-many-organs"),
        pytest.param("cyst", None, id="cyst"),
    ],
)
def test_named_organ(name: str, organ: Organ | None) -> None:
    assert named_organ(name) is organ
