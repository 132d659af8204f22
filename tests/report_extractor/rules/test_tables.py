"""Pipe tables (:mod:`report_extractor.rules.tables`): column roles and blanking of prior cells."""

from __future__ import annotations

import pytest

from report_extractor.rules.tables import (
    ColumnRole,
    blank_list_priors,
    blank_table_priors,
    column_role,
    is_table_row,
)


@pytest.mark.parametrize(
    ("header", "role"),
    [
        pytest.param(" Baseline (mm) ", ColumnRole.PRIOR, id="baseline"),
        pytest.param("Nadir", ColumnRole.PRIOR, id="nadir"),
        pytest.param("Today (mm)", ColumnRole.CURRENT, id="today"),
        pytest.param("follow-up", ColumnRole.CURRENT, id="follow-up"),
        pytest.param("% change", ColumnRole.CHANGE, id="change"),
        pytest.param("2024-03-01", ColumnRole.DATE, id="date"),
        pytest.param("Location", ColumnRole.SITE, id="site"),
        pytest.param("#", ColumnRole.SITE, id="index"),
        pytest.param("Comment", ColumnRole.OTHER, id="other"),
    ],
)
def test_column_role(header: str, role: ColumnRole) -> None:
    assert column_role(header) is role


def test_blanking_keeps_length_and_offsets() -> None:
    text = "Intro.\n| site | prior | current |\n| liver | 30 mm | 35 mm |\nEnd."
    out = blank_table_priors(text)
    assert len(out) == len(text)
    assert out.index("35 mm") == text.index("35 mm")
    assert "30" not in out
    assert "site" not in out
    assert out.startswith("Intro.\n")
    assert out.endswith("\nEnd.")


def test_unitless_current_value_takes_the_header_unit() -> None:
    out = blank_table_priors("| site | baseline (cm) | today (cm) |\n| spleen | 2.1 | 2.8 |")
    assert "2.8cm" in out
    assert "2.1" not in out


def test_unitless_value_without_padding_stays_bare() -> None:
    out = blank_table_priors("| site | baseline | today |\n| spleen |21|28|")
    assert out.endswith("|28|")


def test_dated_columns_last_is_current() -> None:
    out = blank_table_priors("site | 01/02/2024 | 05/08/2024\nliver | 10 mm | 14 mm")
    assert "14 mm" in out
    assert "10 mm" not in out


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("| a | b |\n| c | d |", id="no-role-header"),
        pytest.param("| site | prior | now |", id="header-only"),
        pytest.param("Liver: 2 cm cyst | stable", id="one-pipe"),
    ],
)
def test_text_without_a_table_with_roles_is_unchanged(text: str) -> None:
    assert blank_table_priors(text) == text


def test_is_table_row() -> None:
    assert is_table_row("| liver | 2 cm |")
    assert not is_table_row("liver | 2 cm")


def test_legend_list_blanks_bracketed_priors_and_gives_the_unit() -> None:
    text = (
        "TARGET LESIONS (cm, current [baseline]):\n"
        "1. Liver segment 2: 3.1 [3.6]\n2. Spleen: 1.2 [1.9]\nNew: none."
    )
    out = blank_list_priors(text)
    assert len(out) == len(text)
    assert "3.1cm" in out
    assert "1.2cm" in out
    assert "3.6" not in out
    assert "1.9" not in out
    assert out.endswith("\nNew: none.")


def test_list_without_a_legend_is_unchanged() -> None:
    text = "TARGET LESIONS:\n1. Liver: 31 mm [image 40]"
    assert blank_list_priors(text) == text
