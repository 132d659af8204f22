"""Text parsers of the rules extractor: where a lesion is and how big it is.

* :mod:`~report_extractor.rules.parsing.locations`: liver segments, pancreas parts, kidney poles, sides.
* :mod:`~report_extractor.rules.parsing.sizes`: measurements and size words, converted to millimetres;
  :mod:`~report_extractor.rules.parsing.priors` tells prior sizes from current ones and
  :mod:`~report_extractor.rules.parsing.qualifiers` reads "up to" / "<" / "~".
* :mod:`~report_extractor.rules.parsing.numbers`: the one list of words that make a number neither a
  size nor a count.

Pure Python + pydantic (the record types of :mod:`schemas`); every regular expression is compiled once.
"""

from report_extractor.rules.parsing.locations import Location, location_items, parse_location
from report_extractor.rules.parsing.numbers import NOT_A_NUMBER_AFTER_RE, NOT_A_NUMBER_BEFORE_RE
from report_extractor.rules.parsing.sizes import (
    SizeMention,
    current_sizes,
    format_size,
    parse_size,
    parse_sizes,
)

__all__ = [
    "NOT_A_NUMBER_AFTER_RE",
    "NOT_A_NUMBER_BEFORE_RE",
    "Location",
    "SizeMention",
    "current_sizes",
    "format_size",
    "location_items",
    "parse_location",
    "parse_size",
    "parse_sizes",
]
