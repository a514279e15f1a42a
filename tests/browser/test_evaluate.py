"""Journey: bring a promptfoo suite to the evaluate page, run it over two settings, open a cell, export.

In chromium against the app's own offline model (a fresh machine's setup): the file goes through the
real uploader, the run streams through the real engine, a cell is opened from the case picker, and the
exported results JSON is the file the browser downloads.
"""

from __future__ import annotations

import json

import pytest

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

    page.get_by_role("button", name="Run the evaluation").click()
    expect(main).to_contain_text("Pick a cell to open it", timeout=90_000)
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
