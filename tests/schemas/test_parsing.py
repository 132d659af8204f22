"""Tests for :mod:`schemas.parsing`: locations, sizes, priors, strict variants and round trips."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas.parsing import (
    Location,
    current_sizes,
    format_size,
    location_items,
    parse_location,
    parse_size,
    parse_sizes,
)
from schemas.records import Qualifier, Size, SizeClass
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


# --------------------------------------------------------------------------------------------------
# Sizes
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "diameters", "qualifier"),
    [
        pytest.param("3.2 x 2.1 cm", (32.0, 21.0), Qualifier.EQUAL, id="two-dims-cm"),
        pytest.param("3.2 × 2.1 × 1.8 cm", (32.0, 21.0, 18.0), Qualifier.EQUAL, id="three-dims-times"),
        pytest.param("3.2 by 2.1 cm", (32.0, 21.0), Qualifier.EQUAL, id="by"),
        pytest.param("3.2x2.1cm", (32.0, 21.0), Qualifier.EQUAL, id="no-spaces"),
        pytest.param("1.2 cm x 8 mm", (12.0, 8.0), Qualifier.EQUAL, id="mixed-units"),
        pytest.param("12 mm", (12.0,), Qualifier.EQUAL, id="mm"),
        pytest.param("a 2-cm lesion", (20.0,), Qualifier.EQUAL, id="hyphenated"),
        pytest.param("1,5 cm", (15.0,), Qualifier.EQUAL, id="decimal-comma"),
        pytest.param("up to 1.4 cm", (14.0,), Qualifier.UP_TO, id="up-to"),
        pytest.param("<1 cm", (10.0,), Qualifier.LESS_THAN, id="lt-symbol"),
        pytest.param("less than 1 cm", (10.0,), Qualifier.LESS_THAN, id="less-than"),
        pytest.param("> 5 cm", (50.0,), Qualifier.GREATER_THAN, id="gt-symbol"),
        pytest.param("approximately 2 cm", (20.0,), Qualifier.APPROXIMATE, id="approximately"),
        pytest.param("~2 cm", (20.0,), Qualifier.APPROXIMATE, id="tilde"),
        pytest.param("measuring 1-2 cm", (20.0,), Qualifier.UP_TO, id="range-dash"),
        pytest.param("ranging from 1 to 2 cm", (20.0,), Qualifier.UP_TO, id="range-from-to"),
        pytest.param("measuring 2.3 x 1.8", (23.0, 18.0), Qualifier.EQUAL, id="unitless-chain-cm"),
        pytest.param("measures 12", (12.0,), Qualifier.EQUAL, id="unitless-measures-mm"),
        pytest.param("5 millimeters", (5.0,), Qualifier.EQUAL, id="spelled-unit"),
    ],
)
def test_parse_size(text: str, diameters: tuple[float, ...], qualifier: Qualifier) -> None:
    size = parse_size(text)
    assert size.diameters_mm == diameters
    assert size.qualifier is qualifier


@pytest.mark.parametrize(
    ("text", "size_class"),
    [
        pytest.param("subcentimeter hypodensity", SizeClass.SUBCENTIMETER, id="subcentimeter"),
        pytest.param("sub-centimeter nodule", SizeClass.SUBCENTIMETER, id="sub-centimeter"),
        pytest.param("tiny cyst", SizeClass.TINY, id="tiny"),
        pytest.param("too small to characterize", SizeClass.TOO_SMALL_TO_CHARACTERIZE, id="tstc"),
        pytest.param(
            "too small to accurately characterize", SizeClass.TOO_SMALL_TO_CHARACTERIZE, id="tstc-adverb"
        ),
        pytest.param("massive hepatic mass", SizeClass.MASSIVE, id="massive"),
    ],
)
def test_size_classes(text: str, size_class: SizeClass) -> None:
    (mention,) = parse_sizes(text)
    assert mention.size is None
    assert mention.size_class is size_class
    assert text[mention.start : mention.end] == mention.raw


def test_two_sizes_are_two_mentions() -> None:
    mentions = parse_sizes("lesions measuring 2 cm and 3 cm")
    assert [m.size.diameters_mm for m in mentions if m.size] == [(20.0,), (30.0,)]


def test_shared_unit_and_list() -> None:
    mentions = parse_sizes("cysts of 2 and 3 cm")
    assert [m.size.diameters_mm for m in mentions if m.size] == [(20.0,), (30.0,)]
    assert [m.raw for m in mentions] == ["2", "3 cm"]


def test_segment_number_does_not_borrow_unit() -> None:
    assert [m.raw for m in parse_sizes("segment 7 and 2 cm lesion")] == ["2 cm"]


def test_bare_numbers_are_not_sizes() -> None:
    assert parse_sizes("2 lesions in segment 7 on series 3 image 45, 12/03/2021") == []


def test_span_includes_qualifier_and_values_as_written() -> None:
    text = "Lesion measuring up to 1,4 cm."
    (mention,) = parse_sizes(text)
    assert mention.raw == "up to 1,4 cm"
    assert text[mention.start : mention.end] == mention.raw
    assert mention.values == (1.4,)
    assert mention.unit == "cm"


@pytest.mark.parametrize(
    ("text", "current", "prior"),
    [
        pytest.param(
            "2.1 x 1.8 cm (previously 1.5 x 1.2 cm)", [(21.0, 18.0)], [(15.0, 12.0)], id="parenthesised"
        ),
        pytest.param("increased from 2.1 to 2.6 cm", [(26.0,)], [(21.0,)], id="from-to"),
        pytest.param("previously 2.1 cm, now 2.6 cm", [(26.0,)], [(21.0,)], id="previously-now"),
        pytest.param("measures 2.6 cm, compared to 2.1 cm", [(26.0,)], [(21.0,)], id="compared-to"),
        pytest.param("2.6 cm (2.1 cm on prior)", [(26.0,)], [(21.0,)], id="trailing-on-prior"),
        pytest.param("which was 2.1 cm, now measures 2.6 cm", [(26.0,)], [(21.0,)], id="was-now"),
        pytest.param("now 3 cm from 2 cm", [(30.0,)], [(20.0,)], id="now-from"),
        pytest.param("Compared to prior, a new 2 cm lesion", [(20.0,)], [], id="comparison-header"),
        pytest.param("The previously seen lesion measures 2.6 cm", [(26.0,)], [], id="previously-seen"),
        pytest.param("There was a 2 cm lesion", [(20.0,)], [], id="was-not-next-to-number"),
    ],
)
def test_prior_sizes(text: str, current: list[tuple[float, ...]], prior: list[tuple[float, ...]]) -> None:
    mentions = parse_sizes(text)
    assert [m.size.diameters_mm for m in mentions if m.size and not m.is_prior] == current
    assert [m.size.diameters_mm for m in mentions if m.size and m.is_prior] == prior
    assert [m.size.diameters_mm for m in current_sizes(text) if m.size] == current


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("no size here", "size: no measurement found in 'no size here'", id="none"),
        pytest.param("segment 7", "size: no measurement found in 'segment 7'", id="bare-number"),
        pytest.param("tiny cyst", "size: no measurement found in 'tiny cyst'", id="size-word-only"),
        pytest.param(
            "2 cm and 3 cm",
            "size: 2 current measurements in '2 cm and 3 cm'; expected one",
            id="ambiguous",
        ),
    ],
)
def test_parse_size_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{message}"):
        parse_size(text)


def test_parse_sizes_rejects_non_string() -> None:
    with pytest.raises(TypeError, match="text: expected str"):
        parse_sizes(None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("size", "unit", "text"),
    [
        pytest.param(Size(diameters_mm=(32, 21)), "cm", "3.2 x 2.1 cm", id="cm"),
        pytest.param(Size(diameters_mm=(12,)), "mm", "12 mm", id="mm"),
        pytest.param(Size(diameters_mm=(14,), qualifier=Qualifier.UP_TO), "cm", "up to 1.4 cm", id="up-to"),
        pytest.param(Size(diameters_mm=(10,), qualifier=Qualifier.LESS_THAN), "mm", "<10 mm", id="lt"),
    ],
)
def test_format_size(size: Size, unit: str, text: str) -> None:
    assert format_size(size, unit) == text


def test_format_size_bad_unit() -> None:
    with pytest.raises(ValueError, match="unit: must be 'mm' or 'cm', got 'in'"):
        format_size(Size(diameters_mm=(1,)), "in")


# --------------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------------

# Diameters in tenths of a millimetre, so that the cm text (two decimals) is exact.
_diameters = st.lists(st.integers(min_value=1, max_value=9_999), min_size=1, max_size=3).map(
    lambda tenths: tuple(t / 10 for t in tenths)
)
_sizes = st.builds(Size, diameters_mm=_diameters, qualifier=st.sampled_from(list(Qualifier)))


@given(size=_sizes, unit=st.sampled_from(["mm", "cm"]))
def test_format_parse_round_trip(size: Size, unit: str) -> None:
    assert parse_size(format_size(size, unit)) == size


@given(size=_sizes)
def test_decimal_comma_reads_like_point(size: Size) -> None:
    text = format_size(size, "cm")
    assert parse_size(text.replace(".", ",")) == parse_size(text)


@given(tenths=st.integers(min_value=1, max_value=9_999))
def test_cm_is_ten_mm(tenths: int) -> None:
    mm = tenths / 10
    cm_text = f"{mm / 10:.2f}".rstrip("0").rstrip(".")
    assert parse_size(f"{cm_text} cm").diameters_mm == parse_size(f"{mm:g} mm").diameters_mm


@given(
    first=st.integers(min_value=1, max_value=99),
    second=st.integers(min_value=1, max_value=99),
)
def test_two_sizes_never_merge(first: int, second: int) -> None:
    mentions = parse_sizes(f"lesions of {first} mm and {second} mm")
    assert [m.size.diameters_mm for m in mentions if m.size] == [(float(first),), (float(second),)]


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
    ("text", "expected"),
    [
        pytest.param("cyst measuring 6 HU", [], id="hu-after-measuring"),
        pytest.param("1.1 cm nodule (48 HU)", [(11.0,)], id="hu-in-brackets"),
        pytest.param("mass 5 cm, 8 cm from the anal verge", [(50.0,)], id="distance-from-landmark"),
        pytest.param("above the 1 cm size criterion", [], id="size-criterion"),
        pytest.param("enhancement of 60 %", [], id="percent"),
        pytest.param("2 and 3 cm", [(20.0,), (30.0,)], id="borrowed-unit-still-read"),
    ],
)
def test_numbers_that_are_not_sizes(text: str, expected: list[tuple[float, ...]]) -> None:
    assert [m.size.diameters_mm for m in parse_sizes(text) if m.size is not None] == expected


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
