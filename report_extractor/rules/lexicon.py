"""Lexicons of the rules extractor, as compiled regular expressions: organ words (:func:`organ_mentions`),
lesion words by category (:data:`LESION_CUE_RE`, :func:`cue_matches`), lesion names that imply their
organ (:func:`named_organ`) and malignancy words.

Negation, hedging, history and restatement cues live in :mod:`~report_extractor.rules.context`,
counting words in :mod:`~report_extractor.rules.counts`, measurements that are not lesion sizes
in :mod:`~report_extractor.rules.anchoring`, resections in :mod:`~report_extractor.rules.resections`
and the words that make a number neither a size nor a count in
:mod:`~report_extractor.rules.parsing.numbers`. Every pattern is compiled once at import; matching is
case-insensitive unless stated.
"""

from __future__ import annotations

import functools
import re
from typing import Final, NamedTuple

from report_extractor.rules.folding import caseless, fold
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
    # named bones of the site vocabulary (report_extractor.rules.parsing.organ_sites)
    "acetabulum": Organ.BONE,
    "acetabular": Organ.BONE,
    "ischium": Organ.BONE,
    "ilium": Organ.BONE,
    "iliac crest": Organ.BONE,
    "pubic ramus": Organ.BONE,
    "pubic rami": Organ.BONE,
    "humerus": Organ.BONE,
    "humeral head": Organ.BONE,
    "scapula": Organ.BONE,
    "clavicle": Organ.BONE,
    "coccyx": Organ.BONE,
    "calvarium": Organ.BONE,
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
    "sb": Organ.SMALL_BOWEL,  # "dilated SB loops"
    "gb": Organ.GALLBLADDER,  # "GB: sludge"
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
# An organ word followed by these names a vessel, duct or landmark, not the organ.
_ORGAN_REFERENCE_RE: Final = re.compile(
    r"\s+(?:veins?|venous|arter(?:y|ies)|arterial|vasculature|vessels?|ducts?|duct\b|hilum|hilar|fossa|"
    r"bed|flexure|ligament|capsule\s+of|angle|surface|recess|artery|embol\w*|aneurysm|infarct\w*|"
    r"transplant|graft|sinus\s+fat|band|"
    # varices named by their organ ("esophageal varices", "esophageal and gastric fundal varices")
    r"(?:(?:and|or|gastric|fundal|esophageal|oesophageal|gastro-?o?esophageal|rectal|duodenal)\s+)*"
    r"(?:varices|varix|varicosities))\b",
    _I,
)


_HILUM_RE: Final = re.compile(r"\s+(?:hilum|hilar)$", _I)
FOREIGN_SITE_RE: Final = re.compile(
    r"\b(?:adnexa\w*|ovar(?:y|ies|ian)|thyroid|lymph\s+nodes?|(?:mesenteric|retroperitoneal|hilar|axillary)"
    r"\s+nodes?|mesentery|peritone(?:um|al)|omentum|omental|scrot\w+|testis|testicular|seminal\s+vesicles?"
    r"|appendix|appendiceal|abdominal\s+wall|body\s+wall|subcutaneous|pleura|pleural)\b",
    _I,
)
"""Sites outside the organ vocabulary: a lesion of theirs inherits no organ from the line before."""
_TOKEN_RE: Final = re.compile(r"[A-Za-z]+")
_BOWEL_WORDS: Final[frozenset[str]] = frozenset({"bowel", "bowels"})
_TWO_WORD_FIRSTS: Final[frozenset[str]] = frozenset(k.split()[0] for k in _ORGAN_WORDS if " " in k)
_FIRST_WORDS: Final[frozenset[str]] = frozenset(_ORGAN_WORDS) | _TWO_WORD_FIRSTS | _BOWEL_WORDS
"""Words that can start an organ mention (every other word is skipped at once)."""


class OrganMention(NamedTuple):
    """An organ word in the report: its span and the organ it names."""

    start: int
    end: int
    organ: Organ


