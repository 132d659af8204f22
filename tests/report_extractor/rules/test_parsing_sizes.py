"""Tests for :mod:`report_extractor.rules.parsing.sizes` (with priors, qualifiers and the one list of
not-a-number words): measurements, size words, priors, strict variants and round trips."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from report_extractor.rules.parsing import current_sizes, format_size, parse_size, parse_sizes
from report_extractor.rules.parsing.numbers import NOT_A_NUMBER_AFTER_RE, NOT_A_NUMBER_BEFORE_RE
from report_extractor.rules.parsing.qualifiers import read_qualifier
from schemas.records import Qualifier, Size, SizeClass

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
    ("before", "after"),
    [
        pytest.param("segment ", " lesion", id="segment-label"),
        pytest.param("Bosniak ", " cyst", id="bosniak"),
        pytest.param("image ", " of series", id="image-number"),
    ],
)
def test_label_words_make_numbers_neither_sizes_nor_counts(before: str, after: str) -> None:
    assert NOT_A_NUMBER_BEFORE_RE.search(before) is not None
    assert parse_sizes(f"{before}4{after}") == []


@pytest.mark.parametrize("after", [" HU", " %", " years", " cm from the anal verge", " cm size criterion"])
def test_non_size_quantities_follow_the_one_list(after: str) -> None:
    unitless = after.replace(" cm", "")
    assert NOT_A_NUMBER_AFTER_RE.match(unitless) is not None


@pytest.mark.parametrize(
    ("text", "qualifier", "start"),
    [
        pytest.param("up to 2 cm", Qualifier.UP_TO, 0, id="up-to"),
        pytest.param("a ~3 cm", Qualifier.APPROXIMATE, 2, id="tilde"),
        pytest.param("< 1 cm", Qualifier.LESS_THAN, 0, id="less-than-spaced"),
        pytest.param("measuring 2 cm", Qualifier.EQUAL, 10, id="none"),
    ],
)
def test_read_qualifier(text: str, qualifier: Qualifier, start: int) -> None:
    number = next(i for i, ch in enumerate(text) if ch.isdigit())
    found = read_qualifier(text, number)
    assert (found.qualifier, found.start) == (qualifier, start)


def test_abbreviated_baseline_is_prior() -> None:
    assert [m.is_prior for m in parse_sizes("19 mm (BL 25 mm)")] == [False, True]
