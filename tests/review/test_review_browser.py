"""The review page in a real browser: headless Chromium (Debian's ``chromium`` + ``chromium-driver``)
driven by Selenium against ``rsuper serve`` on 127.0.0.1.

Load the queue, open a record, check that the highlighted evidence covers the right characters,
correct a diameter with the keyboard only, and find the correction in ``rsuper export``. Skipped when
the system browser or its driver is absent (``.ci/run`` installs both). ``RSUPER_REVIEW_SCREENSHOT=path``
saves a screenshot of the page (how ``docs/review.png`` was made).
"""

from __future__ import annotations

import csv
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path
from typing import Any

import httpx
import pytest
from review_cases import REPORTS, write_reports_csv

from store import init_store

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None or DRIVER is None, reason="needs Debian's chromium and chromium-driver (see .ci/run)"
)

KEY = "review-test-key-0123456789"
RSUPER = [sys.executable, "-m", "rsuper_cli"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str, Path]]:
    """(base URL, store URL, server log) of ``rsuper serve`` over a store of two extracted reports,
    their text kept (parametrize indirectly with False: not kept)."""
    data = write_reports_csv(tmp_path / "reports.csv")
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    keep = ["--keep-text"] if getattr(request, "param", True) else []
    subprocess.run([*RSUPER, "extract", str(data), "--store", store_url, *keep], check=True)
    port = _free_port()
    env = {**os.environ, "RSUPER_API_KEYS": KEY, "RSUPER_STORE_URL": store_url, "RSUPER_BACKEND": "rules"}
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [*RSUPER, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"rsuper serve did not start:\n{log.read_text()}")
            time.sleep(0.2)
        yield base, store_url, log
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture
def browser() -> Iterator[object]:
    """Headless Chromium through Selenium, pointed at the system browser and driver (no downloads)."""
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000"):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(DRIVER)))
    try:
        yield driver
    finally:
        driver.quit()


def _sign_in(driver: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver.find_element(By.ID, "api-key").send_keys(KEY)
    driver.find_element(By.ID, "reviewer").send_keys("alice", Keys.ENTER)


def _axe_violations(driver: Any) -> list[str]:
    """Run the vendored axe-core (WCAG 2.1 A and AA rules) on the page; ``rule: selectors`` found."""
    source = files("api").joinpath("static", "vendor", "axe-core", "axe.min.js").read_text(encoding="utf-8")
    driver.execute_script(source)
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"
        ".then((r) => done(r.violations.map((v) => v.id + ': ' + v.nodes.map((n) => n.target).join(' '))))"
        ".catch((e) => done(['axe failed: ' + e]));"
    )
    return list(result)


def test_the_page_passes_an_automated_accessibility_check(
    served: tuple[str, str, Path], browser: Any
) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    base, _, _ = served
    wait = WebDriverWait(browser, 20)
    browser.set_script_timeout(30)
    browser.get(f"{base}/review")
    assert _axe_violations(browser) == []  # the key form
    _sign_in(browser)
    wait.until(ec.presence_of_element_located((By.ID, "span-0")))
    assert _axe_violations(browser) == []  # queue, record, highlighted text, lesions, agreement
    ActionChains(browser).send_keys("e").perform()
    wait.until(ec.visibility_of_element_located((By.ID, "edit-form")))
    assert _axe_violations(browser) == []  # the edit form


def test_review_a_record_end_to_end_with_the_keyboard(
    served: tuple[str, str, Path], browser: object, tmp_path: Path
) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    assert isinstance(browser, WebDriver)
    base, store_url, log = served
    driver, wait = browser, WebDriverWait(browser, 20)
    driver.get(f"{base}/review")
    assert "--keep-text" in driver.find_element(By.ID, "text-notice").text

    # the key, entered once: kept in sessionStorage, never in the URL
    _sign_in(driver)
    wait.until(ec.presence_of_element_located((By.ID, "q-1")))
    assert KEY not in driver.current_url
    assert driver.execute_script("return sessionStorage.getItem('rsuper.key')") == KEY
    counts = driver.find_element(By.ID, "counts").text
    assert counts.startswith("2 records"), counts

    # open acc-1; its lesion's evidence is highlighted at exactly the stored span
    driver.find_element(By.XPATH, "//ol[@id='queue']//button[text()='acc-1']").click()
    wait.until(ec.text_to_be_present_in_element((By.ID, "record-title"), "acc-1"))
    record = init_store(store_url).current_extraction("acc-1")
    assert record is not None
    assert record.lesions[0].evidence is not None
    ev = record.lesions[0].evidence
    text = REPORTS[0][1]
    mark = wait.until(ec.presence_of_element_located((By.ID, "span-0")))
    assert mark.text == text[ev.start : ev.end]
    offset = driver.execute_script(
        "const pre = document.getElementById('report-text'), m = document.getElementById('span-0');"
        "let n = 0; for (const c of pre.childNodes) { if (c === m) return n; n += c.textContent.length; }"
        "return -1;"
    )
    assert offset == ev.start
    organs = driver.find_element(By.ID, "organs").text
    assert "liver: lesion" in organs
    assert "pancreas: normal" in organs
    assert driver.find_element(By.ID, "lesion-0").find_elements(By.TAG_NAME, "td")[5].text == "32 x 21"

    # keyboard only: e edits the selected lesion (cursor in diameters), Enter saves
    ActionChains(driver).send_keys("e").perform()  # focus is on the queue entry just clicked
    active = driver.switch_to.active_element
    assert active.get_attribute("id") == "e-diameters"
    ActionChains(driver).send_keys("45 x 21", Keys.ENTER).perform()
    wait.until(ec.text_to_be_present_in_element((By.ID, "status"), "saved: edit (changed size)"))
    wait.until(ec.text_to_be_present_in_element((By.ID, "record-meta"), "reviewed by alice"))
    assert driver.find_element(By.ID, "span-0").text == text[ev.start : ev.end]
    if shot := os.environ.get("RSUPER_REVIEW_SCREENSHOT"):
        driver.save_screenshot(shot)

    # the correction is what the export reads, and the per-CT CSV says it was reviewed
    out = tmp_path / "per_tumor.csv"
    subprocess.run(
        [*RSUPER, "export", "--format", "rsuper-per-tumor", "--out", str(out), "--store", store_url],
        check=True,
    )
    sizes = {r["BDMAP ID"]: r["Tumor Size (mm)"] for r in csv.DictReader(out.open(encoding="utf-8"))}
    assert sizes["acc-1"] == "45 x 21"
    ct = tmp_path / "per_ct.csv"
    subprocess.run(
        [
            *RSUPER,
            "export",
            "--format",
            "rsuper-per-ct",
            "--out",
            str(ct),
            "--store",
            store_url,
            "--reviewed-only",
        ],
        check=True,
    )
    assert [(r["BDMAP ID"], r["reviewed"]) for r in csv.DictReader(ct.open(encoding="utf-8"))] == [
        ("acc-1", "True")
    ]

    # a to accept the next record, then j / k move through the queue
    ActionChains(driver).send_keys("j").perform()
    wait.until(ec.text_to_be_present_in_element((By.ID, "record-title"), "acc-2"))
    ActionChains(driver).send_keys("a").perform()
    wait.until(ec.text_to_be_present_in_element((By.ID, "status"), "saved: accept"))
    assert init_store(store_url).reviewed_report_ids() == {"acc-1", "acc-2"}

    server_log = log.read_text(encoding="utf-8", errors="replace")
    for _, report in REPORTS:
        assert report not in server_log
    assert KEY not in server_log