def organ_mentions(text: str, start: int = 0, end: int | None = None) -> list[OrganMention]:
    """The :class:`OrganMention` of each organ word in ``text[start:end]`` (vessels and ducts excluded).

    "hepatic flexure" and "splenic flexure" resolve to the colon; "renal vein", "hepatic duct",
    "gallbladder fossa" name no organ. Two-word names ("adrenal gland", "small bowel") win over their
    first word; an unqualified "bowel" gives two mentions (small bowel and colon).
    """
    stop = len(text) if end is None else end
    found: list[OrganMention] = []
    skip_to = start  # a two-word name consumes its second word
    for token in _TOKEN_RE.finditer(text, start, stop):
        t_start, t_end = token.span()
        if t_start < skip_to:
            continue
        word = token.group(0).lower()
        if word not in _FIRST_WORDS:
            continue
        organ: Organ | None = None
        m_end = t_end
        if word in _TWO_WORD_FIRSTS:
            nxt = _TOKEN_RE.search(text, t_end, stop)
            if nxt is not None:
                pair = f"{word} {nxt.group(0).lower()}"
                if text[t_end : nxt.start()].isspace() and pair in _ORGAN_WORDS:
                    organ, m_end = _ORGAN_WORDS[pair], nxt.end()
                    skip_to = m_end
        if organ is None:
            organ = _ORGAN_WORDS.get(word)
        if organ is None and word in _BOWEL_WORDS:
            # unqualified "bowel" names the small bowel and the colon alike
            found.extend(OrganMention(t_start, m_end, o) for o in (Organ.SMALL_BOWEL, Organ.COLON))
            continue
        if organ is None:
            continue
        reference = _ORGAN_REFERENCE_RE.match(text, m_end, stop)
        lung_hilum = organ is Organ.LUNG and reference is not None and _HILUM_RE.match(reference.group(0))
        if reference is not None and organ is not Organ.COLON and not lung_hilum:
            continue  # a lung hilum mass is central lung disease; a renal hilum names the kidney's vessels
        found.append(OrganMention(t_start, m_end, organ))
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
    r"|meningiomas?|pheochromocytomas?|paragangliomas?|bone\s+islands?|enostos[ie]s|(?:calcified\s+)?granulomas?"
)
# A bare small "focus" in a terse note ("segment II small focus, too small to characterize"); a focus
# of air, fat, fluid or calcium is no lesion.
_SMALL_FOCI: Final[str] = (
    r"(?:small|tiny|minute|punctate|subcentimet(?:er|re))\s+foc(?:us|i)\b"
    r"(?!\s+of\s+(?:air|gas|calcif\w*|fat|fluid|contrast|h(?:a)?emorrhage|bleeding|enhancement|sparing))"
)
_BONE_LESIONS: Final[str] = (
    r"(?:osteo)?(?:lytic|blastic|sclerotic)\s+(?:bone\s+)?(?:lesions?|foci|focus|areas?|deposits?)"
    r"|(?:destructive|expansile|permeative)\s+(?:bone\s+)?(?:lesions?|foci|focus|areas?)"
    r"|(?:bone|bony|osseous|cortical)\s+destruction|(?:osteo)?lytic\s+(?:bone\s+)?destruction"
)
_SHADOWS: Final[str] = (
    r"(?:(?:abnormal|mixed|slightly\s+(?:low|high))[\s-]+)?density\s+shadows?"
    r"|(?:round|oval|space[\s-]occupying|occupying|soft[\s-]tissue)\s+shadows?"
)
# "primary" used as a noun for the primary tumour ("the lung primary now measures 2.7 cm", "Breast
# primary: 22 mm"): followed by punctuation, the line's end or a verb / preposition, never by a noun
# ("primary sclerosing cholangitis") and not of an unknown primary.
_PRIMARY: Final[str] = (
    r"(?<!unknown\s)(?<!occult\s)primar(?:y|ies)(?=\s*(?:[:,;(.\-–]|$)|\s+(?:now|is|was|are|were|measures?|"
    r"measuring|remains?|has|have|shows?|appears?|demonstrates?|in|of|at|with|within|unchanged|stable|"
    r"increased|decreased|again|\d))"
)
# A filling defect of the urinary tract (CT urography); one in a vessel is a thrombus or embolus.
_FILLING_DEFECTS: Final[str] = (
    r"filling\s+defects?(?![^.;\n]{0,50}\b(?:arter\w*|vein|veins|venous|portal|vessel\w*|embol\w*|thromb\w*"
    r"|clot)\b)"
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
    r"|mesotheliomas?|thymomas?|seminomas?|" + _PRIMARY + r")"
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
    r"|(?P<lesion>lesions?|"
    + _SHADOWS
    + r"|"
    + _SMALL_FOCI
    + r"|"
    + _FILLING_DEFECTS
    + r"|(?<!for\s)(?<!under\s)(?<!clinical\s)observations?)"
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


@functools.lru_cache(maxsize=4096)
def is_plural(word: str) -> bool:
    """Whether a matched lesion phrase is plural ("cysts", "metastases", "foci")."""
    last = word.split()[-1]
    return bool(_PLURAL_RE.search(last)) and not _SINGULAR_S_RE.search(last)


_MALIGNANT_RE: Final = caseless(
    r"\b(?:malignan\w*|metasta\w*|mets|carcinoma\w*|cancers?|hcc|rcc|hepatoma|lymphoma|sarcoma|"
    r"adenocarcinoma|cholangiocarcinoma)\b",
)
_BENIGN_RE: Final = caseless(
    r"\b(?:benign|simple\s+cysts?|ha?emangiomas?|adenomas?|angiomyolipomas?|myelolipomas?|lipomas?|"
    r"fnh|focal\s+nodular\s+hyperplasia|fibroids?|leiomyomas?|bosniak\s+(?:1|2|i|ii)\b)",
)
_INDETERMINATE_RE: Final = caseless(r"\bindeterminate\b")


def malignancy(text: str) -> Malignancy:
    """Malignancy class stated in ``text`` (malignant words win over benign ones)."""
    folded = fold(text)  # the patterns above are caseless: they match folded text
    if _MALIGNANT_RE.search(folded):
        return Malignancy.MALIGNANT
    if _BENIGN_RE.search(folded):
        return Malignancy.BENIGN
    if _INDETERMINATE_RE.search(folded):
        return Malignancy.INDETERMINATE
    return Malignancy.UNKNOWN


_NAMED_ORGAN_RE: Final = re.compile(
    r"(?P<pancreas>(?:bd-|md-|mixed-type\s+|side[\s-]branch\s+|main[\s-]duct\s+)?ipmns?|insulinomas?|pnets?"
    r"|mucinous\s+cystic\s+neoplasms?|serous\s+cystadenomas?)"
    r"|(?P<liver>hcc|hepatomas?|hepatocellular\s+carcinomas?|fnh|focal\s+nodular\s+hyperplasia"
    r"|(?:intrahepatic\s+)?cholangiocarcinomas?)"
    r"|(?P<kidney>rcc|angiomyolipomas?|amls?|oncocytomas?)"
    r"|(?P<adrenal_gland>myelolipomas?|pheochromocytomas?)"
    r"|(?P<uterus>fibroids?|leiomyomas?|myomas?|adenomyomas?)"
    r"|(?P<bone>" + _BONE_LESIONS + r"|bone\s+islands?|enostos[ie]s|osteomas?|enchondromas?)",
    _I,
)


@functools.lru_cache(maxsize=4096)
def named_organ(phrase: str) -> Organ | None:
    """The organ a lesion name implies by itself ("IPMN" → pancreas, "HCC" → liver, "angiomyolipoma" →
    kidney, "myelolipoma" → adrenal gland, "fibroid" → uterus, "sclerotic lesion" → bone), or None for
    names used in many organs."""
    m = _NAMED_ORGAN_RE.fullmatch(phrase.strip())
    return Organ(m.lastgroup) if m is not None and m.lastgroup else None


# fmt: off
CUE_PREFIXES: Final[frozenset[str]] = frozenset((
    "met", "hem", "hae", "cys", "tum", "neo", "ade", "cho", "hep", "car", "mal", "can", "hcc", "rcc", "lym",
    "sar", "ins", "pne", "gis", "ipm", "neu", "mas", "nod", "hyp", "low", "are", "art", "enh", "ang", "aml",
    "mye", "lip", "ham", "fib", "lei", "pol", "fnh", "foc", "onc", "lyt", "bla", "scl", "les", "sha", "obs",
    "hig", "mix", "sli", "abn", "den", "rou", "ova", "spa", "occ", "sof", "ost", "des", "exp", "per", "bon",
    "oss", "cor", "myo", "sch", "ter", "der", "men", "phe", "par", "pla", "mes", "thy", "sem", "mic", "eno",
    "enc", "mel", "pri", "gra", "cal", "sma", "tin", "min", "pun", "sub", "fil",
))
# fmt: on
"""First three letters of every lesion phrase: only words starting so are tried with ``LESION_CUE_RE``."""
_CUE_TOKEN_RE: Final = re.compile(r"[A-Za-z]{2,}")


def cue_matches(text: str) -> list[re.Match[str]]:
    """All lesion-phrase matches of ``LESION_CUE_RE`` in ``text``, in order, without overlaps.

    The big pattern is tried only at words starting with one of :data:`CUE_PREFIXES`
    (100,000-report batches spend most of their time here otherwise).
    """
    found: list[re.Match[str]] = []
    last_end = 0
    for tok in _CUE_TOKEN_RE.finditer(text):
        if tok.start() < last_end or tok.group(0)[:3].lower() not in CUE_PREFIXES:
            continue
        m = LESION_CUE_RE.match(text, tok.start())
        if m is not None and (tok.start() == 0 or not text[tok.start() - 1].isalnum()):
            found.append(m)
            last_end = m.end()
    return found
