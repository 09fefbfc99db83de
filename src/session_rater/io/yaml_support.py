"""What the YAML data files (rubrics, sampling policies, the retention policy, the certification
rule) share: a strict loader, readable YAML syntax errors, the line of a dotted path, the
author-facing wording of the basic type errors of their schemas, and (:func:`parse_yaml_model`)
the whole strict parse of a small file into its pydantic schema.

**Limits.** A real rubric or policy is a few kilobytes; these bound what a file (or text typed
into the Rubrics and Sampling pages) may cost to read, since PyYAML is pure Python (a 50 MB
file once ran for more than 5 minutes and took 6 GB) and aliases can expand a small file into a
huge one ("billion laughs": 6 KB of ``[*s, *s, ...]`` asked for millions of checks):

* :data:`MAX_YAML_BYTES` (1 MiB): larger files and texts are refused before they are parsed;
* :data:`MAX_YAML_VALUES` (100,000): values in the document, counting a value reached through
  an alias (``*name``) once for every place it is used; an alias inside the value it names
  (a loop) is refused too;
* :data:`MAX_YAML_DEPTH` (50): values nested inside each other (a rubric uses 7, counting the values at the bottom).

rubrics/README.md and policies/README.md state them for authors.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

TOP_LEVEL = "(top level)"

MAX_YAML_BYTES = 1024 * 1024
MAX_YAML_VALUES = 100_000
MAX_YAML_DEPTH = 50


class YamlInputError(Exception):
    """A YAML text that cannot be used, with the author-facing message (``file: where: what``).
    Internal to the io layer: each file kind raises it again as its own FileContentError."""


def size_message(source: str, size: int, what: str) -> str:
    """Why a YAML file or text of ``size`` bytes is refused, and what to do."""
    return (
        f"{source}: {TOP_LEVEL}: the {what} is {size:,d} bytes, more than the limit of {MAX_YAML_BYTES:,d} "
        f"bytes (1 MiB); a {what} is normally a few kilobytes. Check that this is the right file; "
        f"if it is, split it into several {what}s"
    )


def utf8_size(text: str) -> int:
    """The size of ``text`` in UTF-8, encoded a megabyte at a time (a huge paste costs no copy)."""
    step = 1 << 20
    return sum(len(text[i : i + step].encode("utf-8", "surrogatepass")) for i in range(0, len(text), step))


def compose_within_limits(text: str) -> yaml.Node | None:
    """The node tree of ``text`` (for finding the line of a dotted path), or None when the text
    is over the limits or is not YAML."""
    if utf8_size(text) > MAX_YAML_BYTES:
        return None
    try:
        return yaml.compose(text.removeprefix("\ufeff"), Loader=LimitedLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError:
        return None


def line_of(root: yaml.Node | None, path: str) -> int | None:
    """The line (from 1) of the node at a dotted path (``monitoring.percent``, ``per.0``) in the
    tree :func:`compose_within_limits` gives, or of the deepest part of it that exists (a missing
    key points at its parent); None without a tree."""
    if root is None or path == TOP_LEVEL:
        return None
    node, line = root, root.start_mark.line + 1
    for part in path.split("."):
        if isinstance(node, yaml.MappingNode):
            pair = next(((k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == part), None)
            if pair is None:
                return line
            node, line = pair[1], pair[0].start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and part.isdigit() and int(part) < len(node.value):
            node = node.value[int(part)]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def read_yaml_file(path: Path, source: str, what: str) -> bytes:
    """The bytes of the YAML file at ``path``, without a UTF-8 byte order mark.

    Refuses a file over :data:`MAX_YAML_BYTES` from its size, before reading it (and stops
    reading at the limit, should it grow meanwhile). Raises :class:`YamlInputError`, or
    ``OSError`` when the file cannot be read (the caller words that).
    """
    with Path(path).open("rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        if size > MAX_YAML_BYTES:
            raise YamlInputError(size_message(source, size, what))
        raw = handle.read(MAX_YAML_BYTES + 1)
    if len(raw) > MAX_YAML_BYTES:
        raise YamlInputError(size_message(source, max(size, len(raw)), what))
    return raw.removeprefix(b"\xef\xbb\xbf")  # a UTF-8 byte order mark, as some editors write


def load_yaml_text(text: str, source: str, what: str) -> Any:
    """Parse YAML ``text`` with :class:`StrictLoader` within the limits above.

    Raises :class:`YamlInputError` with the author-facing message: a text over
    :data:`MAX_YAML_BYTES`, a syntax error, a key given twice, too many values or too deep.
    """
    size = utf8_size(text)
    if size > MAX_YAML_BYTES:
        raise YamlInputError(size_message(source, size, what))
    try:
        return yaml.load(text.removeprefix("\ufeff"), Loader=StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise YamlInputError(yaml_error_message(source, exc)) from None


def describe(value: object) -> str:
    """A short, human description of a YAML value, for "got ..." in messages."""
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"the text {shown!r}"
    if isinstance(value, Mapping):
        return "a mapping (key: value pairs)"
    if isinstance(value, list | tuple):
        return "a list"
    return f"a value of type {type(value).__name__}"


class DuplicateKeyError(yaml.constructor.ConstructorError):
    """A key given twice in one YAML mapping."""


class YamlLimitError(yaml.MarkedYAMLError):
    """A document past :data:`MAX_YAML_VALUES` or :data:`MAX_YAML_DEPTH`, or with an alias loop."""


class LimitedLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a document past the module's limits on values (aliases
    expanded) and nesting, before anything is built from it."""

    _depth = 0

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node:
        # PyYAML composes recursively: 500 unclosed "[" used to end in a RecursionError.
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                raise YamlLimitError(
                    None,
                    None,
                    f"values are nested more than {MAX_YAML_DEPTH} levels deep; check the brackets "
                    "and the indentation (a rubric or policy needs at most 7)",
                    self.peek_event().start_mark,
                )
            return super().compose_node(parent, index)  # type: ignore[no-any-return]
        finally:
            self._depth -= 1

    def get_single_node(self) -> yaml.Node | None:
        node = super().get_single_node()
        if node is not None:
            _check_expanded_size(node)
        return node  # type: ignore[no-any-return]