@pytest.mark.parametrize("served", [pytest.param(False, id="text-not-kept")], indirect=True)
def test_text_not_kept_is_shown_only_when_pasted_and_never_sent(
    served: tuple[str, str, Path], browser: Any
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    base, store_url, log = served
    wait = WebDriverWait(browser, 20)
    browser.get(f"{base}/review")
    _sign_in(browser)
    wait.until(ec.text_to_be_present_in_element((By.ID, "record-title"), "acc-1"))
    assert browser.find_element(By.ID, "report-text").text == "(text not kept by the store)"
    assert browser.find_elements(By.TAG_NAME, "mark") == []
    paste = browser.find_element(By.ID, "paste")
    paste.send_keys("some other report")
    browser.find_element(By.CSS_SELECTOR, "#paste-form button").click()
    wait.until(ec.text_to_be_present_in_element((By.ID, "status"), "not the text this record was extracted"))
    assert browser.find_elements(By.TAG_NAME, "mark") == []
    text = REPORTS[0][1]
    paste.clear()
    browser.execute_script("document.getElementById('paste').value = arguments[0];", text)
    browser.find_element(By.CSS_SELECTOR, "#paste-form button").click()
    mark = wait.until(ec.presence_of_element_located((By.ID, "span-0")))
    record = init_store(store_url).current_extraction("acc-1")
    assert record is not None
    ev = record.lesions[0].evidence
    assert ev is not None
    assert mark.text == text[ev.start : ev.end]
    assert browser.find_element(By.ID, "paste-form").is_displayed() is False
    assert text not in log.read_text(encoding="utf-8", errors="replace")


SIDES_TEXT = (
    "Status post left nephrectomy. Right kidney: lower pole lesion. Small focus in the sigmoid colon."
)
"""A record with per-side kidney statuses and an unmeasured colon lesion with a free-text site."""


def _save_sides_record(store_url: str) -> None:
    from schemas.records import Lesion, OrganFinding, Provenance, ReportExtraction, text_sha256

    record = ReportExtraction(
        report_id="sides-1",
        text_sha256=text_sha256(SIDES_TEXT),
        organs=(
            OrganFinding(organ="kidney", status="lesion", left="absent", right="lesion"),
            OrganFinding(organ="colon", status="lesion"),
        ),
        lesions=(
            Lesion(organ="kidney", side="right", kidney_poles=("lower_pole",), confidence=0.5),
            Lesion(organ="colon", site="sigmoid", size_class="tiny", confidence=0.5),
        ),
        provenance=Provenance(backend="fake", extractor_version="sides-test"),
    )
    store = init_store(store_url)
    try:
        store.save_extraction(record, text=SIDES_TEXT)
    finally:
        store.close()


def test_per_side_statuses_and_site_are_shown(served: tuple[str, str, Path], browser: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    base, store_url, _ = served
    _save_sides_record(store_url)
    wait = WebDriverWait(browser, 20)
    browser.get(f"{base}/review")
    _sign_in(browser)
    button = wait.until(ec.element_to_be_clickable((By.XPATH, "//ol[@id='queue']//button[text()='sides-1']")))
    button.click()
    wait.until(ec.text_to_be_present_in_element((By.ID, "record-title"), "sides-1"))
    organs = browser.find_element(By.ID, "organs").text
    assert "kidney: lesion; left absent, right lesion" in organs
    assert "colon: lesion" in organs
    assert "colon: lesion;" not in organs  # an unpaired organ shows no sides
    kidney = [td.text for td in browser.find_element(By.ID, "lesion-0").find_elements(By.TAG_NAME, "td")]
    colon = [td.text for td in browser.find_element(By.ID, "lesion-1").find_elements(By.TAG_NAME, "td")]
    assert (kidney[2], kidney[3], kidney[5]) == ("right", "lower_pole", "")
    assert (colon[1], colon[3], colon[5]) == ("colon", "sigmoid", "tiny")
