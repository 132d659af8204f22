"""Tests for :mod:`report_extractor.rules.parsing.locations`: segments, lobes, parts, poles, sides."""

from __future__ import annotations

import pytest

from report_extractor.rules.parsing import Location, location_items, parse_location
from schemas.vocabulary import KidneyPole, Organ, PancreasPart, Side

# --------------------------------------------------------------------------------------------------
# Locations
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        pytest.param("lesion in segment VII", (7,), id="roman-VII"),
        pytest.param("segment 7", (7,), id="arabic-7"),
        pytest.param("Couinaud segment IVa", (4,), id="roman-IVa"),
        pytest.param("hepatic segment 4b", (4,), id="arabic-4b"),
        pytest.param("segment VIII", (8,), id="roman-VIII-not-V-III"),
        pytest.param("segment 4/5", (4, 5), id="slash-4/5"),
        pytest.param("segment IV/V", (4, 5), id="slash-roman"),
        pytest.param("segments 6-7", (6, 7), id="range-6-7"),
        pytest.param("segments 5 to 8", (5, 6, 7, 8), id="range-to"),
        pytest.param("segments V and VI", (5, 6), id="roman-and"),
        pytest.param("segments II, III", (2, 3), id="roman-comma"),
        pytest.param("segments 2, 3, and 4", (2, 3, 4), id="oxford-comma"),
        pytest.param("hepatic dome", (7, 8), id="dome"),
        pytest.param("the right lobe", (5, 6, 7, 8), id="right-lobe"),
        pytest.param("right hepatic lobe", (5, 6, 7, 8), id="right-hepatic-lobe"),
        pytest.param("left lobe of the liver", (2, 3, 4), id="left-lobe"),
        pytest.param("caudate lobe", (1,), id="caudate-lobe"),
        pytest.param("the caudate", (1,), id="caudate"),
        pytest.param("left lateral segment", (2, 3), id="left-lateral-segment"),
        pytest.param("segment 7 of the right lobe", (7,), id="numbered-beats-lobe"),
        pytest.param("in segment 7, 2.1 cm lesion", (7,), id="size-after-segment-not-a-segment"),
        pytest.param("S8 lesion", (8,), id="s-prefix-liver"),
        pytest.param("no location here", (), id="none"),
    ],
)
def test_liver_segments(text: str, segments: tuple[int, ...]) -> None:
    assert parse_location(text, Organ.LIVER).liver_segments == segments


def test_liver_lobe_is_not_a_side() -> None:
    loc = parse_location("left lobe")
    assert loc.liver_segments == (2, 3, 4)
    assert loc.side is None


def test_liver_has_no_side_and_other_organ_no_segments() -> None:
    assert parse_location("right lobe segment 7", Organ.LIVER).side is None
    assert parse_location("segment 7", Organ.KIDNEY).liver_segments == ()


def test_s_prefix_only_for_liver() -> None:
    assert parse_location("S1 vertebral body").liver_segments == ()


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        pytest.param("pancreatic head", (PancreasPart.HEAD,), id="head"),
        pytest.param("uncinate process", (PancreasPart.UNCINATE,), id="uncinate"),
        pytest.param("pancreatic neck", (PancreasPart.NECK,), id="neck"),
        pytest.param("body of the pancreas", (PancreasPart.BODY,), id="body"),
        pytest.param("pancreatic tail", (PancreasPart.TAIL,), id="tail"),
        pytest.param("body/tail", (PancreasPart.BODY, PancreasPart.TAIL), id="body/tail"),
        pytest.param("pancreatic head/neck", (PancreasPart.HEAD, PancreasPart.NECK), id="head/neck"),
        pytest.param("tail and head", (PancreasPart.HEAD, PancreasPart.TAIL), id="enum-order"),
    ],
)
def test_pancreas_parts(text: str, parts: tuple[PancreasPart, ...]) -> None:
    assert parse_location(text, Organ.PANCREAS).pancreas_parts == parts


def test_neck_maps_to_head_mask_part() -> None:
    (part,) = parse_location("pancreatic neck", Organ.PANCREAS).pancreas_parts
    assert part.mask_part is PancreasPart.HEAD


@pytest.mark.parametrize(
    ("text", "poles", "side"),
    [
        pytest.param("left lower pole", (KidneyPole.LOWER_POLE,), Side.LEFT, id="left-lower-pole"),
        pytest.param(
            "upper pole of the right kidney", (KidneyPole.UPPER_POLE,), Side.RIGHT, id="upper-pole-right"
        ),
        pytest.param("interpolar region", (KidneyPole.INTERPOLAR,), None, id="interpolar"),
        pytest.param("mid pole of the Rt kidney", (KidneyPole.INTERPOLAR,), Side.RIGHT, id="mid-pole-rt"),
        pytest.param(
            "upper and lower poles of the left kidney",
            (KidneyPole.UPPER_POLE, KidneyPole.LOWER_POLE),
            Side.LEFT,
            id="two-poles",
        ),
        pytest.param("bilateral renal cysts", (), Side.BILATERAL, id="bilateral"),
        pytest.param("both kidneys", (), Side.BILATERAL, id="both-kidneys"),
        pytest.param("left and right kidneys", (), Side.BILATERAL, id="left-and-right"),
        pytest.param("the kidney", (), None, id="no-side"),
    ],
)
def test_kidney_location(text: str, poles: tuple[KidneyPole, ...], side: Side | None) -> None:
    loc = parse_location(text, Organ.KIDNEY)
    assert loc.kidney_poles == poles
    assert loc.side is side


