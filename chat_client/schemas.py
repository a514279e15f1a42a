"""Whether a JSON schema (response_format.json_schema.schema, a tool's parameters) is one Prism can check.

A schema is refused before sending, with words, when:
- it is larger than MAX_SCHEMA_BYTES as JSON, or nested deeper than MAX_SCHEMA_DEPTH (no model needs
  more, and a validator walking it would run out of stack);
- it has a `$ref` cycle that never reaches into the value: following `$ref`, `allOf`, `anyOf`,
  `oneOf`, `not`, `if`/`then`/`else` from some subschema leads back to it without passing through
  `properties`, `items` or another keyword that describes a part of the value. Such a schema describes
  nothing (a validator or a generator following it never stops). A recursive schema that does pass
  through a part of the value, such as a tree whose `children` items `$ref` the tree, is fine.

Only local references (`#`, `#/$defs/...`, JSON pointers) are followed; others are left to the server.
"""

from __future__ import annotations

from typing import Any

import orjson

MAX_SCHEMA_BYTES = 100_000
MAX_SCHEMA_DEPTH = 64
# Keywords whose subschemas apply to the same value (so a cycle through them makes no progress).
_SAME_VALUE_LISTS = ("allOf", "anyOf", "oneOf")
_SAME_VALUE_ONE = ("not", "if", "then", "else")


def schema_problem(schema: Any) -> str | None:
    """Plain words for why `schema` cannot be checked, or None when it can."""
    depth = _depth(schema)
    if depth > MAX_SCHEMA_DEPTH:
        return (
            f"The schema is nested more than {MAX_SCHEMA_DEPTH} levels deep; Prism checks schemas up to that."
        )
    size = len(orjson.dumps(schema))
    if size > MAX_SCHEMA_BYTES:
        return f"The schema is {size:,} bytes as JSON; Prism sends schemas up to {MAX_SCHEMA_BYTES:,} bytes."
    cycle = _ref_cycle(schema)
    if cycle is not None:
        return (
            f"The schema's $ref at {cycle} leads back to itself without describing any part of the value "
            "(a $ref cycle), so no value could ever be checked against it."
        )
    return None


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, depth)
            if depth > MAX_SCHEMA_DEPTH:
                return depth
            stack.extend((child, depth + 1) for child in (node.values() if isinstance(node, dict) else node))
    return deepest


def _pointer(ref: str) -> tuple[str, ...] | None:
    if not ref.startswith("#"):
        return None
    return tuple(p.replace("~1", "/").replace("~0", "~") for p in ref[1:].split("/") if p)


def _node(root: Any, path: tuple[str, ...]) -> Any:
    node = root
    for part in path:
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def _same_value_children(root: Any, path: tuple[str, ...]) -> list[tuple[str, ...]]:
    node = _node(root, path)
    if not isinstance(node, dict):
        return []
    children = []
    ref = node.get("$ref")
    if isinstance(ref, str) and (target := _pointer(ref)) is not None:
        children.append(target)
    for key in _SAME_VALUE_LISTS:
        if isinstance(node.get(key), list):
            children.extend((*path, key, str(i)) for i in range(len(node[key])))
    children.extend((*path, key) for key in _SAME_VALUE_ONE if isinstance(node.get(key), dict))
    return children


def _all_subschemas(root: Any) -> list[tuple[str, ...]]:
    paths, stack = [], [((), root)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, dict):
            paths.append(path)
            stack.extend(((*path, k), v) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend(((*path, str(i)), v) for i, v in enumerate(node))
    return paths


def _ref_cycle(root: Any) -> str | None:
    """The JSON pointer of a subschema on a same-value cycle, or None (iterative depth-first search)."""
    state: dict[tuple[str, ...], int] = {}  # 1: on the current path, 2: done
    for start in _all_subschemas(root):
        if start in state:
            continue
        state[start] = 1
        stack = [(start, iter(_same_value_children(root, start)))]
        while stack:
            path, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[path] = 2
                stack.pop()
            elif state.get(child) == 1:
                return "#/" + "/".join(child) if child else "#"
            elif child not in state:
                state[child] = 1
                stack.append((child, iter(_same_value_children(root, child))))
    return None
