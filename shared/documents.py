"""Reading operator documents (track specs, API bodies): JSON or YAML, strictly.

YAML quietly keeps the last of two equal keys; a rollout policy must not, so duplicate keys are
an error with their line. JSON is YAML, so one reader serves both.

Hostile input is refused before it can cost anything:

- YAML anchors and aliases (`&name`, `*name`) are refused where they appear, before any value
  is built: an alias is a reference, and a few nested ones expand a small body into millions
  of values (the "billion laughs"). A track spec has no use for them.
- Documents nest at most `MAX_DEPTH` levels (lists and mappings), checked while reading, so no
  parser or validator downstream ever recurses deeply.
- Strings must be valid Unicode: an escaped lone surrogate (`"\\ud800"`, legal in JSON and
  YAML escapes) cannot be stored, logged or echoed back as UTF-8, so it is refused with where
  it is.
- Anything else the reader refuses (a date that does not exist, an integer of thousands of
  digits) is a problem with its line, never an exception of another kind.
"""

import json
import re
from typing import Any

import yaml

from shared.problems import InvalidInput, Problem, cut

MAX_DEPTH = 64
"""How deeply lists and mappings may nest in a document (a track spec needs about 6)."""


class _Refused(yaml.composer.ComposerError):
    """A document the reader will not build; `kind` is the problem's type."""

    def __init__(self, kind: str, problem: str, mark: Any) -> None:
        super().__init__(None, None, problem, mark)
        self.kind = kind


class _StrictLoader(yaml.SafeLoader):
    """A safe YAML loader that refuses duplicate keys, anchors and aliases, and deep nesting."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent):
            raise _Refused(
                "yaml_alias",
                f"YAML aliases are not accepted (found '*{cut(str(event.anchor), 40)}'): write "
                "the value out where it is used",
                event.start_mark,
            )
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            raise _Refused(
                "yaml_alias",
                f"YAML anchors are not accepted (found '&{cut(str(anchor), 40)}'): write the "
                "value out where it is used",
                event.start_mark,
            )
        nests = isinstance(event, yaml.SequenceStartEvent | yaml.MappingStartEvent)
        if nests:
            self._depth += 1
            if self._depth > MAX_DEPTH:
                raise _Refused("too_deep", _too_deep(), event.start_mark)
        try:
            return super().compose_node(parent, index)
        finally:
            if nests:
                self._depth -= 1


def _mapping_without_duplicates(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        try:
            duplicate = key in seen
        except TypeError:  # a list or mapping as a key: refused, not a crash
            raise yaml.constructor.ConstructorError(
                None,
                None,
                "a key must be a plain value, not a list or mapping",
                key_node.start_mark,
            ) from None
        if duplicate:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key '{cut(str(key), 80)}'", key_node.start_mark
            )
        seen.add(key)
    loader.flatten_mapping(node)
    return dict(loader.construct_pairs(node))


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _mapping_without_duplicates,
)


def parse_document(text: str, what: str) -> Any:
    """Read JSON or YAML text (JSON is YAML), refusing duplicate keys, anchors and aliases,
    and nesting deeper than `MAX_DEPTH`.

    A document that opens with a bracket (JSON, or YAML in flow style) has its nesting counted
    before the YAML reader sees it: in flow style the reader scans far ahead of what it builds,
    so deep brackets would cost it a third of a second before it could refuse them."""
    if text.lstrip()[:1] in ("[", "{") and json_depth(text.encode()) > MAX_DEPTH:
        raise InvalidInput(what, [Problem("", "too_deep", _too_deep())])
    try:
        value = yaml.load(text, Loader=_StrictLoader)
    except _Refused as error:
        raise InvalidInput(
            what, [Problem(_where(error.problem_mark), error.kind, str(error.problem))]
        ) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
        problem = getattr(error, "problem", None) or str(error)
        raise InvalidInput(
            what, [Problem(_where(mark), "syntax", f"not valid YAML/JSON: {cut(problem, 200)}")]
        ) from None
    except (ValueError, OverflowError, RecursionError) as error:
        # The reader's own refusals that are not YAMLErrors: a date like 2026-02-30, an
        # integer longer than Python converts, anything nested past the interpreter's limit.
        raise InvalidInput(
            what, [Problem("", "value", f"cannot read this value: {cut(str(error), 200)}")]
        ) from None
    return _unicode_only(value, what)


_JSON_NESTING = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)
"""JSON strings (skipped whole) and brackets: what counting the nesting of JSON needs."""


def json_depth(body: bytes, limit: int = MAX_DEPTH) -> int:
    """How deeply `body`'s lists and objects nest, counted without parsing (stops counting
    once past `limit`)."""
    depth = deepest = 0
    for match in _JSON_NESTING.finditer(body):
        token = match[0]
        if token in (b"[", b"{"):
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    break
        elif token in (b"]", b"}"):
            depth -= 1
    return deepest


def parse_json(body: bytes, what: str) -> Any:
    """Read a JSON body, refusing nesting deeper than `MAX_DEPTH` before parsing it."""
    if json_depth(body) > MAX_DEPTH:
        raise InvalidInput(what, [Problem("", "too_deep", _too_deep())])
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        raise InvalidInput(
            what, [Problem("", "json", f"not valid JSON: {cut(str(error), 200)}")]
        ) from None
    return _unicode_only(value, what)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _unicode_only(value: Any, what: str) -> Any:
    """`value` when every string in it (keys too) is valid Unicode; a lone surrogate (from an
    escape such as `\\ud800`) is refused naming where it is. Walked without recursion; the
    readers have bounded the nesting already."""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        item, path = stack.pop()
        if isinstance(item, dict):
            for key, child in item.items():
                where = f"{path}.{key}" if path else str(key)
                if isinstance(key, str) and _SURROGATE.search(key):
                    _refuse_surrogate(what, path or "(top)")
                stack.append((child, where))
        elif isinstance(item, list):
            stack.extend((child, f"{path}[{i}]") for i, child in enumerate(item))
        elif isinstance(item, str) and _SURROGATE.search(item):
            _refuse_surrogate(what, path)
    return value


def _refuse_surrogate(what: str, where: str) -> None:
    place = cut(where.encode("utf-8", "backslashreplace").decode("ascii", "replace"), 80)
    raise InvalidInput(
        what,
        [
            Problem(
                place,
                "unicode",
                "a string holds a lone surrogate (an escape such as \\ud800 without its pair): "
                "text must be valid Unicode",
            )
        ],
    )


def nesting(value: Any, limit: int = MAX_DEPTH) -> int:
    """How deeply lists and mappings nest in a decoded value, counted without recursion
    (stops counting once past `limit`)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if not isinstance(item, dict | list | tuple):
            continue
        deepest = max(deepest, depth)
        if deepest > limit:
            break
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children)
    return deepest


def _too_deep() -> str:
    return f"lists and mappings nest deeper than {MAX_DEPTH} levels, the most accepted"


def _where(mark: Any) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
