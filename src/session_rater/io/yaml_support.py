"""What the YAML data files (rubrics, sampling policies) share: a strict loader, readable
YAML syntax errors, and the author-facing wording of the basic type errors of their schemas."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

TOP_LEVEL = "(top level)"


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


class StrictLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a key given twice in one mapping (it would silently win)."""

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


def yaml_error_message(source: str, exc: yaml.YAMLError) -> str:
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}"
        problem = exc.problem or "invalid YAML"
        if isinstance(exc, DuplicateKeyError):
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
