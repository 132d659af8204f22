"""Tests for :mod:`report_extractor.rules.parsing.organ_sites`: lung lobes, colon segments, bone levels,
adrenal limbs as canonical ``Lesion.site`` phrases."""

from __future__ import annotations

import pytest

from report_extractor.rules.parsing import parse_location
from report_extractor.rules.parsing.organ_sites import MAX_SITE_CHARS, SITE_CATEGORIES, SITE_ORGANS, read_site
from schemas.vocabulary import Organ, Side


@pytest.mark.parametrize(
    ("text", "organ", "site"),
    [
        # lung lobes (the side goes to Lesion.side, not the site)
        pytest.param("spiculated mass of the left upper lobe", Organ.LUNG, "upper lobe", id="lung-upper"),
        pytest.param("ground-glass opacity, right middle lobe", Organ.LUNG, "middle lobe", id="lung-middle"),
        pytest.param("nodule at the inferior lobe on the left", Organ.LUNG, "lower lobe", id="lung-inferior"),
        pytest.param("9 mm LLL nodule", Organ.LUNG, "lower lobe", id="lung-abbreviation"),
        pytest.param("lingular nodule", Organ.LUNG, "lingula", id="lung-lingular"),
        pytest.param(
            "nodules in the right upper and lower lobes",
            Organ.LUNG,
            "upper lobe / lower lobe",
            id="two-lobes",
        ),
        # colon segments
        pytest.param("annular lesion of the caecum", Organ.COLON, "cecum", id="colon-caecum"),
        pytest.param(
            "polyp near the hepatic flexure", Organ.COLON, "hepatic flexure", id="colon-hepatic-flexure"
        ),
        pytest.param("mass in the sigmoid colon", Organ.COLON, "sigmoid", id="colon-sigmoid"),
        pytest.param(
            "tumour at the recto-sigmoid junction", Organ.COLON, "rectosigmoid", id="colon-rectosigmoid"
        ),
        pytest.param(
            "thickening of the descending colon", Organ.COLON, "descending colon", id="colon-descending"
        ),
        # bone levels and named bones (bone has no side, so the side stays in the site)
        pytest.param("sclerotic focus in the L3 vertebral body", Organ.BONE, "L3", id="bone-lumbar"),
        pytest.param("lytic lesion at T12", Organ.BONE, "T12", id="bone-thoracic"),
        pytest.param(
            "blastic lesion in the right iliac wing", Organ.BONE, "right iliac wing", id="bone-iliac-wing"
        ),
        pytest.param(
            "expansile lesion of the left seventh rib", Organ.BONE, "left rib 7", id="bone-rib-word"
        ),
        pytest.param("rib lesion, 4th rib on the right", Organ.BONE, "rib 4", id="bone-rib-generic-dropped"),
        pytest.param("lesions at C5 and in the sternum", Organ.BONE, "C5 / sternum", id="bone-two-sites"),
        pytest.param(
            "T2 hyperintense lesion of the femoral neck",
            Organ.BONE,
            "femoral neck",
            id="bone-not-mri-weighting",
        ),
        # breast quadrants and clock positions, stomach and esophagus parts
        pytest.param(
            "irregular mass, upper outer quadrant", Organ.BREAST, "upper outer quadrant", id="breast-quadrant"
        ),
        pytest.param("oval mass at 10:30 o'clock", Organ.BREAST, "10:30 o'clock", id="breast-clock"),
        pytest.param("subareolar focus", Organ.BREAST, "retroareolar", id="breast-subareolar"),
        pytest.param("ulcerated lesion of the gastric antrum", Organ.STOMACH, "antrum", id="stomach-antrum"),
        pytest.param(
            "mass along the lesser curvature", Organ.STOMACH, "lesser curvature", id="stomach-curvature"
        ),
        pytest.param(
            "circumferential distal esophageal mass", Organ.ESOPHAGUS, "lower third", id="esophagus-distal"
        ),
        # adrenal limbs
        pytest.param(
            "nodule arising from the lateral limb", Organ.ADRENAL_GLAND, "lateral limb", id="adrenal-lateral"
        ),
        pytest.param("thickened medial limb", Organ.ADRENAL_GLAND, "medial limb", id="adrenal-medial"),
        # no site
        pytest.param("nodule in the lung", Organ.LUNG, None, id="lung-no-lobe"),
        pytest.param("lesion in segment 7", Organ.LIVER, None, id="liver-has-segments-instead"),
        pytest.param("left lower lobe", Organ.KIDNEY, None, id="organ-without-sites"),
    ],
)
def test_read_site(text: str, organ: Organ, site: str | None) -> None:
    assert read_site(text, organ) == site


def test_site_is_cut_at_a_site_boundary() -> None:
    text = ", ".join(f"T{n}" for n in range(1, 13)) + ", " + ", ".join(f"L{n}" for n in range(1, 6))
    site = read_site(text, Organ.BONE)
    assert site is not None
    assert len(site) <= MAX_SITE_CHARS
    assert site.startswith("T1 / T2")
    assert not site.endswith("/")


def test_every_category_is_one_organ_of_site_organs() -> None:
    organs = [c.organ for c in SITE_CATEGORIES]
    assert len(organs) == len(set(organs))
    assert set(organs) == SITE_ORGANS


@pytest.mark.parametrize(
    ("text", "side", "site"),
    [
        pytest.param("nodule in the lingula", Side.LEFT, "lingula", id="lingula-is-left"),
        pytest.param("nodule in the middle lobe", Side.RIGHT, "middle lobe", id="middle-lobe-is-right"),
        pytest.param("nodule in the lower lobe", None, "lower lobe", id="lower-lobe-has-no-side"),
        pytest.param("right lower lobe nodule", Side.RIGHT, "lower lobe", id="written-side"),
    ],
)
def test_parse_location_reads_the_lung_site_and_its_implied_side(
    text: str, side: Side | None, site: str
) -> None:
    loc = parse_location(text, Organ.LUNG)
    assert (loc.side, loc.site) == (side, site)


def test_parse_location_reads_no_site_without_an_organ() -> None:
    assert parse_location("mass in the sigmoid colon").site is None