def test_side_only_for_paired_organs() -> None:
    assert parse_location("left adrenal", Organ.ADRENAL_GLAND).side is Side.LEFT
    assert parse_location("left side of the spleen", Organ.SPLEEN).side is None


def test_location_without_organ_reads_everything() -> None:
    loc = parse_location("segment 2 and pancreatic tail, right lower pole")
    assert loc == Location(
        liver_segments=(2,),
        pancreas_parts=(PancreasPart.TAIL,),
        kidney_poles=(KidneyPole.LOWER_POLE,),
        side=Side.RIGHT,
    )
    assert not loc.is_empty
    assert parse_location("").is_empty


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("segment 9", "liver_segments: Couinaud segments are 1-8, got 9", id="segment-9"),
        pytest.param("segment IX", "liver_segments: Couinaud segments are 1-8, got 9", id="roman-IX"),
        pytest.param("segment 0", "liver_segments: Couinaud segments are 1-8, got 0", id="segment-0"),
        pytest.param("segments 7-10", "liver_segments: Couinaud segments are 1-8, got 10", id="range-to-10"),
    ],
)
def test_impossible_segment_raises(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{message}$"):
        parse_location(text, Organ.LIVER)


def test_location_rejects_non_string() -> None:
    with pytest.raises(TypeError, match="text: expected str"):
        parse_location(7)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------------------------------
# location_items: listed locations, one per item, in text order
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "organ", "expected"),
    [
        pytest.param("segments 6 and 7", Organ.LIVER, [(6,), (7,)], id="liver-list"),
        pytest.param("segments VII and II", Organ.LIVER, [(7,), (2,)], id="liver-roman-text-order"),
        pytest.param("segments 6-8", Organ.LIVER, [(6,), (7,), (8,)], id="liver-range"),
        pytest.param("the right lobe", Organ.LIVER, [], id="liver-lobe-not-itemised"),
    ],
)
def test_location_items_liver(text: str, organ: Organ, expected: list[tuple[int, ...]]) -> None:
    assert [loc.liver_segments for loc in location_items(text, organ)] == expected


def test_location_items_pancreas_and_kidney() -> None:
    parts = location_items("in the pancreatic tail and head", Organ.PANCREAS)
    assert [loc.pancreas_parts for loc in parts] == [(PancreasPart.TAIL,), (PancreasPart.HEAD,)]
    poles = location_items("right kidney, upper and lower poles", Organ.KIDNEY)
    assert [loc.kidney_poles for loc in poles] == [(KidneyPole.UPPER_POLE,), (KidneyPole.LOWER_POLE,)]
    sides = location_items("1.2 cm on the left and 0.8 cm on the right", Organ.KIDNEY)
    assert [loc.side for loc in sides] == [Side.LEFT, Side.RIGHT]


def test_location_items_repeats_once_and_rejects_bad_input() -> None:
    assert [loc.side for loc in location_items("left, left", Organ.ADRENAL_GLAND)] == [Side.LEFT]
    assert location_items("anywhere", Organ.SPLEEN) == []
    with pytest.raises(TypeError, match="text: expected str, got int"):
        location_items(3, Organ.LIVER)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="Couinaud segments are 1-8, got 9"):
        location_items("segments 8 and 9", Organ.LIVER)


@pytest.mark.parametrize(
    ("text", "side"),
    [
        pytest.param("R kidney lower pole", Side.RIGHT, id="R"),
        pytest.param("L renal cyst", Side.LEFT, id="L"),
        pytest.param("LLL nodule", Side.LEFT, id="LLL"),
        pytest.param("RLQ pain", None, id="quadrant"),
        pytest.param("L2 vertebra", None, id="vertebral-level"),
        pytest.param("r kidney", None, id="lower-case-letter"),
    ],
)
def test_abbreviated_sides(text: str, side: Side | None) -> None:
    assert parse_location(text, Organ.KIDNEY).side is side


def test_location_items_s_prefixed_liver_segments() -> None:
    assert [loc.liver_segments for loc in location_items("S4 and S5", Organ.LIVER)] == [(4,), (5,)]
    assert [loc.liver_segments for loc in location_items("segment 6 and S8", Organ.LIVER)] == [(6,)]
