"""The compare page's and a shared compare board's layout, measured in a real browser on a laptop
(1440 x 900) and a phone (390 x 844): nothing a reply or a table holds runs out of its box or is cut.

- A markdown table (and a wide code line) in a reply stays inside its column: it wraps, then scrolls
  sideways in the column; it used to run over the next column, and off a phone's screen.
- Every column of a two-parameter grid and of the metrics table is in view on a laptop (the data grid
  they were drawn in cut off the last columns), and on a phone the table scrolls inside its own box.
- The share dialog shows the whole link; the Share button sits in the row of export buttons, as wide
  as its label; the sidebar's saved comparisons read as a left-aligned list.

Runs are written straight into the app's database (the storage functions the page uses), so the
replies hold exactly the wide content under test: the offline model writes no tables.
"""

from __future__ import annotations

import re

import pytest

from tests.browser.support import AppServer, ChatPage, sqlite_url

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import expect

LAPTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
WIDE_REPLY = """Here is a comparison:

| Parameter | What it does | Range | Default | Typical value | Notes on use |
|---|---|---|---|---|---|
| temperature | flattens or sharpens the token probabilities | 0 to 2 | 1 | 0.7 | lower is more repeatable |
| top_p | keeps only the most likely tokens whose probabilities add up to p | 0 to 1 | 1 | 0.95 | change this or temperature, not both |
| frequency_penalty | lowers tokens that already appeared often | -2 to 2 | 0 | 0.5 | reduces repetition |

```python
response = client.chat.completions.create(model="gemini-2.5-flash", messages=[{"role": "user", "content": "What does temperature change?"}], temperature=0.7)
```
"""  # noqa: E501 (a reply too wide for its column is the point)
GRID_REPLY = (
    "The seed makes a sampled reply repeatable and reproducible. With the same seed, the same prompt and "
    "the same parameters, the model gives the same reply again."
)


def _finished(session, user, run_id: int, column: int, content: str) -> None:
    from storage import compare

    result = compare.start_result(session, user, run_id, column_index=column)
    compare.finish_result(
        session,
        user,
        result.id,
        status="complete",
        content=content,
        finish_reason="stop",
        usage={"prompt_tokens": 9, "completion_tokens": 120},
        timings={"ttft_s": 0.1, "duration_s": 0.9, "tokens_per_s": 130.0},
    )


def seed_runs(database_url: str) -> dict[str, int]:
    """A three-column run whose replies hold a wide table and code, and a 5 x 5 grid run."""
    from storage import compare, open_database, repository, session_factory

    make_session = session_factory(open_database(database_url))
    with make_session() as session:
        user = repository.ensure_user(session, "local", display_name="You", role="admin")
        columns = [
            {"label": "", "model": "gemini-2.5-flash", "system_prompt": "", "params": {"temperature": t}}
            for t in (0, 1, 2)
        ]
        wide = compare.create_compare_run(
            session,
            user,
            prompt="Make a table of the sampling parameters",
            title="Wide table",
            columns=columns,
        )
        for column in range(3):
            _finished(session, user, wide.id, column, WIDE_REPLY)
        temperatures, seeds = (0, 0.5, 1, 1.5, 2), (1, 2, 3, 4, 5)
        cells = [
            {
                "label": f"temperature {t} · seed {s}",
                "model": "gemini-2.5-flash",
                "system_prompt": "",
                "params": {"temperature": t, "seed": s},
                "grid": {"row": ["temperature", t], "col": ["seed", s]},
            }
            for t in temperatures
            for s in seeds
        ]
        grid = compare.create_compare_run(
            session, user, prompt="What does the seed do?", title="Seed grid", columns=cells
        )
        for index in range(len(cells)):
            _finished(session, user, grid.id, index, GRID_REPLY)
        session.commit()
        return {"wide": wide.id, "grid": grid.id}


@pytest.fixture(scope="module")
def layout_app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("compare-layout-app")
    database = sqlite_url(folder / "prism.db")
    server = AppServer(
        folder,
        env={"PRISM_DATABASE_URL": database, "PRISM_OFFLINE_TOKENS_PER_SECOND": "0"},
    ).start()
    server.runs = seed_runs(database)
    yield server
    server.stop()


def open_run(page, app, name: str, viewport: dict) -> ChatPage:
    page.set_viewport_size(viewport)
    chat = ChatPage(page, app.url)
    page.goto(app.url + f"compare?run={app.runs[name]}")
    expect(page.get_by_role("heading", name="Compare")).to_be_visible()
    chat.wait_ready()
    return chat


