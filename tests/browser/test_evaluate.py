"""Journey: bring a promptfoo suite to the evaluate page, run it over two settings, open a cell, export.

In chromium against the app's own offline model (a fresh machine's setup): the file goes through the
real uploader, the run streams through the real engine, a cell is opened from the case picker, and the
exported results JSON is the file the browser downloads.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import yaml

from tests.browser.support import ChatPage

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import expect

SUITE = """description: Browser suite
prompts: ['Tell me about {{topic}}']
tests:
  - description: First
    vars: {topic: temperature}
    assert: [{type: not-is-json}]
  - description: Second
    vars: {topic: seeds}
    assert: [{type: not-is-json}, {type: javascript, value: 'true'}]
  - description: Third
    vars: {topic: tokens}
    assert: [{type: is-json}]
"""


def test_import_run_open_a_cell_and_export(first_run_app, page, tmp_path):
    chat = ChatPage(page, first_run_app.url).open()
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Evaluate").click()
    expect(page.get_by_role("heading", name="Evaluate")).to_be_visible()
    chat.wait_idle()

    suite = tmp_path / "suite.yaml"
    suite.write_text(SUITE)
    page.get_by_test_id("stFileUploader").locator('input[type="file"]').set_input_files(str(suite))
    expect(page.get_by_role("textbox", name="Prompt template")).to_have_value("Tell me about {{topic}}")
    main = page.get_by_test_id("stMainBlockContainer")
    expect(main).to_contain_text("Second: javascript assertions are not supported in Prism")
    expect(main).to_contain_text("6 request(s)")
    chat.wait_idle()

    # The suite being edited downloads in promptfoo's formats, the edit included.
    template = page.get_by_role("textbox", name="Prompt template")
    template.fill("Briefly, tell me about {{topic}}")
    template.press("Enter")
    chat.wait_idle()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download as promptfoo YAML").click()
    exported = yaml.safe_load(Path(download.value.path()).read_text())
    assert exported["prompts"] == ["Briefly, tell me about {{topic}}"]
    assert [t["description"] for t in exported["tests"]] == ["First", "Second", "Third"]
    assert exported["tests"][1]["assert"][1] == {"type": "javascript", "value": "true"}  # kept, never run

    page.get_by_role("button", name="Run the evaluation").click()
    expect(page.get_by_role("tab", name="Figures")).to_be_visible(timeout=90_000)  # the run has ended
    chat.wait_idle(60_000)
    assert "eval=" in page.url, "the finished run is opened from the database"

    # Open a cell: the third case, whose assertion wants JSON from a plain-text setting.
    case_picker = page.get_by_role("combobox", name="Case")
    case_picker.click()
    case_picker.press_sequentially("Third")  # the picker filters as one types, as a person would use it
    page.get_by_role("option", name="3. Third").click()
    chat.wait_idle()
    cell = page.locator(".st-key-evaluate-cell")
    expect(cell).to_contain_text("is-json")
    expect(cell).to_contain_text("FAIL")
    expect(cell).to_contain_text("the reply is not JSON")
    expect(cell.get_by_test_id("stCode")).not_to_be_empty()

    chat.screenshot("journey-evaluate-matrix")
    page.get_by_role("tab", name="Figures").click()
    expect(main).to_contain_text("95% Wilson intervals")
    chat.screenshot("journey-evaluate-figures")

    page.get_by_role("tab", name="Export").click()
    with page.expect_download() as download:
        page.get_by_role("button", name="Results JSON").click()
    saved = tmp_path / "results.json"
    download.value.save_as(saved)
    record = json.loads(saved.read_text())
    assert [s["name"] for s in record["settings"]] == ["Setting 1", "Setting 2"]
    assert len(record["cells"]) == 6 and all(c["state"] == "done" for c in record["cells"])
    assert [s["counted"] for s in record["stats"]] == [3, 3]
    chat.screenshot("journey-evaluate")


STALLING_SUITE = """description: Stalls
prompts: ['Tell me about {{topic}}']
tests:
  - {description: C0, vars: {topic: seeds}, assert: [{type: not-is-json}]}
  - {description: C1, vars: {topic: tokens}, assert: [{type: not-is-json}]}
  - {description: C2, vars: {topic: temperature}, assert: [{type: not-is-json}]}
  - description: C3
    vars: {topic: 'stalls [[fault:stall:after=1,seconds=90]]'}
    assert: [{type: not-is-json}]
