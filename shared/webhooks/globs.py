"""Path globs for `source.paths`, read the way `.gitignore` patterns are.

- `*` matches any run of characters except `/`; `?` one character except `/`; `[abc]`, `[a-z]`,
  `[!abc]` one character from (or not from) a set; `\\` makes the next character literal.
- `**` as a whole segment matches any number of directories: `**/kustomization.yaml` (at any
  depth), `clusters/**` (everything under `clusters/`), `apps/**/prod/*.yaml` (zero or more
  directories between). `**` inside a segment (`a**b`) is the same as `*`.
- A pattern that starts with `/` or `./`, or has a `/` before its end, is anchored at the
  repository root; any other pattern matches at any depth (`*.yaml`, `README.md`, `clusters/`).
- A pattern matching a directory matches everything inside it (`clusters`, `clusters/`); a
  trailing `/` makes it match directories only.
- `!pattern` excludes what it matches again; the last pattern that matches a path decides. When
  every pattern is an exclusion, paths start out included.

Matching is case-sensitive, as Git paths are. A file path is given relative to the repository
root (`clusters/prod/app.yaml`); a leading `/` or `./` is ignored.
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

_ANY_DIRS = "(?:[^/]+/)*"


@dataclass(frozen=True, slots=True)
class PathGlob:
    """One compiled pattern."""

    pattern: str
    negated: bool
    dir_only: bool
    regex: re.Pattern[str] | None

    def matches(self, path: str) -> bool:
        """Whether the pattern (ignoring `!`) selects `path` or one of its parent directories."""
        if self.regex is None:
            return False
        parts = _clean_path(path).split("/")
        last = len(parts) - 1 if self.dir_only else len(parts)
        return any(self.regex.fullmatch("/".join(parts[:end])) for end in range(1, last + 1))


@lru_cache(maxsize=1024)
def compile_glob(pattern: str) -> PathGlob:
    """Compile one pattern; never raises (a malformed set is read literally)."""
    text = pattern.strip()
    negated = text.startswith("!")
    if negated:
        text = text[1:]
    dir_only = text.endswith("/")
    anchored = text.startswith(("/", "./")) or "/" in text.rstrip("/")
    segments = [s for s in text.split("/") if s and s != "."]
    if not segments:
        return PathGlob(pattern, negated, dir_only, None)
    if not anchored and segments[0] != "**":
        segments.insert(0, "**")
    collapsed: list[str] = []
    for segment in segments:
        if not (segment == "**" and collapsed and collapsed[-1] == "**"):
            collapsed.append(segment)
    return PathGlob(pattern, negated, dir_only, _compile(collapsed))


def _compile(segments: list[str]) -> re.Pattern[str]:
    out = []
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == "**":
            out.append(".+" if last else _ANY_DIRS)
        else:
            out.append(_segment(segment) + ("" if last else "/"))
    try:
        return re.compile("".join(out))
    except re.error:
        return re.compile(re.escape("/".join(segments)))


def _segment(segment: str) -> str:
    """The regex for one path segment (no `/` inside)."""
    out = []
    i, n = 0, len(segment)
    while i < n:
        char = segment[i]
        i += 1
        if char == "\\" and i < n:
            out.append(re.escape(segment[i]))
            i += 1
        elif char == "*":
            while i < n and segment[i] == "*":
                i += 1
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = _set_end(segment, i)
            if end is None:
                out.append(re.escape(char))
            else:
                out.append(_char_set(segment[i:end]))
                i = end + 1
        else:
            out.append(re.escape(char))
    return "".join(out)


def _set_end(segment: str, start: int) -> int | None:
    """The index of the `]` closing a set opened just before `start`, if any."""
    i = start
    if i < len(segment) and segment[i] in "!^":
        i += 1
    if i < len(segment) and segment[i] == "]":
        i += 1
    end = segment.find("]", i)
    return None if end < 0 else end


def _char_set(body: str) -> str:
    negate = body[:1] in ("!", "^")
    if negate:
        body = body[1:]
    escaped = re.sub(r"([\\\[\]&~|^])", r"\\\1", body)
    return f"(?!/)[{'^' if negate else ''}{escaped}]"


def _clean_path(path: str) -> str:
    text = path.strip()
    while text.startswith(("./", "/")):
        text = text[2:] if text.startswith("./") else text[1:]
    return text


def path_selected(path: str, globs: Sequence[PathGlob]) -> bool:
    """Whether `path` is selected by `globs` (the last matching pattern decides)."""
    selected = bool(globs) and all(g.negated for g in globs)
    for glob in globs:
        if glob.negated == selected and glob.matches(path):
            selected = not glob.negated
    return selected


def any_path_selected(paths: Iterable[str], patterns: Sequence[str]) -> bool:
    """Whether at least one of `paths` is selected by `patterns`; no patterns select everything."""
    if not patterns:
        return True
    globs = [compile_glob(p) for p in patterns]
    return any(path_selected(path, globs) for path in paths)
