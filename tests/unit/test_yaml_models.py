"""One strict parse of a small YAML file into its pydantic schema (io.yaml_support.parse_yaml_model),
shared by the retention policy and the certification rule: the same limits, the same wording,
every problem at once with the line where the file has it."""

from __future__ import annotations

import re

import pytest

from session_rater.errors import CertificationRuleError, RetentionPolicyError
from session_rater.io.calibration_files import parse_certification_rule
from session_rater.io.retention_files import parse_retention_policy
from session_rater.io.yaml_support import MAX_YAML_BYTES
from session_rater.settings import PROJECT_ROOT

RULE = (PROJECT_ROOT / "calibration" / "default.yaml").read_text(encoding="utf-8")
RETENTION = "id: standard\nversion: \"1\"\ntitle: Standard\nkeep_after_session:\n  years: 2\n"
PARSERS = [pytest.param(parse_certification_rule, CertificationRuleError, RULE, id="certification rule"),
           pytest.param(parse_retention_policy, RetentionPolicyError, RETENTION, id="retention policy")]


@pytest.mark.parametrize(("parse", "error", "valid"), PARSERS)
def test_a_valid_file_parses_and_a_key_given_twice_is_refused_with_its_line(parse, error, valid) -> None:  # type: ignore[no-untyped-def]
    assert parse(valid, "f.yaml").id
    with pytest.raises(error) as caught:
        parse(valid + "id: again\n", "f.yaml")
    assert caught.value.errors[0].startswith(f"f.yaml: line {valid.count(chr(10)) + 1}, column 1: the key 'id' appears twice")


@pytest.mark.parametrize(("parse", "error", "valid"), PARSERS)
def test_every_schema_problem_is_listed_with_its_path_and_line(parse, error, valid) -> None:  # type: ignore[no-untyped-def]
    text = "colour: red\n" + re.sub(r"(?m)^version: .*$", "version: 2", valid)
    with pytest.raises(error) as caught:
        parse(text, "f.yaml")
    errors = caught.value.errors
    assert len(errors) == 2, errors
    assert any(e.startswith("f.yaml: colour: is not a key of a ") and e.endswith("(line 1)") for e in errors), errors
    version_line = next(n for n, row in enumerate(text.splitlines(), start=1) if row.startswith("version:"))
    assert any(e.startswith("f.yaml: version: must be text, not the number 2") and e.endswith(f"(line {version_line})")
               for e in errors), errors


@pytest.mark.parametrize(("parse", "error", "valid"), PARSERS)
def test_the_size_limit_and_the_top_level_shape_are_the_same_for_every_file(parse, error, valid) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error, match=r"more than the limit of 1,048,576 bytes"):
        parse(valid + "#" + "x" * MAX_YAML_BYTES + "\n", "f.yaml")
    with pytest.raises(error, match=r"f.yaml: \(top level\): must be a mapping with id, version, title"):
        parse("- 1\n", "f.yaml")