class StrictLoader(LimitedLoader):
    """:class:`LimitedLoader` that also refuses a key given twice in one mapping (YAML would
    silently keep the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[object] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
            except TypeError:
                continue  # unhashable key: the base class reports it
            if duplicate:
                raise DuplicateKeyError(
                    None,
                    None,
                    f"the key {key!r} appears twice in the same mapping; keep only one "
                    "(YAML would silently use the last)",
                    key_node.start_mark,
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _check_expanded_size(root: yaml.Node) -> None:
    """Refuse a document with more than :data:`MAX_YAML_VALUES` values once every alias is
    replaced by what it names, or with an alias inside the value it names.

    An alias is the same node object as its anchor, so the count of each node is computed once
    (depth first, without recursion) and reused: linear in the file, whatever the aliases.
    """
    values: dict[int, int] = {}  # id(node) -> its values, itself included, aliases expanded
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            open_nodes.discard(key)
            values[key] = 1 + sum(values[id(child)] for child in _children(node))
            if values[key] > MAX_YAML_VALUES:
                raise YamlLimitError(
                    None,
                    None,
                    f"the document has more than {MAX_YAML_VALUES:,d} values once its aliases (*name) "
                    "are expanded; a rubric or policy has a few hundred. Write the values out instead "
                    "of repeating aliases, or split the file",
                    node.start_mark,
                )
            continue
        if key in values:
            continue
        if key in open_nodes:
            raise YamlLimitError(
                None,
                None,
                "an alias (*name) is used inside the value it names, which would repeat forever; "
                "remove the alias or point it at another value",
                node.start_mark,
            )
        open_nodes.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(_children(node)) if id(child) not in values)


def yaml_error_message(source: str, exc: yaml.YAMLError) -> str:
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}"
        problem = exc.problem or "invalid YAML"
        if isinstance(exc, DuplicateKeyError | YamlLimitError):
            return f"{source}: {where}: {problem}"
        context = f" ({exc.context})" if exc.context else ""
        if "'\\t'" in problem:  # PyYAML shows a tab as '\t'
            fix = "indent with spaces, not tabs"
        else:
            fix = (
                "check the indentation there and quote any text that contains ': ' or starts "
                "with a special character"
            )
        return f"{source}: {where}: YAML syntax error: {problem}{context}; {fix}"
    return f"{source}: {TOP_LEVEL}: YAML syntax error: {exc}"


def basic_type_message(kind: str, field: str, value: object) -> str | None:
    """The wording for pydantic's plain type errors, or None for the schema's own cases."""
    got = describe(value)
    if kind == "string_type":
        if field == "version" and isinstance(value, int | float) and not isinstance(value, bool):
            return f'must be text, not {got}; quote it, e.g. version: "1.0"'
        return f"must be text, not {got}"
    if kind == "int_type":
        return f"must be a whole number, not {got}"
    if kind == "bool_type":
        return f"must be true or false, not {got}"
    if kind in {"model_type", "model_attributes_type", "dict_type"}:
        return f"must be a mapping (key: value pairs), not {got}"
    return None


M = TypeVar("M", bound=BaseModel)


class YamlSchemaError(Exception):
    """Every problem of a YAML file read into a pydantic schema, each ``file: where: what``.
    Internal to the io layer, as :class:`YamlInputError` is: each file kind raises its own error."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


def parse_yaml_model(text: str, source: str, model: type[M], *, what: str, keys: str, readme: str) -> M:
    """``text`` (the file ``source``) read strictly into ``model``: within the size limits, with
    :class:`StrictLoader` (a key given twice is an error), a mapping, and every key known, of
    its type and in its range. ``what`` names the file kind ("retention policy"), ``keys`` the
    required keys (for a file that is not a mapping), ``readme`` where the schema is written.

    Raises :class:`YamlSchemaError` listing every problem at once, each as ``"{source}:
    {dotted.path}: {message} (line N)"`` (the line where the YAML has it)."""
    try:
        data = load_yaml_text(text, source, what)
    except YamlInputError as exc:
        raise YamlSchemaError([str(exc)]) from None
    if not isinstance(data, dict):
        raise YamlSchemaError([f"{source}: {TOP_LEVEL}: must be a mapping with {keys}, not {describe(data)}"])
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        tree = compose_within_limits(text)
        problems = []
        for error in exc.errors(include_url=False):
            path = ".".join(str(part) for part in error["loc"]) or TOP_LEVEL
            line = line_of(tree, path)
            problems.append(f"{source}: {path}: {_schema_message(error, what, readme)}"
                            + ("" if line is None else f" (line {line})"))  # fmt: skip
        raise YamlSchemaError(problems) from None


def _schema_message(error: Mapping[str, Any], what: str, readme: str) -> str:
    field = str(error["loc"][-1]) if error["loc"] else ""
    if error["type"] == "missing":
        return "is required"
    if error["type"] == "extra_forbidden":
        return f"is not a key of a {what} (see {readme})"
    return basic_type_message(error["type"], field, error.get("input")) or str(error["msg"])
