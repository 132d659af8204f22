"""Pipe tables (RECIST target lists as tables): keep each row's site and current size, drop the rest.

Oncology response reports often tabulate lesions, one row per lesion, with a header naming the columns
("| site | baseline | current |", "Lesion | Location | Prior (mm) | Today (mm)", dated columns). The
rules read a row as a ``site: size`` list item (:mod:`report_extractor.rules.lists`); before that,
:func:`blank_table_priors` blanks, keeping every offset, what would be misread:

* the header and separator rows (their words are column names, not findings);
* the cells of prior columns (baseline, prior, previous, nadir, an earlier date) and change columns
  ("change", "%"): their numbers are not current sizes;
* sum / total rows;

and it gives a unit-less current value the unit its header states ("Today (mm)": ``| 31 |`` is read as
31 mm), else the unit :func:`schemas.records.infer_unit` infers, by writing the unit into the cell's
padding (a cell without padding keeps its bare number, not read as a size).
A table whose header names no prior or current column is left as written. :func:`blank_list_priors` does
the same for lists whose head gives a legend ("TARGET LESIONS (mm, current [baseline]):").
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from schemas.records import infer_unit

__all__ = [
    "TABLE_ROW_MIN_PIPES",
    "ColumnRole",
    "blank_list_priors",
    "blank_table_priors",
    "column_role",
    "is_table_row",
]

_I: Final = re.IGNORECASE

TABLE_ROW_MIN_PIPES: Final[int] = 2
"""A line with at least this many ``|`` is a table row."""


class ColumnRole(StrEnum):
    """What a table column holds."""

    SITE = "site"
    PRIOR = "prior"
    CURRENT = "current"
    CHANGE = "change"
    DATE = "date"  # a dated measurement column: the last one is current, earlier ones are prior
    OTHER = "other"


_PRIOR_HEAD_RE: Final = re.compile(
    r"\b(?:baseline|prior|previous(?:ly)?|nadir|initial|before|pre-?treatment|old|earlier|first|bl)\b", _I
)
_CURRENT_HEAD_RE: Final = re.compile(
    r"\b(?:current(?:ly)?|today|now|present|latest|recent|this\s+(?:exam|study|scan)|follow[\s-]?up|fu"
    r"|post-?treatment|actual|measurement|size|diameter|ld|longest)\b",
    _I,
)
_CHANGE_HEAD_RE: Final = re.compile(r"\b(?:change|delta|difference|diff|response|trend)\b|%", _I)
_SITE_HEAD_RE: Final = re.compile(
    r"\b(?:site|location|lesion|organ|target|description|finding|region|anatomy)s?\b|^\s*(?:#|no\.?)\s*$", _I
)
_DATE_RE: Final = re.compile(
    r"\b(?:(?:19|20)\d\d[-/.]\d{1,2}(?:[-/.]\d{1,2})?|\d{1,2}[-/.]\d{1,2}[-/.](?:19|20)?\d\d)\b"
)
_UNIT_HEAD_RE: Final = re.compile(r"\b(mm|cm)\b", _I)
_SEPARATOR_RE: Final = re.compile(r"[\s|:\-–—=+]*")
_SUM_CELL_RE: Final = re.compile(r"\s*(?:the\s+)?(?:sum|total)\b", _I)
_BARE_NUMBER_RE: Final = re.compile(r"(?P<pad_l>\s*)(?P<num>\d+(?:[.,]\d+)?)(?P<pad_r>\s*)")


def column_role(header: str) -> ColumnRole:
    """The role of a column from its header cell text ("Baseline (mm)" → prior, "Today" → current)."""
    if _CHANGE_HEAD_RE.search(header):
        return ColumnRole.CHANGE
    if _PRIOR_HEAD_RE.search(header):
        return ColumnRole.PRIOR
    if _CURRENT_HEAD_RE.search(header):
        return ColumnRole.CURRENT
    if _DATE_RE.search(header):
        return ColumnRole.DATE
    if _SITE_HEAD_RE.search(header):
        return ColumnRole.SITE
    return ColumnRole.OTHER


def is_table_row(line: str) -> bool:
    """Whether a line is a pipe-table row (at least :data:`TABLE_ROW_MIN_PIPES` ``|``)."""
    return line.count("|") >= TABLE_ROW_MIN_PIPES


@dataclass(frozen=True, slots=True)
class _Cell:
    start: int
    end: int


def _cells(text: str, start: int, end: int) -> list[_Cell]:
    """The cells of the row ``text[start:end]``, split at ``|`` (leading / trailing pipes dropped)."""
    bounds = [start - 1, *(i for i in range(start, end) if text[i] == "|"), end]
    cells = [_Cell(a + 1, b) for a, b in itertools.pairwise(bounds)]
    if cells and not text[cells[0].start : cells[0].end].strip() and text[start:end].lstrip().startswith("|"):
        cells = cells[1:]
    if cells and not text[cells[-1].start : cells[-1].end].strip() and text[start:end].rstrip().endswith("|"):
        cells = cells[:-1]
    return cells


def _roles(headers: list[str]) -> list[ColumnRole]:
    """Column roles; dated columns: the last is current, the others prior (when no column says current)."""
    roles = [column_role(h) for h in headers]
    dated = [i for i, r in enumerate(roles) if r is ColumnRole.DATE]
    has_current = ColumnRole.CURRENT in roles
    for i in dated:
        roles[i] = ColumnRole.CURRENT if (i == dated[-1] and not has_current) else ColumnRole.PRIOR
    return roles


def _blank(chars: list[str], start: int, end: int) -> None:
    for i in range(start, end):
        if chars[i] not in "\n":
            chars[i] = " "


def _with_unit(chars: list[str], text: str, cell: _Cell, unit: str | None) -> None:
    """Write ``unit`` (the header's, else the one :func:`~schemas.records.infer_unit` gives) right after a
    bare number, into the cell's padding (moving the number left)."""
    m = _BARE_NUMBER_RE.fullmatch(text, cell.start, cell.end)
    if m is None:
        return
    unit = unit or infer_unit([float(m.group("num").replace(",", "."))])
    if len(m.group("pad_l")) + len(m.group("pad_r")) < len(unit):
        return
    filled = m.group("num") + unit
    filled += " " * (cell.end - cell.start - len(filled))
    chars[cell.start : cell.end] = list(filled)


def _lines(text: str) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    pos = 0
    for line in text.split("\n"):
        out.append((pos, pos + len(line)))
        pos += len(line) + 1
    return out


def blank_table_priors(text: str) -> str:
    """``text`` with its pipe tables' header, prior, change and sum cells blanked (same length).

    >>> blank_table_priors("| site | baseline | current |\\n| liver | 32 mm | 25 mm |")
    '                             \\n| liver |       | 25 mm |'
    """
    if text.count("|") < 2 * TABLE_ROW_MIN_PIPES:
        return text
    chars: list[str] | None = None
    lines = _lines(text)
    i = 0
    while i < len(lines):
        start, end = lines[i]
        if not is_table_row(text[start:end]) or _SEPARATOR_RE.fullmatch(text, start, end):
            i += 1
            continue
        rows = [lines[i]]
        j = i + 1
        while j < len(lines) and is_table_row(text[lines[j][0] : lines[j][1]]):
            rows.append(lines[j])
            j += 1
        i = j
        if len(rows) < 2:
            continue
        h_start, h_end = rows[0]
        head_cells = _cells(text, h_start, h_end)
        roles = _roles([text[c.start : c.end] for c in head_cells])
        if ColumnRole.PRIOR not in roles and ColumnRole.CURRENT not in roles:
            continue
        unit_match = _UNIT_HEAD_RE.search(text, h_start, h_end)
        unit = unit_match.group(1).lower() if unit_match else None
        if chars is None:
            chars = list(text)
        _blank(chars, h_start, h_end)
        for r_start, r_end in rows[1:]:
            if _SEPARATOR_RE.fullmatch(text, r_start, r_end):
                _blank(chars, r_start, r_end)
                continue
            cells = _cells(text, r_start, r_end)
            if any(_SUM_CELL_RE.match(text, c.start, c.end) for c in cells[:2]):
                _blank(chars, r_start, r_end)
                continue
            for cell, role in zip(cells, roles, strict=False):
                if role in (ColumnRole.PRIOR, ColumnRole.CHANGE):
                    _blank(chars, cell.start, cell.end)
                elif role is ColumnRole.CURRENT:
                    _with_unit(chars, text, cell, unit)
    return text if chars is None else "".join(chars)


_LEGEND_RE: Final = re.compile(
    r"\((?=[^)\n]*\b(?P<unit>mm|cm)\b)(?=[^)\n]*\[\s*(?P<prior>baseline|prior|previous|nadir|bl)\s*\])[^)\n]*\)\s*:?",
    _I,
)
_BRACKET_NUMBER_RE: Final = re.compile(r"\[\s*\d+(?:[.,]\d+)?\s*\]")
_ITEM_VALUE_RE: Final = re.compile(r"(?<=[:\s])(\d+(?:[.,]\d+)?)(?=\s*\[)")


def blank_list_priors(text: str) -> str:
    """``text`` with the bracketed prior values of legend lists blanked (same length).

    A list head whose legend puts the unit and the prior value in brackets ("TARGET LESIONS (mm, current
    [baseline]):") is followed by items such as "Bladder wall mass: 31 [40]"; the bracketed 40 is the
    baseline, and the bare 31 takes the legend's unit (written into the freed padding).

    >>> blank_list_priors("TARGET (mm, current [baseline]):\\n1. Liver: 31 [40]")
    'TARGET (mm, current [baseline]):\\n1. Liver: 31mm   '
    """
    if "[" not in text:
        return text
    chars: list[str] | None = None
    for head in _LEGEND_RE.finditer(text):
        unit = head.group("unit").lower()
        pos = text.find("\n", head.end())
        while pos >= 0:
            end = text.find("\n", pos + 1)
            end = len(text) if end < 0 else end
            line_start = pos + 1
            brackets = list(_BRACKET_NUMBER_RE.finditer(text, line_start, end))
            if not brackets:
                break
            if chars is None:
                chars = list(text)
            for b in brackets:
                _blank(chars, b.start(), b.end())
            for value in _ITEM_VALUE_RE.finditer(text, line_start, end):
                bracket = next((b for b in brackets if b.start() >= value.end()), None)
                if bracket is not None and not text[value.end() : bracket.start()].strip():
                    chars[value.end() : value.end() + len(unit)] = list(unit)  # into the freed padding
            pos = end if end < len(text) else -1
    return text if chars is None else "".join(chars)
