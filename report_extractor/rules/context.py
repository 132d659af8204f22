"""ConText-style lexicon of the rules extractor: negation, hedging, history, non-lesion explanations,
sites outside the organ vocabulary, title lines and restatement cues, as compiled regular expressions.

The NegEx / ConText idea (a trigger, a bounded scope, terminators, post-triggers) in a few patterns;
:mod:`report_extractor.rules.cues` applies them. Every pattern is compiled once at import; matching is
case-insensitive. The patterns built with :func:`~report_extractor.rules.folding.caseless` (negation,
hedging, history, non-lesion, normal, protocol, summary, diagnosis-lead and foreign-site-after patterns
and the hints) match the folded text (:func:`~report_extractor.rules.folding.fold`, kept as
:attr:`Document.folded <report_extractor.rules.document.Document>`), not the text itself.
"""

from __future__ import annotations

import re
from typing import Final

from report_extractor.rules.folding import caseless

_I: Final = re.IGNORECASE

NEGATION_RE: Final = caseless(
    r"\b(?:no(?!\s+longer)(?!\s+(?:significant\s+|definite\s+|appreciable\s+|substantial\s+)?(?:interval\s+)?"
    r"(?:change|increase|decrease|growth|enlargement|progression))|without|negative\s+for|free\s+of"
    r"|absence\s+of|nor|neither|resolution\s+of|rather\s+than"
    # verb negations with the finding as object: "the kidneys do not reveal any mass"
    r"|(?:do|does|did|can)\s*(?:not|n't)\s+(?:reveal|show|demonstrate|depict|identify|disclose|display|contain"
    r"|have|see|detect)|fail(?:s|ed)?\s+to\s+(?:reveal|show|demonstrate|depict|identify))\b",
)
NEGATION_SCOPE_END_RE: Final = caseless(
    r"[;:.]\s|\b(?:but|however|although|though|except|other\s+than|aside\s+from|apart\s+from|besides|which"
    r"|whereas|while|exception|there\s+(?:is|are)|contains?|containing|demonstrates?|shows?|has|have"
    r"|with\s+(?:a|an|the|two|three|several|multiple)|again|stable|unchanged|redemonstrat\w*|known)\b"
    r"|\d\s*(?:mm|cm)\b"
    # a comma opening a new clause about the finding: "without enhancement, likely a cyst"
    r"|,\s*(?:(?:most\s+)?likely|probably|possibly|consistent|compatible|suggest\w*|represent\w*|favou?r\w*"
    r"|in\s+keeping|measuring|\d)",
)
NEGATION_MAX_WORDS: Final[int] = 8
POST_NEGATION_RE: Final = caseless(
    r"[^.;]{0,60}?\b(?:(?:is|are|was|were|has\s+been|have\s+been)\s+)?(?:not|no\s+longer)\s+"
    r"(?:(?:clearly|definitely|well)\s+)?(?:seen|identified|visualized|visible|demonstrated|present|appreciated"
    r"|detected|evident|noted|apparent)\b|[^.;]{0,60}?\b(?:has|have)\s+(?:since\s+)?resolved\b"
    r"|\s*:\s*(?:(?:not\s+measurable|non-?measurable|nm)\s*,\s*)?(?:(?:completely\s+)?resolved|disappeared|absent)\b",
)
PROBABLE_RE: Final = caseless(
    r"\b(?:likely|probable|probably|suspicious|suspected|concerning|worrisome|suggestive|suggests?|"
    r"favou?r(?:ed|s)?|presumed|presumably|compatible\s+with|representing|presumptive)\b",
)
POSSIBLE_RE: Final = caseless(
    r"\b(?:possible|possibly|may\s+(?:represent|be)|might|could\s+(?:represent|be)|cannot\s+(?:be\s+)?"
    r"(?:exclude|excluded|ruled?\s+out)|can\s*not\s+(?:be\s+)?(?:exclude|excluded|ruled?\s+out)|"
    r"questionable|equivocal|not\s+excluded|difficult\s+to\s+exclude|vs\.?|versus|\?)",
)
POST_POSSIBLE_RE: Final = caseless(
    r"\b(?:cannot\s+be\s+(?:excluded|ruled\s+out)|can\s*not\s+be\s+(?:excluded|ruled\s+out)|not\s+excluded)\b",
)
HISTORY_CONTEXT_RE: Final = caseless(
    r"\b(?:history\s+of|h/o|hx\s+of|s/p|status\s+post|post|resected|resection\s+of|(?:previously\s+)treated|ablated|"
    r"ablation\s+of|removal\s+of|excision\s+of|evaluat\w+\s+(?:of|for)|rule\s+out|r/o|screening\s+for|"
    r"follow[\s-]?up\s+of)\s+(?:\S+\s+){0,3}$",
)
NON_LESION_EXPLANATION_RE: Final = caseless(
    r"\b(?:focal\s+fat\w*|fatty\s+(?:infiltration|sparing|deposition)|focal\s+(?:fatty\s+)?sparing|"
    r"perfusion|infarcts?|infarction|scar\w*|atelectasis|hematoma|abscess\w*|collections?|seroma|biloma|"
    r"lymphocele|post-?(?:operative|surgical)|transient\s+hepatic|thad|shunt|flow\s+artifact|artifact|"
    r"beam\s+hardening|volume\s+averaging|partial\s+volume|fluid|pseudocysts?|vascular|vessel|"
    r"calcifi\w*|fibrosis|lymph\s+nodes?|diverticul\w*|duct|ectasia"
    # stones and sludge; accessory spleens; airspace disease; treatment changes; variants
    r"|(?:gall)?stones?|calcul\w+|\w*lithiasis|sludge|splenules?|splenunculi|splenunculus"
    r"|accessory\s+spleens?|splenosis|emphysema\w*|bullae?|blebs?|air\s+trapping|post-?treatment"
    r"|ablation\s+(?:zone|cavity|defect)|(?:surgical\s+)?clips?|normal\s+variant|pseudo-?lesions?)\b",
)
NON_LESION_AFTER_RE: Final = caseless(
    r"[^;]{0,60}?\b(?:likely|probably|consistent\s+with|compatible\s+with|represent\w*|reflect\w*|due\s+to"
    r"|related\s+to|suggestive\s+of|favou?r\w*|secondary\s+to|in\s+keeping\s+with|c/w|from)\s+"
    r"(?:an?\s+|the\s+)?(?:[\w-]+\s+){0,2}?" + NON_LESION_EXPLANATION_RE.pattern,
)
NORMAL_RE: Final = caseless(
    r"\b(?:unremarkable|normal|within\s+normal\s+limits|wnl|negative|no\s+abnormalit\w*|clear|intact)\b",
)
TITLE_RE: Final = re.compile(
    r"\b(?:ct|mri?|pet(?:-ct)?|restaging|staging|response\s+assessment|re-?evaluation|follow[\s-]?up|surveillance"
    r"|recist|protocol|indication)\b",
    _I,
)
"""In a report's first sentence without a measurement: a title or indication line ("Restaging CT,
prostate cancer."), whose lesion words name the reason for the exam, not findings."""
PROTOCOL_AFTER_RE: Final = caseless(r"\s+(?:[\w-]+\s+){0,2}?(?:protocol|study|exam(?:ination)?)\b")
"""After a lesion word: it names an exam protocol ("CT PANCREATIC MASS PROTOCOL"), not a finding."""
FOREIGN_SITE_RE: Final = re.compile(
    r"\b(?:peritoneal|mesenteric|retroperitoneal|omental|pelvic|abdominal\s+wall|subcutaneous|nodal|"
    r"lymph|para-?aortic|pleural|pericardial|cutaneous|muscle|psoas|adnexal|ovarian|thyroid|"
    r"paracolic|presacral|perihepatic|perisplenic|peripancreatic|perirenal|perinephric|mediastinal|"
    r"axillary|inguinal|iliac\s+chain|\w*ectomy\s+bed|(?:surgical|resection|operative)\s+bed)\s+(?:\S+\s+){0,1}$",
    _I,
)
FOREIGN_SITE_AFTER_RE: Final = caseless(
    r"\s+(?:\S+\s+){0,3}?(?:in|within|of|along|at)\s+(?:the\s+)?(?:\S+\s+){0,1}"
    r"(?:mesentery|peritoneum|retroperitoneum|omentum|abdominal\s+wall|subcutaneous|adnexa|ovary|"
    r"pelvis|thyroid|mediastinum|axilla|pleura|paracolic|presacral|porta\s+hepatis)\b",
)
ANAPHORA_RE: Final = re.compile(
    r"^(?:this|these|it|the\s+(?:above|aforementioned|previously\s+described|described)|the\s+(?:lesion|mass"
    r"|cyst|nodule|hypodensity|tumou?r)s?)\b",
    _I,
)
SUMMARY_CUE_RE: Final = caseless(
    r"\b(?:interval\s+(?:growth|increase|decrease|enlargement|progression|regression|change)|including"
    r"|again\s+(?:seen|noted|demonstrated|identified|visualized)|redemonstrat\w*|re-demonstrat\w*|known"
    r"|previously\s+(?:described|seen|noted|identified)|aforementioned|above[\s-]described|as\s+above"
    r"|described\s+above)\b",
)
"""A sentence referring back to lesions already described ("interval growth of hepatic metastases")."""
DIAGNOSIS_LEAD_RE: Final = caseless(
    r"\b(?:(?:concerning|suspicious|worrisome|worrying)\s+for|consistent\s+with|compatible\s+with"
    r"|suggestive\s+of|suggesting|suggests|in\s+keeping\s+with|c/w|representing|likely|probabl[ey]"
    r"|most\s+likely|may\s+represent|could\s+represent|differential\s+(?:diagnosis\s+)?includ\w*"
    r"|considerations?\s+includ\w*|favou?r(?:ed|ing|s)?|versus|vs\.?|such\s+as|either|or)\b",
)
"""Words before a lesion noun that name what an already described lesion is (a diagnosis); matched
against folded text."""
DIAGNOSIS_TRAIL_RE: Final = re.compile(
    r"\s+(?:is\s+|are\s+)?(?:considered|suspected|possible|probable|likely|not\s+excluded)\b", _I
)
"""Words after a lesion noun that make it a diagnosis ("..., metastasis considered")."""
ANOTHER_RE: Final = re.compile(r"\b(?:another|additional|second|other|separate|also|new|further)\b", _I)

HISTORY_HINT_RE: Final = caseless(
    r"hist|h/o|hx|s/p|status|post|resect|treat|ablat|remov|excis|evaluat|rule|r/o|screen|follow",
)
"""Cheap pre-filter for ``HISTORY_CONTEXT_RE`` (plain literals, no anchors)."""
FOREIGN_HINT_RE: Final = caseless(
    r"peritone|mesent|retroperit|oment|pelvi|wall|subcut|nodal|lymph|aortic|pleura|pericard|cutan|muscle|psoas|adnex|ovar|thyro|paracol|presacr|peri|mediast|axill|inguin|iliac|bed",
)
"""Cheap pre-filter for ``FOREIGN_SITE_RE``."""