"""


def open_evaluate(page, app):
    chat = ChatPage(page, app.url).open()
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Evaluate").click()
    expect(page.get_by_role("heading", name="Evaluate")).to_be_visible()
    chat.wait_idle()
    return chat


def pick(page, label: str, option: str) -> None:
    picker = page.get_by_role("combobox", name=label)
    picker.click()
    picker.press_sequentially(option)
    page.get_by_role("option", name=option).click()


def test_a_run_over_three_settings_survives_clicks_and_reloads_stops_and_is_shared_and_reviewed(
    first_run_app, page, context, tmp_path
):
    chat = open_evaluate(page, first_run_app)
    suite = tmp_path / "stalls.yaml"
    suite.write_text(STALLING_SUITE)
    page.get_by_test_id("stFileUploader").first.locator('input[type="file"]').set_input_files(str(suite))
    main = page.get_by_test_id("stMainBlockContainer")
    expect(main).to_contain_text("8 request(s)")
    chat.wait_idle()
    settings = page.get_by_role("spinbutton", name="Settings")
    settings.fill("3")
    settings.press("Enter")
    expect(main).to_contain_text("12 request(s)")
    chat.wait_idle()

    page.get_by_role("button", name="Run the evaluation").click()
    # Nine quick cells finish; the three stalled ones keep the run going.
    expect(main).to_contain_text("9 of 12 requests", timeout=90_000)
    run_address = page.url
    assert "eval=" in run_address

    # Open a finished cell while the run goes: it opens, and the run is not stopped by the click.
    pick(page, "Case", "2. C1")
    pick(page, "Setting", "Setting 3")
    cell = page.locator(".st-key-evaluate-cell")
    expect(cell).to_contain_text("2. C1 · Setting 3 · repeat 1 · done")
    expect(cell.get_by_test_id("stCode")).not_to_be_empty()
    expect(main.get_by_role("button", name="Stop", exact=True)).to_be_visible()
    expect(main).to_contain_text("9 of 12 requests")
    expect(main).not_to_contain_text("did not finish")

    # A reload finds it still going, and Stop there keeps the nine finished cells.
    page.reload()
    expect(main).to_contain_text("9 of 12 requests", timeout=30_000)
    pick(page, "Case", "1. C0")
    expect(cell).to_contain_text("1. C0 · Setting 1 · repeat 1 · done")
    main.get_by_role("button", name="Stop", exact=True).click()
    expect(main).to_contain_text("This run did not finish", timeout=30_000)
    expect(cell).to_contain_text("1. C0 · Setting 1 · repeat 1 · done")  # what was open stays open
    expect(main.get_by_role("button", name="Stop", exact=True)).to_have_count(0)
    page.reload()
    expect(main).to_contain_text("This run did not finish", timeout=30_000)
    expect(main).to_contain_text("stopped")
    chat.wait_idle()

    page.get_by_role("tab", name="Export").click()
    with page.expect_download() as download:
        page.get_by_role("button", name="Results CSV").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    assert len(rows) == 12
    assert sorted(r["state"] for r in rows) == ["done"] * 9 + ["stopped"] * 3
    assert {r["passed"] for r in rows if r["state"] == "done"} == {"yes"}
    assert {r["passed"] for r in rows if r["state"] == "stopped"} == {""}  # counted in no pass rate

    # Share read-only: another person's browser sees the settings' parameters and the figures.
    page.get_by_role("button", name="Share read-only").click()
    address = page.get_by_test_id("stCode").filter(has_text="token=").first
    expect(address).to_be_visible()
    shared_url = address.inner_text().strip()
    viewer = context.new_page()
    viewer.goto(shared_url)
    shown = viewer.get_by_test_id("stMainBlockContainer")
    expect(shown).to_contain_text("parameters", timeout=30_000)
    expect(shown).to_contain_text("Setting 3")
    expect(shown).to_contain_text("95% interval")
    expect(shown.get_by_role("button", name="Stop", exact=True)).to_have_count(0)
    expect(viewer.get_by_role("button", name="Share read-only")).to_have_count(0)
    viewer.close()

    # Blind review: a vote, then a reload, and the tally is still there.
    page.get_by_role("tab", name="Blind review").click()
    expect(main).to_contain_text("Reply 1")
    page.get_by_role("button", name="Tie").click()
    expect(main).to_contain_text("2 left to review")
    page.reload()
    expect(main).to_contain_text("This run did not finish", timeout=30_000)
    page.get_by_role("tab", name="Blind review").click()
    expect(main).to_contain_text("2 left to review")
    tally = page.get_by_test_id("stDataFrame").filter(has_text="win rate")
    expect(tally).to_be_visible()
    chat.screenshot("journey-evaluate-stopped-and-reviewed")
