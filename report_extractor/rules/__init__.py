"""``rules``: a deterministic report extractor (sections, negation, lexicons, measurements).

The fast baseline every LLM backend must beat, and a source of building blocks for verification.
:func:`extract_report` returns the same :class:`schemas.llm.LLMReport` an LLM backend returns, so the
shared post-processing (evidence alignment, number verification) applies unchanged. The extractor is a
pipeline of stages, one module each (listed in :mod:`report_extractor.rules.extractor`); the text
parsers for locations and sizes are :mod:`report_extractor.rules.parsing`.

Why plain regular expressions and lexicons rather than spaCy / medspaCy (ConText, sectionizer):
measured on the 219 tuning reports (issue 13; medspaCy 1.3.1 / spaCy 3.7.5 with PyRuSH sentences, a
target rule made of the same lesion pattern, its default ConText rules and sectionizer; same 2-core
machine, same load), medspaCy's pipeline alone ran at 75 reports/s against 845 reports/s for the whole
rules extractor, under the 400 reports/s bar; on the 617 lesion words both found, it agreed with the
rules' negation on 92 %; of the 11 words only medspaCy negated, 8 are present lesions ("cystic lesion
without solid component, possibly an IPMN", "nodules, which do not enhance and are favored to represent
hamartomas"), and the 37 only the rules negate are plain negations its default rules missed in that
setup ("No focal lesion.") and resolutions ("no longer visualized", "resolved"). Tuning it would mean
writing the same rules again in its format; it would also pull a heavy dependency into layer 1.
Compiled regexes are deterministic, auditable line by line and fast; the negation rules follow
NegEx / ConText (trigger, bounded scope, terminators, post-triggers) in a few patterns
(:mod:`report_extractor.rules.context`).

Documented choices:

* "Status post Whipple" / partial pancreatectomy → pancreas ``absent`` (as EXTRACTION.md lists it)
  unless the report then describes the pancreatic remnant, whose status is then used; a total
  pancreatectomy is always ``absent``. The same "remnant" rule applies to a unilateral (or unsided)
  nephrectomy, adrenalectomy, mastectomy and pneumonectomy: the other organ, when described, decides.
* "At least N" is returned as a count of N with ``at_least=True`` on the lesion (group) and on the organ
  ("a 3 cm mass ... at least two additional lesions" → organ count at least 3).
* A plural restatement without new sizes ("Interval growth of hepatic metastases in segments 8 and 3")
  in the IMPRESSION, or a sentence referring back ("these", "including", "again seen"), restates the
  lesions its organ already has individually described and adds none; a plural with no such prior
  description ("Multiple hepatic metastases") stays ``multiple``.
* A hedge with its own subject after the lesion ("1.6 cm lesion, metastasis cannot be excluded") is about
  the lesion's nature: the lesion is definite. A hedged existence ("a small mass cannot be excluded")
  is ``possible``.
* Unit-less sizes are converted in code (see :mod:`report_extractor.rules.parsing`) and returned in mm.
* Findings notes (issue 13): a line break ends a sentence unless the line is visibly hard-wrapped; a
  lesion noun in a diagnosis clause ("suggestive of a cyst", "metastasis considered") names the lesion
  already described and adds none; a plural listing numbered liver segments counts one per segment;
  "bilateral adrenal nodules" are one per gland; a history-like header (comparison, indication) holds
  its first line only, and an ADDENDUM is read as findings.
* Issue 13, later classes: a lesion word without an organ word inherits no organ across a section
  change (FINDINGS → IMPRESSION) or under a header naming a site outside the vocabulary (``THYROID:``,
  ``VASCULATURE:``, ``LYMPH NODES:``); a lesion name that implies its organ ("IPMN", "HCC",
  "angiomyolipoma") gives that organ when its sentence has a measurement (a bare name opening a report
  is its indication); an organ the lesion acts on ("narrowed by", "caused by") yields to the site of the
  lesion's own phrase; pipe tables are read by column role (prior / change columns and sum rows
  dropped, the current column read, a unit-less value taking the header's unit); a side header
  (``Left:``, ``RIGHT KIDNEY:``) gives its side to the lesions below it until the next header.
* Lists and corrections: a group announcing a list ("three metastases:", "2 lesions: segment V 1.2 cm;
  ...") gives way to its items; an ADDENDUM restates findings as an impression does; a counted list in
  a correction replaces a group of unknown count; a correction told about a lesion reported twice
  reaches the measured telling; a RECIST target that "resolved" is no lesion.
* Measurements: a prior cue covers a coordinated list ("previously 1.0 cm and 0.8 cm"); "4 or 5 mm" is
  one size; "N cm in length" measures a hollow-organ lesion; an organ measurement under its header
  ("PROSTATE: enlarged, 5.5 cm, with ...") is no lesion size.
* Wording: verb negations ("do not reveal"); negation ends where a comma opens a new clause ("without
  enhancement, likely a cyst"); a hedged explanation ("may represent a perfusion anomaly") leaves a
  possible lesion; stones, splenules, emphysema explain generic findings away; a mural nodule is part
  of its cyst; a report's title line ("Restaging CT, prostate cancer.") names no finding.
* Schema 1.1 (rules 1.4): paired organs get per-side statuses (``left`` / ``right``) only when the report
  speaks of a side (:mod:`~report_extractor.rules.sides`): a one-sided resection → ``absent``, a side
  described without lesion → ``normal``, a side holding a lesion → ``lesion``; "kidneys normal" sets no
  side. A lobectomy leaves the side's other lobes and a partial nephrectomy / mastectomy the organ, so
  they remove no side (a pneumonectomy does). Lesions of the lung, colon, bone, breast, stomach,
  esophagus and adrenal glands get a canonical ``site`` ("lower lobe", "sigmoid", "L3", "left iliac
  wing", "upper outer quadrant", "antrum", "medial limb":
  :mod:`~report_extractor.rules.parsing.organ_sites`); the lingula gives the left side, the middle lobe
  the right; a clock position ("2 o'clock") is no count. A restatement fills the location fields a
  lesion lacks (an unmeasured "lower pole" told in the IMPRESSION), and an organ header opening the
  sentence gives its location ("Sigmoid colon: polypoid lesion").
* Rules 1.5 (failure classes of the final part of issue 13): "primary" used as a noun is a lesion
  ("Breast primary: 22 mm"; not "primary sclerosing", not an unknown primary); scoring categories
  ("LR-5", "BI-RADS 4") are no counts; a RECIST item labelled only by a side or a sub-site under an
  organ line or header ("Kidney⏎- Left: 64 mm", "LUNG:⏎right middle lobe: 14 mm") is a lesion of that
  organ; a RECIST response line adds no lesion; an ADDENDUM's retraction or organ move takes the
  IMPRESSION's unmeasured restatements along (a counted one loses one member), "there is no bladder
  mass" retracts, "the dominant mass" names the largest, "centred in ... rather than" moves; granulomas
  and a bare "small focus" are lesions; a count before "new" is a count, and the count nearest the
  noun wins ("both kidneys multiple cysts" → multiple); unqualified "bowel" names the small bowel and the
  colon ("GB", "SB" abbreviations too); an organ header is described even when its sentence names
  another organ; a lesion of a site outside the vocabulary ("adnexa", "thyroid") inherits no organ;
  a lung hilum mass is the lung's; a sentence opening with its site ("In the left lateral segment of
  the liver, ...") gives it to the lesion; a measured mural nodule is part of its cyst. Also: varices
  named by an organ adjective describe no organ; a urothelial "filling defect" is a lesion (a vascular
  one is not); an opening indication naming a prior finding ("Follow-up of a previously reported 7 mm
  renal hypodensity") adds none; a bilateral group told by its largest member's side is one with its
  "bilateral" restatement; a bracketed count after a plural ("(at least six)", "(n = 3)") counts; a
  counted list ("Two lesions:") ends at the next organ header; a lesion that "narrows" an organ is not
  in it; a fractured or degenerated vertebral level ("fx of L1") describes the bone.
* Rules 1.6 (consistency, no new vocabulary): an organ's clause ends at "whereas" / "while" / "but" in
  any case wherever a clause end is read (:func:`~report_extractor.rules.sections.clause_end`), so
  "the spleen is enlarged WHEREAS no adrenal nodule" no longer calls the spleen normal; sub-site words
  matched case-insensitively are looked up by their folded form ("taİl" no longer fails the report).
  Same records on all 524 evaluation reports.
"""

from __future__ import annotations

from typing import Final

from report_extractor.rules.extractor import extract_report

RULES_VERSION: Final[str] = "1.6"
"""Version of the rules; bump whenever behaviour changes so stored results are re-extracted."""

__all__ = ["RULES_VERSION", "extract_report"]
