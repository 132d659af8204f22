"""Lexicons of the rules extractor, as compiled regular expressions: lesion words, organ words,
negation, hedging, counts, non-lesion explanations, distractor measurements and resections.

Every pattern is compiled once at import; matching is case-insensitive unless stated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from schemas.parsing import NOT_A_NUMBER_AFTER_RE, NOT_A_NUMBER_BEFORE_RE
from schemas.records import LesionKind, Malignancy
from schemas.vocabulary import ORGAN_SYNONYMS, Organ

_I: Final = re.IGNORECASE

# --------------------------------------------------------------------------------------------------
# Organs
# --------------------------------------------------------------------------------------------------

# Words the shared vocabulary does not hold, kept local to the rules (bones, colon segments, ...).
_EXTRA_ORGAN_WORDS: Final[dict[str, Organ]] = {
    "vertebra": Organ.BONE,
    "vertebrae": Organ.BONE,
    "vertebral": Organ.BONE,
    "vertebral body": Organ.BONE,
    "vertebral bodies": Organ.BONE,
    "spine": Organ.BONE,
    "sacrum": Organ.BONE,
    "sacral": Organ.BONE,
    "iliac bone": Organ.BONE,
    "iliac wing": Organ.BONE,
    "rib": Organ.BONE,
    "ribs": Organ.BONE,
    "bony": Organ.BONE,
    "femur": Organ.BONE,
    "femoral head": Organ.BONE,
    "sternum": Organ.BONE,
    "musculoskeletal": Organ.BONE,
    "cecum": Organ.COLON,
    "caecum": Organ.COLON,
    "cecal": Organ.COLON,
    "sigmoid": Organ.COLON,
    "rectosigmoid": Organ.COLON,
    "rectal": Organ.COLON,
    "hepatic flexure": Organ.COLON,
    "splenic flexure": Organ.COLON,
    "endometrium": Organ.UTERUS,
    "endometrial": Organ.UTERUS,
    "myometrium": Organ.UTERUS,
    "myometrial": Organ.UTERUS,
    "lung base": Organ.LUNG,
    # lung lobes named without "lung" (the liver's lobes are right / left / caudate / quadrate)
    "upper lobe": Organ.LUNG,
    "lower lobe": Organ.LUNG,
    "middle lobe": Organ.LUNG,
    "lingula": Organ.LUNG,
    "lingular": Organ.LUNG,
    "rul": Organ.LUNG,
    "rml": Organ.LUNG,
    "rll": Organ.LUNG,
    "lul": Organ.LUNG,
    "lll": Organ.LUNG,
    "jejunal": Organ.SMALL_BOWEL,
    "ileal": Organ.SMALL_BOWEL,
    "panc": Organ.PANCREAS,
    "lung bases": Organ.LUNG,
    "liver parenchyma": Organ.LIVER,
    "urinary bladder": Organ.BLADDER,
    # condition words that name their organ
    "hepatomegaly": Organ.LIVER,
    "splenomegaly": Organ.SPLEEN,
    "cholelithiasis": Organ.GALLBLADDER,
    "cholecystitis": Organ.GALLBLADDER,
    "gallstone": Organ.GALLBLADDER,
    "gallstones": Organ.GALLBLADDER,
    "nephrolithiasis": Organ.KIDNEY,
    "hydronephrosis": Organ.KIDNEY,
}
_ORGAN_WORDS: Final[dict[str, Organ]] = {**ORGAN_SYNONYMS, **_EXTRA_ORGAN_WORDS}
ORGAN_RE: Final = re.compile(
    r"\b(" + "|".join(sorted((re.escape(k) for k in _ORGAN_WORDS), key=len, reverse=True)) + r")\b", _I
)
# An organ word followed by these names a vessel, duct or landmark, not the organ.
_ORGAN_REFERENCE_RE: Final = re.compile(
    r"\s+(?:veins?|venous|arter(?:y|ies)|arterial|vasculature|vessels?|ducts?|duct\b|hilum|hilar|fossa|"
    r"bed|flexure|ligament|capsule\s+of|angle|surface|recess|artery|embol\w*|aneurysm|infarct\w*|"
    r"transplant|graft|sinus\s+fat|band)\b",
    _I,
)


_TOKEN_RE: Final = re.compile(r"[A-Za-z]+")
_TWO_WORD_FIRSTS: Final[frozenset[str]] = frozenset(k.split()[0] for k in _ORGAN_WORDS if " " in k)


def organ_mentions(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int, Organ]]:
    """``(start, end, organ)`` of each organ word in ``text[start:end]`` (vessels and ducts excluded).

    "hepatic flexure" and "splenic flexure" resolve to the colon; "renal vein", "hepatic duct",
    "gallbladder fossa" name no organ. Two-word names ("adrenal gland", "small bowel") win over their
    first word.
    """
    stop = len(text) if end is None else end
    tokens = [(m.start(), m.end(), m.group(0).lower()) for m in _TOKEN_RE.finditer(text, start, stop)]
    found: list[tuple[int, int, Organ]] = []
    i = 0
    n = len(tokens)
    while i < n:
        t_start, t_end, word = tokens[i]
        organ: Organ | None = None
        m_end = t_end
        if word in _TWO_WORD_FIRSTS and i + 1 < n:
            n_start, n_end, nxt = tokens[i + 1]
            if text[t_end:n_start].isspace() and f"{word} {nxt}" in _ORGAN_WORDS:
                organ, m_end = _ORGAN_WORDS[f"{word} {nxt}"], n_end
                i += 1
        if organ is None:
            organ = _ORGAN_WORDS.get(word)
        i += 1
        if organ is None:
            continue
        if organ is not Organ.COLON and _ORGAN_REFERENCE_RE.match(text, m_end, stop):
            continue
        found.append((t_start, m_end, organ))
    return found


# --------------------------------------------------------------------------------------------------
# Lesion words
# --------------------------------------------------------------------------------------------------

_AREA: Final[str] = (
    r"(?:lesions?|foci|focus|areas?|regions?|zones?|nodules?|masses|mass|structures?|shadows?|observations?)"
)
# Lesion vocabulary by category (terse and machine-translated notes write "shadow" / "focus" for a
# lesion, and name tumours by their histology rather than "mass"):
_BENIGN_TUMOURS: Final[str] = (
    r"adenomas?|angiomyolipomas?|amls?|myelolipomas?|lipomas?|hamartomas?|fibroids?|leiomyomas?|myomas?"
    r"|adenomyomas?|polyps?|fnh|focal\s+nodular\s+hyperplasia|oncocytomas?|schwannomas?|neurofibromas?"
    r"|osteomas?|enchondromas?|chondromas?|lymphangiomas?|angiomas?|desmoids?|teratomas?|dermoids?"
    r"|meningiomas?|pheochromocytomas?|paragangliomas?|bone\s+islands?|enostos[ie]s"
)
_BONE_LESIONS: Final[str] = (
    r"(?:osteo)?(?:lytic|blastic|sclerotic)\s+(?:bone\s+)?(?:lesions?|foci|focus|areas?|deposits?)"
    r"|(?:destructive|expansile|permeative)\s+(?:bone\s+)?(?:lesions?|foci|focus|areas?)"
    r"|(?:bone|bony|osseous|cortical)\s+destruction"
)
_SHADOWS: Final[str] = (
    r"(?:(?:abnormal|mixed|slightly\s+(?:low|high))[\s-]+)?density\s+shadows?"
    r"|(?:round|oval|space[\s-]occupying|occupying|soft[\s-]tissue)\s+shadows?"
)
LESION_CUE_RE: Final = re.compile(
    r"\b(?:"
    r"(?P<metastasis>metastas[ie]s|metastatic\s+(?:disease|deposits?|lesions?|foci|focus|nodules?|masses|mass)"
    r"|mets|metastatic\s+\w+\s+(?:lesions?|masses|nodules?))"
    r"|(?P<hemangioma>ha?emangiomas?)"
    r"|(?P<cyst>cysts?|cystic\s+" + _AREA + r"|cystic\s+(?:disease|changes)"
    r"|polycystic(?=\s+(?:kidneys?|liver|renal|hepatic|disease|change)))"
    r"|(?P<tumor>tumou?rs?(?!\s+thromb)|neoplasms?|(?:adeno|cholangio|hepatocellular\s+)?carcinomas?"
    r"|malignanc(?:y|ies)|cancers?|hcc|rcc|hepatomas?|lymphomas?|sarcomas?|insulinomas?|pnets?|gists?"
    r"|ipmns?|cystadenomas?|neuroendocrine\s+tumou?rs?|carcinoids?|myelomas?|plasmacytomas?|melanomas?"
    r"|mesotheliomas?|thymomas?|seminomas?)"
    r"|(?P<mass>masses|mass(?![\s-]+effect)|mass-?like)"
    r"|(?P<nodule>nodules?|nodular\s+shadows?|micronodules)"
    r"|(?P<hypodensity>hypodensit(?:y|ies)|hypoattenuation|hypo-?(?:attenuating|dense|enhancing)\s+"
    + _AREA
    + r""
    r"|low[\s-](?:attenuation|density)\s+" + _AREA + r"|areas?\s+of\s+(?:low|decreased)\s+"
    r"(?:attenuation|density|enhancement))"
    r"|(?P<hyperdensity>hyperdensit(?:y|ies)|hyper-?(?:attenuating|dense|enhancing)\s+" + _AREA + r""
    r"|high[\s-](?:attenuation|density)\s+" + _AREA + r""
    r"|(?:arterially\s+)?enhancing\s+(?:lesions?|foci|focus|nodules?)|hypervascular\s+" + _AREA + r")"
    r"|(?P<other>" + _BENIGN_TUMOURS + "|" + _BONE_LESIONS + r")"
    r"|(?P<lesion>lesions?|" + _SHADOWS + r"|(?<!for\s)(?<!under\s)(?<!clinical\s)observations?)"
    r")\b",
    _I,
)
CUE_KINDS: Final[dict[str, LesionKind]] = {
    "metastasis": LesionKind.METASTASIS,
    "hemangioma": LesionKind.HEMANGIOMA,
    "cyst": LesionKind.CYST,
    "tumor": LesionKind.TUMOR,
    "mass": LesionKind.MASS,
    "nodule": LesionKind.NODULE,
    "hypodensity": LesionKind.HYPODENSITY,
    "hyperdensity": LesionKind.HYPERDENSITY,
    "other": LesionKind.OTHER,
    "lesion": LesionKind.LESION,
}
KIND_PRIORITY: Final[tuple[LesionKind, ...]] = (
    LesionKind.METASTASIS,
    LesionKind.HEMANGIOMA,
    LesionKind.CYST,
    LesionKind.TUMOR,
    LesionKind.MASS,
    LesionKind.NODULE,
    LesionKind.OTHER,
    LesionKind.HYPODENSITY,
    LesionKind.HYPERDENSITY,
    LesionKind.LESION,
)
GENERIC_KINDS: Final[frozenset[LesionKind]] = frozenset(
    {LesionKind.LESION, LesionKind.HYPODENSITY, LesionKind.HYPERDENSITY, LesionKind.NODULE}
)
_PLURAL_RE: Final = re.compile(r"(?:s|ses|ies|foci|mets|metastases|areas|regions|polycystic|changes)$", _I)
_SINGULAR_S_RE: Final = re.compile(r"(?:mass|metastasis|hypoattenuation|focus|enostosis|disease)$", _I)


def is_plural(word: str) -> bool:
    """Whether a matched lesion phrase is plural ("cysts", "metastases", "foci")."""
    last = word.split()[-1]
    return bool(_PLURAL_RE.search(last)) and not _SINGULAR_S_RE.search(last)


_MALIGNANT_RE: Final = re.compile(
    r"\b(?:malignan\w*|metasta\w*|mets|carcinoma\w*|cancers?|hcc|rcc|hepatoma|lymphoma|sarcoma|"
    r"adenocarcinoma|cholangiocarcinoma)\b",
    _I,
)
_BENIGN_RE: Final = re.compile(
    r"\b(?:benign|simple\s+cysts?|ha?emangiomas?|adenomas?|angiomyolipomas?|myelolipomas?|lipomas?|"
    r"fnh|focal\s+nodular\s+hyperplasia|fibroids?|leiomyomas?|bosniak\s+(?:1|2|i|ii)\b)",
    _I,
)
_INDETERMINATE_RE: Final = re.compile(r"\bindeterminate\b", _I)


def malignancy(text: str) -> Malignancy:
    """Malignancy class stated in ``text`` (malignant words win over benign ones)."""
    if _MALIGNANT_RE.search(text):
        return Malignancy.MALIGNANT
    if _BENIGN_RE.search(text):
        return Malignancy.BENIGN
    if _INDETERMINATE_RE.search(text):
        return Malignancy.INDETERMINATE
    return Malignancy.UNKNOWN


# --------------------------------------------------------------------------------------------------
# Negation, hedging, history, non-lesion explanations
# --------------------------------------------------------------------------------------------------

NEGATION_RE: Final = re.compile(
    r"\b(?:no(?!\s+longer)(?!\s+(?:significant\s+|definite\s+|appreciable\s+|substantial\s+)?(?:interval\s+)?"
    r"(?:change|increase|decrease|growth|enlargement|progression))|without|negative\s+for|free\s+of"
    r"|absence\s+of|nor|neither|resolution\s+of|rather\s+than)\b",
    _I,
)
NEGATION_SCOPE_END_RE: Final = re.compile(
    r"[;:.]\s|\b(?:but|however|although|though|except|other\s+than|aside\s+from|apart\s+from|besides|which"
    r"|whereas|while|exception|there\s+(?:is|are)|contains?|containing|demonstrates?|shows?|has|have"
    r"|with\s+(?:a|an|the|two|three|several|multiple)|again|stable|unchanged|redemonstrat\w*|known)\b"
    r"|\d\s*(?:mm|cm)\b",
    _I,
)
NEGATION_MAX_WORDS: Final[int] = 8
POST_NEGATION_RE: Final = re.compile(
    r"[^.;]{0,60}?\b(?:(?:is|are|was|were|has\s+been|have\s+been)\s+)?(?:not|no\s+longer)\s+"
    r"(?:(?:clearly|definitely|well)\s+)?(?:seen|identified|visualized|visible|demonstrated|present|appreciated"
    r"|detected|evident|noted|apparent)\b|[^.;]{0,60}?\b(?:has|have)\s+(?:since\s+)?resolved\b",
    _I,
)
PROBABLE_RE: Final = re.compile(
    r"\b(?:likely|probable|probably|suspicious|suspected|concerning|worrisome|suggestive|suggests?|"
    r"favou?r(?:ed|s)?|presumed|presumably|compatible\s+with|representing|presumptive)\b",
    _I,
)
POSSIBLE_RE: Final = re.compile(
    r"\b(?:possible|possibly|may\s+(?:represent|be)|might|could\s+(?:represent|be)|cannot\s+(?:be\s+)?"
    r"(?:exclude|excluded|ruled?\s+out)|can\s*not\s+(?:be\s+)?(?:exclude|excluded|ruled?\s+out)|"
    r"questionable|equivocal|not\s+excluded|difficult\s+to\s+exclude|vs\.?|versus|\?)",
    _I,
)
POST_POSSIBLE_RE: Final = re.compile(
    r"\b(?:cannot\s+be\s+(?:excluded|ruled\s+out)|can\s*not\s+be\s+(?:excluded|ruled\s+out)|not\s+excluded)\b",
    _I,
)
HISTORY_CONTEXT_RE: Final = re.compile(
    r"\b(?:history\s+of|h/o|hx\s+of|s/p|status\s+post|post|resected|resection\s+of|treated|ablated|"
    r"ablation\s+of|removal\s+of|excision\s+of|evaluat\w+\s+(?:of|for)|rule\s+out|r/o|screening\s+for|"
    r"follow[\s-]?up\s+of)\s+(?:\S+\s+){0,3}$",
    _I,
)
NON_LESION_EXPLANATION_RE: Final = re.compile(
    r"\b(?:focal\s+fat\w*|fatty\s+(?:infiltration|sparing|deposition)|focal\s+(?:fatty\s+)?sparing|"
    r"perfusion|infarcts?|infarction|scar\w*|atelectasis|hematoma|abscess\w*|collections?|seroma|biloma|"
    r"lymphocele|post-?(?:operative|surgical)|transient\s+hepatic|thad|shunt|flow\s+artifact|artifact|"
    r"beam\s+hardening|volume\s+averaging|partial\s+volume|fluid|pseudocysts?|vascular|vessel|"
    r"granulomas?|calcifi\w*|fibrosis|lymph\s+nodes?|diverticul\w*|duct|ectasia)\b",
    _I,
)
NON_LESION_AFTER_RE: Final = re.compile(
    r"[^;]{0,60}?\b(?:likely|probably|consistent\s+with|compatible\s+with|represent\w*|reflect\w*|due\s+to"
    r"|related\s+to|suggestive\s+of|favou?r\w*|secondary\s+to|in\s+keeping\s+with|c/w|from)\s+"
    r"(?:an?\s+|the\s+)?(?:[\w-]+\s+){0,2}?" + NON_LESION_EXPLANATION_RE.pattern,
    _I,
)
NORMAL_RE: Final = re.compile(
    r"\b(?:unremarkable|normal|within\s+normal\s+limits|wnl|negative|no\s+abnormalit\w*|clear|intact)\b",
    _I,
)
FOREIGN_SITE_RE: Final = re.compile(
    r"\b(?:peritoneal|mesenteric|retroperitoneal|omental|pelvic|abdominal\s+wall|subcutaneous|nodal|"
    r"lymph|para-?aortic|pleural|pericardial|cutaneous|muscle|psoas|adnexal|ovarian|thyroid|"
    r"paracolic|presacral|perihepatic|perisplenic|peripancreatic|perirenal|perinephric|mediastinal|"
    r"axillary|inguinal|iliac\s+chain)\s+(?:\S+\s+){0,1}$",
    _I,
)
FOREIGN_SITE_AFTER_RE: Final = re.compile(
    r"\s+(?:\S+\s+){0,3}?(?:in|within|of|along|at)\s+(?:the\s+)?(?:\S+\s+){0,1}"
    r"(?:mesentery|peritoneum|retroperitoneum|omentum|abdominal\s+wall|subcutaneous|adnexa|ovary|"
    r"pelvis|thyroid|mediastinum|axilla|pleura|paracolic|presacral|porta\s+hepatis)\b",
    _I,
)
ANAPHORA_RE: Final = re.compile(
    r"^(?:this|these|it|the\s+(?:above|aforementioned|previously\s+described|described)|the\s+(?:lesion|mass"
    r"|cyst|nodule|hypodensity|tumou?r)s?)\b",
    _I,
)
SUMMARY_CUE_RE: Final = re.compile(
    r"\b(?:interval\s+(?:growth|increase|decrease|enlargement|progression|regression|change)|including"
    r"|again\s+(?:seen|noted|demonstrated|identified|visualized)|redemonstrat\w*|re-demonstrat\w*|known"
    r"|previously\s+(?:described|seen|noted|identified)|aforementioned|above[\s-]described|as\s+above"
    r"|described\s+above)\b",
    _I,
)
"""A sentence referring back to lesions already described ("interval growth of hepatic metastases")."""
DIAGNOSIS_LEAD_RE: Final = re.compile(
    r"\b(?:(?:concerning|suspicious|worrisome|worrying)\s+for|consistent\s+with|compatible\s+with"
    r"|suggestive\s+of|suggesting|suggests|in\s+keeping\s+with|c/w|representing|likely|probabl[ey]"
    r"|most\s+likely|may\s+represent|could\s+represent|differential\s+(?:diagnosis\s+)?includ\w*"
    r"|considerations?\s+includ\w*|favou?r(?:ed|ing|s)?|versus|vs\.?|such\s+as|either|or)\b",
    _I,
)
"""Words before a lesion noun that name what an already described lesion is (a diagnosis)."""
DIAGNOSIS_TRAIL_RE: Final = re.compile(
    r"\s+(?:is\s+|are\s+)?(?:considered|suspected|possible|probable|likely|not\s+excluded)\b", _I
)
"""Words after a lesion noun that make it a diagnosis ("..., metastasis considered")."""
ANOTHER_RE: Final = re.compile(r"\b(?:another|additional|second|other|separate|also|new|further)\b", _I)

# --------------------------------------------------------------------------------------------------
# Counts
# --------------------------------------------------------------------------------------------------

NUMBER_WORDS: Final[dict[str, int]] = {
    "one": 1,
    "single": 1,
    "solitary": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "a couple of": 2,
    "couple of": 2,
    "a pair of": 2,
    "both": 2,
}
COUNT_RE: Final = re.compile(
    r"(?:(?P<atleast>at\s+least|more\s+than|greater\s+than|over)\s+)?"
    r"(?:(?P<word>"
    + "|".join(sorted((re.escape(k) for k in NUMBER_WORDS), key=len, reverse=True))
    + r")|(?P<digit>(?<![\d.,/])\b\d{1,2}(?!\s*(?:mm|cm|x|×|by|\.\d|,\d|-|/))(?!"
    + NOT_A_NUMBER_AFTER_RE.pattern
    + r"))"
    r"|(?P<multiple>multiple|numerous|innumerable|several|many|countless|scattered|a\s+few|few|various|"
    r"multifocal|diffuse|bilateral|multiplicity\s+of|a\s+number\s+of|too\s+numerous\s+to\s+count))\b"
    r"(?P<gap>(?:\s+(?!(?:a|an|the|and|or|with|of|in|is|are|was|were|which|there|to|no)\b)[^\s;:]*[^\s;:,])"
    r"{0,5}?)\s+$",
    _I,
)
COUNT_BLOCKER_RE: Final = NOT_A_NUMBER_BEFORE_RE
"""A number after these words is a label, not a count (the one shared list, :mod:`schemas.parsing`)."""

# --------------------------------------------------------------------------------------------------
# Measurements that are not lesion sizes
# --------------------------------------------------------------------------------------------------

DISTRACTOR_RE: Final = re.compile(
    r"\b(?:cbd|common\s+(?:bile|hepatic)\s+duct|ducts?|ductal|choledoch\w*|aorta|aortic|aneurysm\w*|"
    r"calib(?:er|re)|lymph\s+nodes?|nodes?|nodal|lymphadenopathy|adenopathy|ivc|vena\s+cava|veins?|"
    r"arter(?:y|ies)|stones?|calcul(?:us|i)|cholelithiasis|nephrolithiasis|gallstones?|nephroliths?|"
    r"urolith\w*|stents?|catheters?|drains?|collections?|abscess\w*|fluid|effusions?|ascites|hernia\w*|"
    r"thickness|thickening|wall|length|span|pole[\s-]to[\s-]pole|hematoma|seroma|biloma|diverticul\w*|"
    r"appendix|bowel|hydronephrosis|calcifications?|granulomas?|pseudocysts?|thrombus|clips?|diameter\s+of"
    r"\s+the\s+(?:aorta|duct|cbd)|dilat\w*)\b",
    _I,
)
ORGAN_MEASURE_RE: Final = re.compile(
    r"[^;]{0,40}?\b(?:measur\w*|spans?|spanning|length|enlarged|size|sized|craniocaudal|at)\b[^;]{0,25}$",
    _I,
)

# --------------------------------------------------------------------------------------------------
# Resections
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Resection:
    """A resection rule: the organ, and whether the whole organ is gone or a remnant may remain."""

    organ: Organ
    complete: bool
    pattern: re.Pattern[str]


_ABSENT_ORGAN: Final[str] = (
    r"(?:is\s+|are\s+|has\s+been\s+|have\s+been\s+)?(?:surgically\s+|post-?surgically\s+)?"
    r"(?:absent|removed|resected)"
)
RESECTIONS: Final[tuple[Resection, ...]] = (
    Resection(
        Organ.GALLBLADDER,
        True,
        re.compile(
            r"\b(?:cholecystectom\w*|(?:gall\s?bladder)\s+" + _ABSENT_ORGAN + r"|(?:surgically\s+)?absent\s+"
            r"gall\s?bladder|post-?cholecystectomy)\b",
            _I,
        ),
    ),
    Resection(
        Organ.SPLEEN,
        True,
        re.compile(r"\b(?:splenectom\w*|spleen\s+" + _ABSENT_ORGAN + r"|asplenia)\b", _I),
    ),
    Resection(
        Organ.UTERUS,
        True,
        re.compile(r"\b(?:\w*hysterectom\w*|uterus\s+" + _ABSENT_ORGAN + r")\b", _I),
    ),
    Resection(Organ.PROSTATE, True, re.compile(r"\b(?:\w*prostatectom\w*)\b", _I)),
    Resection(Organ.BLADDER, True, re.compile(r"\b(?:cystectom\w*|cystoprostatectom\w*)\b", _I)),
    Resection(Organ.PANCREAS, True, re.compile(r"\btotal\s+pancreatectom\w*\b", _I)),
    Resection(
        Organ.PANCREAS,
        False,
        re.compile(
            r"\b(?:(?<!total\s)pancreatectom\w*|whipple|pancreat(?:ic)?o-?duodenectom\w*|"
            r"pancreas\s+" + _ABSENT_ORGAN + r")\b",
            _I,
        ),
    ),
    Resection(
        Organ.KIDNEY,
        True,
        re.compile(r"\bbilateral\s+(?:radical\s+)?nephrectom\w*\b|\bnephrectomies\b", _I),
    ),
    Resection(
        Organ.KIDNEY,
        False,
        re.compile(
            r"\b(?<!partial\s)(?:radical\s+)?nephrectom(?:y|ies)\b|\b(?:left|right)\s+kidney\s+"
            + _ABSENT_ORGAN
            + r"|\babsent\s+(?:left|right)\s+kidney\b|\bsolitary\s+(?:left|right)?\s*kidney\b",
            _I,
        ),
    ),
    Resection(Organ.ADRENAL_GLAND, False, re.compile(r"\badrenalectom\w*\b", _I)),
    Resection(Organ.BREAST, False, re.compile(r"\bmastectom\w*\b", _I)),
    Resection(Organ.LUNG, False, re.compile(r"\bpneumonectom\w*\b", _I)),
    Resection(Organ.STOMACH, True, re.compile(r"\btotal\s+gastrectom\w*\b", _I)),
    Resection(Organ.ESOPHAGUS, True, re.compile(r"\besophagectom\w*\b|\boesophagectom\w*\b", _I)),
    Resection(Organ.COLON, True, re.compile(r"\btotal\s+(?:procto)?colectom\w*\b", _I)),
)
RESECTION_HINT_RE: Final = re.compile(r"ectom|absent|removed|resected|whipple|asplenia|solitary", _I)
"""Cheap pre-filter: a sentence without any of these words has no resection."""
REMNANT_RE: Final = re.compile(r"\b(?:remnant|remaining|residual|remainder)\b", _I)


HEADER_ABSENT_RE: Final = re.compile(
    r"^(?:(?:is|are)\s+)?(?:surgically\s+|post-?surgically\s+)?(?:absent|removed|resected|not\s+present)\b"
    r"|^(?:status\s+post|s/p)\s+(?:resection|removal)\b",
    _I,
)
"""A sentence under an organ header saying the organ is gone ("GALLBLADDER: Surgically absent.")."""


CUE_PREFIXES: Final[frozenset[str]] = frozenset(
    (
        "met",
        "hem",
        "hae",
        "cys",
        "tum",
        "neo",
        "ade",
        "cho",
        "hep",
        "car",
        "mal",
        "can",
        "hcc",
        "rcc",
        "lym",
        "sar",
        "ins",
        "pne",
        "gis",
        "ipm",
        "neu",
        "mas",
        "nod",
        "hyp",
        "low",
        "are",
        "art",
        "enh",
        "ang",
        "aml",
        "mye",
        "lip",
        "ham",
        "fib",
        "lei",
        "pol",
        "fnh",
        "foc",
        "onc",
        "lyt",
        "bla",
        "scl",
        "les",
        # added with the categorised vocabulary (issue 13)
        "sha",
        "obs",
        "hig",
        "mix",
        "sli",
        "abn",
        "den",
        "rou",
        "ova",
        "spa",
        "occ",
        "sof",
        "ost",
        "des",
        "exp",
        "per",
        "bon",
        "oss",
        "cor",
        "myo",
        "sch",
        "ter",
        "der",
        "men",
        "phe",
        "par",
        "pla",
        "mes",
        "thy",
        "sem",
        "mic",
        "eno",
        "enc",
        "mel",
    )
)
"""First three letters of every lesion phrase: only words starting so are tried with ``LESION_CUE_RE``."""
HISTORY_HINT_RE: Final = re.compile(
    r"hist|h/o|hx|s/p|status|post|resect|treat|ablat|remov|excis|evaluat|rule|r/o|screen|follow",
    _I,
)
"""Cheap pre-filter for ``HISTORY_CONTEXT_RE`` (plain literals, no anchors)."""
FOREIGN_HINT_RE: Final = re.compile(
    r"peritone|mesent|retroperit|oment|pelvi|wall|subcut|nodal|lymph|aortic|pleura|pericard|cutan|muscle|psoas|adnex|ovar|thyro|paracol|presacr|peri|mediast|axill|inguin|iliac",
    _I,
)
"""Cheap pre-filter for ``FOREIGN_SITE_RE``."""
COUNT_HINT_WORDS: Final[frozenset[str]] = frozenset(
    (
        "one",
        "single",
        "solitary",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "couple",
        "pair",
        "both",
        "multiple",
        "numerous",
        "innumerable",
        "several",
        "many",
        "countless",
        "scattered",
        "few",
        "various",
        "multifocal",
        "diffuse",
        "bilateral",
        "multiplicity",
        "number",
        "too",
        "least",
    )
)