def box(locator) -> dict:
    """A locator's box, and its scroll and client widths, as the browser lays it out."""
    return locator.evaluate(
        """el => { const r = el.getBoundingClientRect();
                   return {left: r.left, right: r.right, scroll: el.scrollWidth, client: el.clientWidth,
                           overflow: getComputedStyle(el).overflowX}; }"""
    )


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["laptop", "phone"])
def test_a_wide_table_and_code_in_a_reply_stay_inside_its_column(layout_app, page, viewport):
    open_run(page, layout_app, "wide", viewport)
    columns = page.locator('[class*="st-key-compare-board-"] [data-testid="stColumn"]')
    expect(columns).to_have_count(3)
    for index in range(3):
        column = columns.nth(index)
        edge = box(column)
        assert edge["right"] <= viewport["width"], f"column {index + 1} runs off the screen: {edge}"
        for what in ("table", '[data-testid="stCode"] pre'):
            shown = box(column.locator(what).first)
            assert edge["left"] - 1 <= shown["left"] and shown["right"] <= edge["right"] + 1, (
                f"column {index + 1}'s {what} runs out of its column: {shown} in {edge}"
            )
            if shown["scroll"] > shown["client"] + 1:  # too wide even wrapped: it scrolls, in place
                assert shown["overflow"] in ("auto", "scroll"), f"{what} is cut, not scrolled: {shown}"


def headers_in_view(table) -> list[str]:
    """The header cells of a static table that lie outside its visible box (empty: all in view)."""
    frame = box(table)
    outside = []
    for cell in table.locator("th").all():
        edge = box(cell)
        if edge["right"] > frame["right"] + 1 or edge["left"] < frame["left"] - 1:
            outside.append(cell.inner_text())
    return outside


def test_every_column_of_the_grid_and_the_metrics_is_in_view_on_a_laptop(layout_app, page):
    open_run(page, layout_app, "grid", LAPTOP)
    grid = page.locator('[class*="st-key-compare-grid-"] [data-testid="stTable"]')
    expect(grid).to_be_visible()
    expect(grid.locator("th")).to_have_count(6)  # the corner and seed 1 to seed 5
    expect(grid.locator("th").last).to_have_text("seed 5")
    assert headers_in_view(grid) == []
    expect(grid.locator("td").filter(has_text="repeatable and reproducible")).to_have_count(25)

    metrics = page.locator('[class*="st-key-compare-metrics-"] [data-testid="stTable"]')
    expect(metrics.locator("th").last).to_have_text("Finish reason")
    assert headers_in_view(metrics) == []
    assert "None" not in metrics.inner_text(), "a figure the server did not report reads None"


def test_on_a_phone_the_grid_scrolls_inside_its_own_box(layout_app, page):
    open_run(page, layout_app, "grid", PHONE)
    grid = page.locator('[class*="st-key-compare-grid-"] [data-testid="stTable"]')
    expect(grid).to_be_visible()
    frame = box(grid)
    assert frame["right"] <= PHONE["width"], frame
    scroller = box(grid.locator("table").locator(".."))
    assert scroller["scroll"] > scroller["client"] and scroller["overflow"] in ("auto", "scroll"), scroller


def test_the_share_dialog_shows_the_whole_link_and_share_sits_with_the_exports(layout_app, page):
    open_run(page, layout_app, "wide", LAPTOP)
    page.get_by_role("tab", name="Save and export").click()
    buttons = [
        page.get_by_role("button", name="Export CSV"),
        page.get_by_role("button", name="Export JSON"),
        page.get_by_role("button", name="Share"),
    ]
    boxes = [b.bounding_box() for b in buttons]
    tops = [b["y"] for b in boxes]
    assert max(tops) - min(tops) < 2, f"not one row: {boxes}"
    assert boxes[2]["width"] < 2 * boxes[1]["width"], f"Share is stretched: {boxes}"
    assert boxes[2]["x"] - (boxes[1]["x"] + boxes[1]["width"]) < 40, f"Share stands apart: {boxes}"

    buttons[2].click()
    page.get_by_role("button", name="Create link").click()
    link = page.get_by_role("dialog").get_by_test_id("stCode")
    expect(link).to_contain_text("token=")
    address = link.inner_text().strip()
    assert re.search(r"/shared\?token=[A-Za-z0-9_-]{20,}$", address), address
    shown = box(link.locator("pre"))
    assert shown["scroll"] <= shown["client"] + 1, f"the link is cut in the dialog: {shown}"


def test_the_saved_comparisons_read_as_a_left_aligned_list(layout_app, page):
    open_run(page, layout_app, "wide", LAPTOP)
    sidebar = page.get_by_test_id("stSidebar")
    for title in ("Wide table · 3 columns", "Seed grid · 25 cells"):
        button = sidebar.get_by_role("button", name=title)
        expect(button).to_be_visible()
        outer = button.bounding_box()
        text = button.locator("p").bounding_box()
        assert text["x"] - outer["x"] < 20, f"{title!r} is not on the left of its row: {text} in {outer}"
