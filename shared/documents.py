"""Reading operator documents (track specs, API bodies): JSON or YAML, strictly.

YAML quietly keeps the last of two equal keys; a rollout policy must not, so duplicate keys are
an error with their line. JSON is YAML, so one reader serves both.
"""

from typing import Any

import yaml

from shared.problems import InvalidInput, Problem


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe YAML loader that refuses duplicate keys instead of keeping the last one."""


def _mapping_without_duplicates(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key '{key}'", key_node.start_mark
            )
        seen.add(key)
    loader.flatten_mapping(node)
    return dict(loader.construct_pairs(node))


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates
)


def parse_document(text: str, what: str) -> Any:
    """Read JSON or YAML text (JSON is YAML), refusing duplicate keys."""
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise InvalidInput(
            what, [Problem(where, "syntax", f"not valid YAML/JSON: {problem}")]
        ) from None
