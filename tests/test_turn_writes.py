"""No page or component writes a turn: they ask `turns`, which saves the turn before it sends anything.

A turn writes the person's message (with its images), an edit, the tool results, the reply rows (one
per candidate when n > 1), the compare run and its results, and the usage ledger. Those writes live in
turns/ (turns.conversation, turns.chat, turns.compare, turns.quota), where tests drive them without
Streamlit; if a page wrote them, nothing would hold it to "saved before sent, kept when cut short".

This file reads the source of views/ and components/ (it runs nothing) and finds every reference to a
function of the storage modules that write: `repository.add_message(...)`, `compare_store.start_result`
passed as a callback, `from storage.repository import add_message`. Every public function of those
modules is classified below, so a new one cannot slip past unclassified:

- TURN_WRITES: only turns/ may call them;
- OTHER_WRITES: writes that are not part of a turn, each allowed in the files named, for the reason given;
- READS: anything may call them.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WRITING_MODULES = ("repository", "compare", "presets", "sharing", "usage", "interchange")

TURN_WRITES = {
    "create_conversation",  # a conversation is started by its first message
    "add_message",
    "start_reply",
    "grow_reply",
    "grow_row",
    "finish_reply",
    "finish_row",
    "store_image",
    "forget_unused_images",
    "create_compare_run",
    "update_compare_run",
    "start_result",
    "grow_result",
    "finish_result",
    "record_usage",
    "add_tokens",
}

LIST = "components/conversation_list.py"
PRESETS = ("views/presets.py", "components/presets_picker.py")
OTHER_WRITES: dict[str, tuple[tuple[str, ...], str]] = {
    "choose_branch": (
        ("views/chat.py",),
        "which version a person follows at a branching point (< >, Keep this one), stored at the top of "
        "the chat page; the choice that follows an edit or a new reply is turns.conversation's",
    ),
    "update_conversation": (("views/chat.py",), "the conversation's system prompt and parameters"),
    "rename_conversation": ((LIST,), "the sidebar's Rename"),
    "pin_conversation": ((LIST,), "the sidebar's Pin"),
    "archive_conversation": ((), "no page archives a conversation yet"),
    "delete_conversation": ((LIST,), "the sidebar's Delete"),
    "import_conversations": ((LIST,), "importing a file copies whole conversations; nothing is sent"),
    "ensure_user": (("components/auth.py", "components/resources.py"), "signing in, and the local user"),
    "create_preset": (PRESETS, "saving a preset"),
    "update_preset": (PRESETS, "editing a preset"),
    "delete_preset": (PRESETS, "deleting a preset"),
    "delete_compare_run": ((), "no page deletes a compare run yet"),
    "create_share_link": (("components/share.py",), "sharing a snapshot"),
    "create_evaluation_link": (("views/evaluate.py",), "sharing an evaluation's snapshot"),
    "revoke_share_link": (("components/share.py",), "revoking a share link"),
}

READS = {
    "list_conversations",
    "count_conversations",
    "get_conversation",
    "search_conversations",
    "search_hits",
    "titles_starting",
    "search_words",
    "check_finished_status",
    "get_message",
    "conversation_messages",
    "active_path",
    "conversation_outline",
    "messages_by_id",
    "branch_messages",
    "get_attachment",
    "list_compare_runs",
    "get_compare_run",
    "list_presets",
    "get_preset",
    "open_share_link",
    "list_share_links",
    "list_all_share_links",
    "compare_run_to_dict",
    "run_to_dict",
    "usage_totals",
    "global_usage_totals",
    "check_quota",
    "usage_per_user_day",
    "split_completion",
    "conversation_to_dict",
    "export_dict",
    "export_json",
    "export_markdown",
}


def storage_references(source: str) -> list[tuple[str, int]]:
    """(function name, line) for every reference to a function of a writing storage module."""
    tree = ast.parse(source)
    aliases: dict[str, str] = {}  # local name -> dotted path it stands for
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                aliases[(alias.asname or alias.name).split(".")[0]] = (
                    alias.name if alias.asname else alias.name.split(".")[0]
                )
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    found = []
    for node in ast.walk(tree):
        dotted = _dotted(node)
        if dotted is None:
            continue
        head, _, rest = dotted.partition(".")
        full = ".".join(filter(None, [aliases.get(head, head), rest]))
        parts = full.split(".")
        if len(parts) == 3 and parts[0] == "storage" and parts[1] in WRITING_MODULES:
            value = getattr(importlib.import_module(f"storage.{parts[1]}"), parts[2], None)
            if inspect.isfunction(value):  # not its errors or constants (ImportRefused, KINDS)
                found.append((parts[2], node.lineno))
    return found


def _dotted(node: ast.AST) -> str | None:
    """`a.b.c` for an attribute chain over a name (the outermost one only), or a lone name."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return f"{inner}.{node.attr}" if inner is not None else None
    return None


def page_files() -> list[Path]:
    return sorted((ROOT / "views").rglob("*.py")) + sorted((ROOT / "components").rglob("*.py"))


@pytest.mark.parametrize("path", page_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_page_or_component_writes_a_turn(path):
    relative = str(path.relative_to(ROOT))
    problems = []
    for name, line in storage_references(path.read_text(encoding="utf-8")):
        if name in TURN_WRITES:
            problems.append(f"line {line}: {name} is a turn's write; ask turns for the turn instead")
        elif name in OTHER_WRITES and relative not in OTHER_WRITES[name][0]:
            problems.append(f"line {line}: {name} is allowed only in {', '.join(OTHER_WRITES[name][0])}")
        elif name not in OTHER_WRITES and name not in READS:
            problems.append(f"line {line}: {name} is not classified in tests/test_turn_writes.py")
    assert problems == []


def test_every_function_of_the_writing_storage_modules_is_classified():
    classified = [*TURN_WRITES, *OTHER_WRITES, *READS]
    assert len(classified) == len(set(classified)), "a function is classified twice"
    public = {
        name
        for module in WRITING_MODULES
        for name, value in vars(importlib.import_module(f"storage.{module}")).items()
        if inspect.isfunction(value) and value.__module__ == f"storage.{module}" and not name.startswith("_")
    }
    assert public - set(classified) == set(), "classify the new storage functions above"
    assert set(classified) - public == set(), "a classified function no longer exists"


@pytest.mark.parametrize(
    "source",
    [
        "from storage import repository\nrepository.add_message(s, u, 1, role='user', content='x')\n",
        "from storage import compare as compare_store\nrun(compare_store.start_result, 1)\n",
        "import storage.repository\nstorage.repository.finish_reply(s, u, 1)\n",
        "from storage.repository import add_message\nadd_message(s, u, 1)\n",
        "import storage\nstorage.repository.create_conversation(s, u)\n",
    ],
)
def test_the_checker_sees_a_turn_write_however_it_is_spelled(source):
    assert {name for name, _ in storage_references(source)} & TURN_WRITES


def test_the_checker_ignores_what_only_looks_like_storage():
    source = "from components import share\nshare.add_message()\nrepository = 1\nrepository.add_message()\n"
    assert storage_references(source) == []
