"""Writes JSON answers: a valid object for ``json_object``, an instance of the schema for ``json_schema``,
and tool-call arguments that fit a function's parameters.

What must stay true: the output parses, and validates against the schema for the subset we support:
``type`` (one or a list), ``properties``/``required``/``additionalProperties``, ``items``/``minItems``/
``maxItems``, ``enum``, ``const``, ``anyOf``/``oneOf`` (one branch), ``allOf`` (merged), local ``$ref``
(``#/$defs/..``, ``#/definitions/..``), ``minimum``/``maximum`` (and the exclusive ones),
``multipleOf`` for integers, ``minLength``/``maxLength``, and the formats date, date-time, email, uri,
uuid. ``pattern`` and ``uniqueItems`` are not honoured.

Strings are sampled from the n-gram (so temperature and seed show in them too); enum values, booleans,
numbers and array lengths are drawn uniformly with the request's random stream, and their logprob is
the log of that uniform probability. At temperature 0 every choice is the first option (logprob 0).
"""

from __future__ import annotations

import random
import uuid

import orjson

from offline_model.sampling import Sampler
from offline_model.writing import Writer, uniform_logprob

MAX_DEPTH = 6
DEFAULT_ARRAY_MAX = 3
STRING_TOKENS = 12


class SchemaWriter:
    """Walks a schema and writes an instance of it into a Writer."""

    def __init__(
        self, writer: Writer, sampler: Sampler, root: dict, greedy: bool, given: list[str] | None = None
    ) -> None:
        self.given = [g for g in (given or []) if g]  # words from the user, used for the first strings
        self.w = writer
        self.sampler = sampler
        self.rng: random.Random = sampler.rng
        self.root = root
        self.greedy = greedy

    # -- choices ---------------------------------------------------------------------------------------

    def _pick(self, k: int) -> tuple[int, float]:
        """Index of one of k options and its logprob (first option, probability 1, when greedy)."""
        if self.greedy or k <= 1:
            return 0, 0.0
        return self.rng.randrange(k), uniform_logprob(k)

    def _resolve(self, schema: dict) -> dict:
        seen = 0
        while isinstance(schema, dict) and "$ref" in schema and seen < 20:
            ref = schema["$ref"]
            node: object = self.root
            if not ref.startswith("#"):
                return {}
            for part in filter(None, ref[1:].split("/")):
                node = node.get(part, {}) if isinstance(node, dict) else {}
            schema = node if isinstance(node, dict) else {}
            seen += 1
        if "allOf" in schema:
            merged = {k: v for k, v in schema.items() if k != "allOf"}
            for sub in schema["allOf"]:
                sub = self._resolve(sub)
                for key, value in sub.items():
                    if key == "properties":
                        merged["properties"] = {**merged.get("properties", {}), **value}
                    elif key == "required":
                        merged["required"] = [*merged.get("required", []), *value]
                    else:
                        merged.setdefault(key, value)
            schema = merged
        return schema

    # -- values ----------------------------------------------------------------------------------------

    def value(self, schema: object, hint: str = "", depth: int = 0) -> None:
        """Write one value fitting ``schema``; ``hint`` (a property name) names generated keys."""
        schema = self._resolve(schema if isinstance(schema, dict) else {})
        if "const" in schema:
            self.w.forced(_dump(schema["const"]))
            return
        if schema.get("enum"):
            options = [_dump(v) for v in schema["enum"]]
            i, lp = self._pick(len(options))
            self.w.choose(options, i, lp)
            return
        for key in ("anyOf", "oneOf"):
            if schema.get(key):
                branches = schema[key]
                i, _ = self._pick(len(branches))
                self.value(branches[i], hint, depth)
                return
        kind = schema.get("type")
        if isinstance(kind, list):
            kinds = [k for k in kind if k != "null"] or ["null"]
            kind = kinds[self._pick(len(kinds))[0]]
        if kind is None:
            kind = "object" if "properties" in schema else "array" if "items" in schema else "string"
        getattr(self, f"_{kind}", self._string)(schema, hint, depth)

    def _object(self, schema: dict, hint: str, depth: int) -> None:
        props = schema.get("properties") or {}
        if not props:
            extra = schema.get("additionalProperties")
            min_props = schema.get("minProperties", 0)
            if extra is False:
                self.w.forced("{}")
                return
            if isinstance(extra, dict) or min_props:
                names = [f"{hint or 'item'}_{i + 1}" for i in range(max(1, min_props))]
                props = dict.fromkeys(names, extra if isinstance(extra, dict) else {"type": "string"})
            else:
                props = {"answer": {"type": "string"}}
        if depth >= MAX_DEPTH:  # deep enough: only what the schema requires
            required = set(schema.get("required") or ())
            props = {k: v for k, v in props.items() if k in required}
        self.w.forced("{")
        for n, (name, sub) in enumerate(props.items()):
            self.w.forced((", " if n else "") + _dump(name) + ": ")
            self.value(sub, name, depth + 1)
        self.w.forced("}")

    def _array(self, schema: dict, hint: str, depth: int) -> None:
        lo = int(schema.get("minItems", 0))
        hi = int(schema.get("maxItems", max(lo, DEFAULT_ARRAY_MAX)))
        lo_pick = max(lo, min(1, hi))  # one item at least when allowed: an empty list says little
        if depth >= MAX_DEPTH:
            lo_pick = hi = lo
        i, _ = self._pick(hi - lo_pick + 1)  # (an array's length shows in no single token)
        count = lo_pick + i
        prefix = schema.get("prefixItems") or []
        items = schema.get("items", {})
        self.w.forced("[")
        for k in range(count):
            if k:
                self.w.forced(", ")
            sub = prefix[k] if k < len(prefix) else items if isinstance(items, dict) else {}
            self.value(sub, hint, depth + 1)
        self.w.forced("]")

    def _string(self, schema: dict, hint: str, depth: int) -> None:
        fmt = schema.get("format")
        if fmt in FORMATS:
            self.w.forced(_dump(FORMATS[fmt](self.rng, self.greedy)))
            return
        lo = int(schema.get("minLength", 0))
        hi = schema.get("maxLength")
        if self.given and lo <= len(self.given[0]) <= (hi if hi is not None else len(self.given[0])):
            self.w.forced(_dump(self.given.pop(0)))
            return
        sub = Writer(self.w.model, self.w.want_logprobs, self.w.top_k)
        raw = ""
        tries = 0
        while (not raw or len(raw) < lo) and tries < 8:
            if raw:
                sub.forced(" ")
                raw += " "
            raw += sub.sample(self.sampler, max_tokens=STRING_TOKENS, sentence=True, json_string=True)
            tries += 1
        if len(raw) < lo:
            sub.forced("." * (lo - len(raw)))
            raw += "." * (lo - len(raw))
        if hi is not None and len(raw) > hi:
            _trim(sub, int(hi))
        self.w.forced('"')
        self.w.tokens += sub.tokens
        self.w.entries += sub.entries
        self.w.forced('"')

    def _integer(self, schema: dict, hint: str, depth: int) -> None:
        lo, hi = _bounds(schema, integer=True)
        step = schema.get("multipleOf")
        if isinstance(step, int) and step > 0:
            first = -(-lo // step) * step
            count = max(1, (hi - first) // step + 1)
            i, lp = self._pick(count)
            value = first + i * step
        else:
            i, lp = self._pick(hi - lo + 1)
            value = lo + i
        self.w.choose([str(value)], 0, lp)

    def _number(self, schema: dict, hint: str, depth: int) -> None:
        lo, hi = _bounds(schema, integer=False)
        steps = max(1, round((hi - lo) * 100))
        i, lp = self._pick(steps + 1)
        value = round(lo + i / 100, 2)
        value = min(max(value, lo), hi)
        self.w.choose([_dump(value)], 0, lp)

    def _boolean(self, schema: dict, hint: str, depth: int) -> None:
        i, lp = self._pick(2)
        self.w.choose(["true", "false"], i, lp)

    def _null(self, schema: dict, hint: str, depth: int) -> None:
        self.w.forced("null")


def _bounds(schema: dict, integer: bool) -> tuple:
    bump = 1 if integer else 0.01
    lo = schema.get("minimum")
    hi = schema.get("maximum")
    if "exclusiveMinimum" in schema and not isinstance(schema["exclusiveMinimum"], bool):
        lo = schema["exclusiveMinimum"] + bump
    if "exclusiveMaximum" in schema and not isinstance(schema["exclusiveMaximum"], bool):
        hi = schema["exclusiveMaximum"] - bump
    if lo is None:
        lo = 0 if hi is None or hi >= 0 else hi - 100
    if hi is None:
        hi = lo + 100
    if integer:
        lo, hi = int(-(-lo // 1)), int(hi // 1)
    return lo, max(lo, hi)


def _trim(sub: Writer, hi: int) -> None:
    """Cut a sampled string's tokens to at most ``hi`` characters (JSON escapes counted as written)."""
    total = 0
    for i, tok in enumerate(sub.tokens):
        if total + len(tok) > hi:
            keep = tok[: hi - total].rstrip("\\")
            del sub.tokens[i:]
            if sub.entries:
                del sub.entries[i + (1 if keep else 0) :]
                if keep:
                    sub.entries[i]["token"] = keep
                    sub.entries[i]["bytes"] = list(keep.encode())
            if keep:
                sub.tokens.append(keep)
            return
        total += len(tok)


def _dump(value: object) -> str:
    return orjson.dumps(value).decode()


def _date(rng: random.Random, greedy: bool) -> str:
    day = 1 if greedy else rng.randrange(1, 29)
    return f"2026-11-{day:02d}"


FORMATS = {
    "date": _date,
    "date-time": lambda rng, greedy: _date(rng, greedy) + "T12:00:00Z",
    "email": lambda rng, greedy: "prism@example.com",
    "uri": lambda rng, greedy: "https://example.com/prism",
    "uuid": lambda rng, greedy: str(uuid.UUID(int=0 if greedy else rng.getrandbits(128), version=4)),
}


def write_json(writer: Writer, sampler: Sampler, schema: dict, greedy: bool) -> None:
    """Write an instance of ``schema`` (``{}`` or an object schema without properties for json_object)."""
    SchemaWriter(writer, sampler, schema, greedy).value(schema)
