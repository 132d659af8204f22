"""Stage 1 of the rules extractor, sections and lines: one report read once into a :class:`Document`.

:func:`read_document` splits the text into sections and sentences
(:func:`~report_extractor.rules.sections.split_report`) and reads, once for the whole text, every size
(:func:`~report_extractor.rules.parsing.parse_sizes`, prior sizes flagged), every organ word
(:func:`~report_extractor.rules.lexicon.organ_mentions`) and every lesion phrase
(:func:`~report_extractor.rules.lexicon.cue_matches`). The later stages look these up per sentence.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from report_extractor.rules.folding import fold
from report_extractor.rules.lexicon import OrganMention, cue_matches, organ_mentions
from report_extractor.rules.parsing import SizeMention, parse_sizes
from report_extractor.rules.sections import Sentence, split_report

__all__ = ["Document", "read_document"]


@dataclass(frozen=True, slots=True)
class Document:
    """A report as the rules read it: text, sentences and everything found in the whole text.

    Attributes:
        text: the text as read (after an ADDENDUM, replaced values are blanked, same offsets).
        folded: ``text`` case-folded, same offsets (:func:`~report_extractor.rules.folding.fold`), for
            the patterns built with :func:`~report_extractor.rules.folding.caseless`.
        sentences: sections' sentences and list items, in order.
        sizes: every size mention, in text order.
        size_starts: ``sizes``' start offsets (for bisection).
        organ_words: every organ word, in text order.
        organ_starts: ``organ_words``' start offsets (for bisection).
        cue_matches: every lesion phrase, in text order.
        cue_starts: ``cue_matches``' start offsets.
    """

    text: str
    folded: str
    sentences: tuple[Sentence, ...]
    sizes: tuple[SizeMention, ...]
    size_starts: tuple[int, ...]
    organ_words: tuple[OrganMention, ...]
    organ_starts: tuple[int, ...]
    cue_matches: tuple[re.Match[str], ...]
    cue_starts: tuple[int, ...]

    def organs_between(self, lo: int, hi: int) -> tuple[OrganMention, ...]:
        """The organ words that start in ``[lo, hi)``."""
        return self.organ_words[
            bisect.bisect_left(self.organ_starts, lo) : bisect.bisect_left(self.organ_starts, hi)
        ]

    def cues_between(self, lo: int, hi: int) -> tuple[re.Match[str], ...]:
        """The lesion phrases that start in ``[lo, hi)``."""
        return self.cue_matches[
            bisect.bisect_left(self.cue_starts, lo) : bisect.bisect_left(self.cue_starts, hi)
        ]

    def current_sizes(self, sent: Sentence) -> list[SizeMention]:
        """The current (not prior) size mentions that start in ``sent``."""
        lo = bisect.bisect_left(self.size_starts, sent.start)
        hi = bisect.bisect_left(self.size_starts, sent.end)
        return [m for m in self.sizes[lo:hi] if not m.is_prior]


def read_document(text: str) -> Document:
    """Read ``text`` once: sentences, sizes, organ words and lesion phrases."""
    organ_words = tuple(organ_mentions(text))
    matches = tuple(cue_matches(text))
    sizes = tuple(parse_sizes(text))
    return Document(
        text=text,
        folded=fold(text),
        sentences=tuple(split_report(text)),
        sizes=sizes,
        size_starts=tuple(m.start for m in sizes),
        organ_words=organ_words,
        organ_starts=tuple(o.start for o in organ_words),
        cue_matches=matches,
        cue_starts=tuple(m.start() for m in matches),
    )
