"""Rubric files: strict validation with readable errors, round trip, fingerprint, loading."""

from __future__ import annotations

import copy
import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from session_rater.domain.rubric import RatedUnit, Rubric
from session_rater.errors import NotFoundError, RubricError
from session_rater.io.rubric_files import (
    DEFAULT_NOT_APPLICABLE_LABEL,
    load_rubric,
    load_rubric_dir,
    parse_rubric,
    parse_rubric_text,
    rubric_fingerprint,
    rubric_to_dict,
    version_sort_key,
)
from session_rater.io.yaml_support import (
    MAX_YAML_BYTES,
    MAX_YAML_DEPTH,
    MAX_YAML_VALUES,
    YamlInputError,
    load_yaml_text,
)

REPO = Path(__file__).resolve().parents[2]
RUBRICS_DIR = REPO / "rubrics"
REPO_RUBRIC_FILES = sorted([*RUBRICS_DIR.glob("*.yaml"), *RUBRICS_DIR.glob("*.yml")])
SHIPPED = RUBRICS_DIR / "think-first-video-monitoring.yaml"
SOURCE = "think.yaml"

_VALID: dict[str, Any] = {
    "id": "test-rubric",
    "version": "1.0",
    "title": "Test rubric",
    "description": "A rubric for tests.",
    "rated_unit": "tutor",
    "scale": {
        "points": [
            {"value": 0, "label": "Not demonstrated", "descriptor": "Not seen."},
            {"value": 1, "label": "Partly", "descriptor": "Attempted."},
            {"value": 2, "label": "Competent", "descriptor": "Done well."},
            {"value": 3, "label": "Skilful", "descriptor": "Done very well throughout."},
        ]
    },
    "not_applicable": {"allowed": True, "label": "Not observed"},
    "sections": [
        {
            "id": "manual",
            "title": "Adherence to programme manual",
            "description": "Follows the manual.",
            "items": [
                {"id": "manual.order", "title": "Correct order", "guidance": "Check the order."},
                {"id": "manual.pacing", "title": "Pacing"},
            ],
        },
        {
            "id": "style",
            "title": "Treatment style",
            "items": [
                {
                    "id": "style.open-questions",
                    "title": "Open questions",
                    "descriptors": {0: "Only closed questions.", 3: "Open questions throughout."},
                }
            ],
        },
    ],
}


def valid() -> dict[str, Any]:
    """A fresh, valid rubric mapping that a test may change."""
    return copy.deepcopy(_VALID)


def errors_of(data: object) -> list[str]:
    with pytest.raises(RubricError) as caught:
        parse_rubric(data, SOURCE)
    assert caught.value.source == SOURCE
    return caught.value.errors


def only_error(data: object) -> str:
    errors = errors_of(data)
    assert len(errors) == 1, errors
    return errors[0]


def assert_reported(errors: list[str], path: str, *expected: str) -> None:
    """Some error names the file and the field path and contains every expected fragment."""
    prefix = f"{SOURCE}: {path}: "
    matching = [e for e in errors if e.startswith(prefix)]
    assert matching, f"no error for {path!r} in {errors}"
    assert any(all(fragment in e for fragment in expected) for e in matching), matching


def write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def dump(data: object) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


# --- valid files ----------------------------------------------------------------------------


def test_a_valid_mapping_becomes_the_domain_rubric() -> None:
    rubric = parse_rubric(valid(), SOURCE)

    assert rubric.key == ("test-rubric", "1.0")
    assert rubric.rated_unit is RatedUnit.TUTOR
    assert rubric.scale_values == (0, 1, 2, 3)
    assert rubric.allow_not_applicable is True
    assert rubric.not_applicable_label == "Not observed"
    assert [s.id for s in rubric.sections] == ["manual", "style"]
    assert [i.id for i in rubric.items] == ["manual.order", "manual.pacing", "style.open-questions"]
    assert rubric.sections[1].description == ""
    assert rubric.item("manual.pacing").guidance == ""
    assert rubric.descriptor("style.open-questions", 0) == "Only closed questions."
    assert rubric.descriptor("style.open-questions", 1) == "Attempted."


def test_not_applicable_label_defaults_when_left_out() -> None:
    data = valid()
    del data["not_applicable"]["label"]

    assert parse_rubric(data, SOURCE).not_applicable_label == DEFAULT_NOT_APPLICABLE_LABEL


@pytest.mark.parametrize("values", [[1, 2, 3, 4], [0, 1, 2, 3, 4, 5, 6], [-2, -1, 0, 1, 2]])
def test_a_scale_may_be_any_run_of_consecutive_whole_numbers(values: list[int]) -> None:
    data = valid()
    data["scale"]["points"] = [
        {"value": v, "label": f"L{v}", "descriptor": f"D{v}"} for v in values
    ]
    data["sections"][1]["items"][0]["descriptors"] = {values[0]: "Lowest."}

    assert parse_rubric(data, SOURCE).scale_values == tuple(values)


def test_section_and_item_ids_may_use_dots_and_hyphens() -> None:
    data = valid()
    data["sections"][0]["id"] = "group-work.delivery"
    data["sections"][0]["items"][0]["id"] = "delivery.co-working.2"

    rubric = parse_rubric(data, SOURCE)

    assert rubric.sections[0].items[0].id == "delivery.co-working.2"


def test_surrounding_whitespace_in_text_is_dropped() -> None:
    data = valid()
    data["title"] = "  Test rubric\n"

    assert parse_rubric(data, SOURCE).title == "Test rubric"


# --- one test per kind of bad file ----------------------------------------------------------


@pytest.mark.parametrize(
    ("where", "path", "allowed"),
    [
        ((), "colour", "id, version, title, description, rated_unit, scale"),
        (("scale",), "scale.colour", "points"),
        (("scale", "points", 1), "scale.points.1.colour", "value, label, descriptor"),
        (("not_applicable",), "not_applicable.colour", "allowed, label"),
        (("sections", 0), "sections.0.colour", "id, title, description, items"),
        (
            ("sections", 1, "items", 0),
            "sections.1.items.0.colour",
            "id, title, guidance, descriptors",
        ),
    ],
)
def test_unknown_key_at_any_level_lists_the_allowed_keys(
    where: tuple[str | int, ...], path: str, allowed: str
) -> None:
    data = valid()
    target: Any = data
    for step in where:
        target = target[step]
    target["colour"] = "red"

    error = only_error(data)

    assert error.startswith(f"{SOURCE}: {path}: unknown key 'colour'")
    assert f"allowed keys are: {allowed}" in error


def test_misspelt_key_suggests_the_right_one() -> None:
    data = valid()
    data["sections"][0]["titel"] = data["sections"][0].pop("title")

    errors = errors_of(data)

    assert_reported(errors, "sections.0.titel", "unknown key 'titel'", "did you mean 'title'?")
    assert_reported(errors, "sections.0.title", "required field is missing")


@pytest.mark.parametrize(
    ("where", "key", "expected"),
    [
        ((), "id", "lowercase letters, digits and single hyphens"),
        ((), "version", '"1.0"'),
        ((), "description", "text"),
        ((), "rated_unit", "'tutor'"),
        ((), "scale", "points"),
        ((), "not_applicable", "allowed: true or false"),
        ((), "sections", "a list of sections"),
        (("scale", "points", 2), "descriptor", "behaviour"),
        (("scale", "points", 0), "value", "a whole number"),
        (("not_applicable",), "allowed", "true or false"),
        (("sections", 0), "items", "a list of items"),
        (("sections", 0, "items", 1), "id", "manual.order"),
        (("sections", 0, "items", 1), "title", "title"),
    ],
)
def test_missing_required_key_says_it_is_missing_and_what_is_expected(
    where: tuple[str | int, ...], key: str, expected: str
) -> None:
    data = valid()
    target: Any = data
    for step in where:
        target = target[step]
    del target[key]
    path = ".".join([*(str(s) for s in where), key])

    assert_reported(errors_of(data), path, "required field is missing", expected)


@pytest.mark.parametrize(
    ("where", "key", "value", "path", "expected"),
    [
        ((), "title", ["a", "list"], "title", "must be text, not a list"),
        ((), "sections", {"id": "manual"}, "sections", "must be a list"),
        ((), "scale", [0, 1, 2], "scale", "must be a mapping"),
        (("not_applicable",), "allowed", "yes please", "not_applicable.allowed", "true or false"),
        (("scale", "points", 1), "value", "1", "scale.points.1.value", "whole number"),
        (("scale", "points", 1), "value", 1.5, "scale.points.1.value", "whole number"),
        (("scale", "points", 1), "value", True, "scale.points.1.value", "whole number"),
        (("sections", 0), "items", "manual.order", "sections.0.items", "must be a list"),
        (("sections", 0, "items", 0), "guidance", 42, "sections.0.items.0.guidance", "text"),
        (
            ("sections", 1, "items", 0),
            "descriptors",
            ["x"],
            "sections.1.items.0.descriptors",
            "mapping",
        ),
    ],
)
def test_wrong_type_says_what_type_is_expected(
    where: tuple[str | int, ...], key: str, value: object, path: str, expected: str
) -> None:
    data = valid()
    target: Any = data
    for step in where:
        target = target[step]
    target[key] = value

    assert_reported(errors_of(data), path, expected)


def test_unquoted_version_number_says_to_quote_it() -> None:
    data = valid()
    data["version"] = 1.0

    assert_reported(errors_of(data), "version", "must be text", 'quote it, e.g. version: "1.0"')


def test_rated_unit_must_be_tutor_or_session() -> None:
    data = valid()
    data["rated_unit"] = "group"

    assert_reported(errors_of(data), "rated_unit", "'tutor'", "'session'", "'group'")


@pytest.mark.parametrize("bad_id", ["Think First", "think_first", "think.first", "-think"])
def test_rubric_id_must_be_a_slug(bad_id: str) -> None:
    data = valid()
    data["id"] = bad_id

    assert_reported(errors_of(data), "id", "lowercase letters, digits and single hyphens", bad_id)


@pytest.mark.parametrize("bad_id", ["Manual.Order", "manual order", "manual..order", "manual."])
def test_item_id_must_be_lowercase_words_joined_by_dots_or_hyphens(bad_id: str) -> None:
    data = valid()
    data["sections"][0]["items"][1]["id"] = bad_id

    assert_reported(errors_of(data), "sections.0.items.1.id", "e.g. manual.order", bad_id)


def test_duplicate_section_ids_name_the_first_use() -> None:
    data = valid()
    data["sections"][1]["id"] = "manual"

    error = only_error(data)

    assert error == (
        f"{SOURCE}: sections.1.id: duplicate section id 'manual' (already used by sections.0); "
        "section ids must be unique"
    )


def test_duplicate_item_ids_are_rejected_across_sections() -> None:
    data = valid()
    data["sections"][1]["items"][0]["id"] = "manual.pacing"

    error = only_error(data)

    assert error.startswith(f"{SOURCE}: sections.1.items.0.id: duplicate item id 'manual.pacing'")
    assert "already used by sections.0.items.1" in error
    assert "unique across the whole rubric" in error


def test_duplicate_scale_values_are_rejected() -> None:
    data = valid()
    data["scale"]["points"][2]["value"] = 1

    errors = errors_of(data)

    assert_reported(
        errors, "scale.points.2.value", "duplicate scale value 1", "already used by scale.points.1"
    )


def test_section_with_no_items_is_rejected() -> None:
    data = valid()
    data["sections"][1]["items"] = []

    assert only_error(data) == (
        f"{SOURCE}: sections.1.items: a section needs at least one item; found 0"
    )


def test_rubric_with_no_sections_is_rejected() -> None:
    data = valid()
    data["sections"] = []

    assert only_error(data) == f"{SOURCE}: sections: a rubric needs at least one section; found 0"


def test_scale_with_fewer_than_two_points_is_rejected() -> None:
    data = valid()
    data["scale"]["points"] = data["scale"]["points"][:1]
    data["sections"][1]["items"][0].pop("descriptors")

    assert only_error(data) == f"{SOURCE}: scale.points: a scale needs at least two points; found 1"


def test_scale_with_a_gap_names_the_missing_point() -> None:
    data = valid()
    del data["scale"]["points"][2]  # values 0, 1, 3

    assert only_error(data) == (
        f"{SOURCE}: scale.points: scale values must be consecutive whole numbers; "
        "value 2 is missing (values are 0, 1, 3)"
    )


def test_scale_with_several_gaps_names_every_missing_point() -> None:
    data = valid()
    data["scale"]["points"] = [
        {"value": v, "label": f"L{v}", "descriptor": f"D{v}"} for v in (0, 3, 4, 6)
    ]

    assert_reported(errors_of(data), "scale.points", "values 1, 2, 5 are missing")


def test_scale_points_out_of_ascending_order_are_rejected() -> None:
    data = valid()
    points = data["scale"]["points"]
    points[1], points[2] = points[2], points[1]

    assert only_error(data) == (
        f"{SOURCE}: scale.points: points must be listed in ascending order of value; "
        "found 0, 2, 1, 3, expected 0, 1, 2, 3"
    )


def test_item_descriptor_for_a_point_not_on_the_scale_is_rejected() -> None:
    data = valid()
    data["sections"][1]["items"][0]["descriptors"][7] = "Off the scale."

    assert only_error(data) == (
        f"{SOURCE}: sections.1.items.0.descriptors.7: descriptor for point 7, "
        "which is not on the scale (points are 0, 1, 2, 3)"
    )


def test_item_descriptor_key_must_be_a_point_value() -> None:
    data = valid()
    data["sections"][1]["items"][0]["descriptors"]["high"] = "Very good."

    assert_reported(
        errors_of(data),
        "sections.1.items.0.descriptors.high",
        "descriptor keys must be scale point values",
        "'high'",
    )


@pytest.mark.parametrize(
    ("where", "key", "path"),
    [
        ((), "id", "id"),
        ((), "title", "title"),
        (("scale", "points", 1), "label", "scale.points.1.label"),
        (("scale", "points", 1), "descriptor", "scale.points.1.descriptor"),
        (("not_applicable",), "label", "not_applicable.label"),
        (("sections", 0), "id", "sections.0.id"),
        (("sections", 0), "title", "sections.0.title"),
        (("sections", 0, "items", 0), "id", "sections.0.items.0.id"),
        (("sections", 0, "items", 0), "title", "sections.0.items.0.title"),
        (("sections", 0, "items", 0), "guidance", "sections.0.items.0.guidance"),
        (("sections", 1, "items", 0, "descriptors"), 3, "sections.1.items.0.descriptors.3"),
    ],
)
@pytest.mark.parametrize("blank", ["", "   "])
def test_empty_text_is_rejected(
    where: tuple[str | int, ...], key: str | int, path: str, blank: str
) -> None:
    data = valid()
    target: Any = data
    for step in where:
        target = target[step]
    target[key] = blank

    assert_reported(errors_of(data), path, "must not be empty", "expected")


def test_top_level_that_is_not_a_mapping_is_rejected() -> None:
    assert only_error(["id", "version"]) == (
        f"{SOURCE}: (top level): must be a mapping (key: value pairs), not a list"
    )


def test_every_error_of_a_file_is_reported_at_once() -> None:
    data = valid()
    data["version"] = 2
    data["colour"] = "red"
    del data["title"]
    del data["scale"]["points"][2]
    data["sections"][0]["items"][0]["title"] = ""
    data["sections"][1]["id"] = "manual"
    data["sections"][1]["items"][0]["id"] = "manual.order"
    data["sections"][1]["items"][0]["descriptors"][9] = "Off the scale."

    errors = errors_of(data)

    assert_reported(errors, "version", "quote it")
    assert_reported(errors, "colour", "unknown key 'colour'")
    assert_reported(errors, "title", "required field is missing")
    assert_reported(errors, "scale.points", "value 2 is missing")
    assert_reported(errors, "sections.0.items.0.title", "must not be empty")
    assert_reported(errors, "sections.1.id", "duplicate section id 'manual'")
    assert_reported(errors, "sections.1.items.0.id", "duplicate item id 'manual.order'")
    assert_reported(errors, "sections.1.items.0.descriptors.9", "not on the scale")
    assert len(errors) == 8, errors


def test_the_error_message_lists_every_problem_with_the_file_name() -> None:
    data = valid()
    data["colour"] = "red"
    data["rated_unit"] = "group"

    with pytest.raises(RubricError) as caught:
        parse_rubric(data, SOURCE)

    message = str(caught.value)
    assert message.startswith(f"Rubric {SOURCE} is invalid (2 error(s))")
    assert f"{SOURCE}: colour:" in message and f"{SOURCE}: rated_unit:" in message


# --- round trip and fingerprint -------------------------------------------------------------


def test_rubric_to_dict_round_trips_through_parse_rubric() -> None:
    rubric = parse_rubric(valid(), SOURCE)

    assert parse_rubric(rubric_to_dict(rubric), "snapshot") == rubric


def test_rubric_to_dict_round_trips_through_json_and_yaml_text() -> None:
    rubric = load_rubric(SHIPPED)
    as_json = json.loads(json.dumps(rubric_to_dict(rubric)))
    as_yaml = yaml.safe_load(yaml.safe_dump(rubric_to_dict(rubric)))

    assert parse_rubric(as_json, "snapshot.json") == rubric
    assert parse_rubric(as_yaml, "snapshot.yaml") == rubric


def test_rubric_to_dict_leaves_out_empty_optional_fields() -> None:
    data = rubric_to_dict(parse_rubric(valid(), SOURCE))

    style = data["sections"][1]
    assert "description" not in style
    assert "guidance" not in data["sections"][0]["items"][1]
    assert "descriptors" not in data["sections"][0]["items"][0]
    assert style["items"][0]["descriptors"] == {
        0: "Only closed questions.",
        3: "Open questions throughout.",
    }


def test_fingerprint_is_a_stable_sha256_hex_digest() -> None:
    first = rubric_fingerprint(parse_rubric(valid(), SOURCE))

    assert re.fullmatch(r"[0-9a-f]{64}", first)
    assert rubric_fingerprint(parse_rubric(valid(), "other-name.yaml")) == first


@pytest.mark.parametrize(
    "edit",
    [
        lambda d: d["sections"][0]["items"][0].update(title="Correct order of exercises"),
        lambda d: d["scale"]["points"][2].update(descriptor="Done well, mostly."),
        lambda d: d["sections"][1]["items"][0]["descriptors"].update({1: "Some open questions."}),
        lambda d: d["not_applicable"].update(allowed=False),
    ],
    ids=["item title", "scale descriptor", "item descriptor added", "n/a not allowed"],
)
def test_fingerprint_changes_when_wording_changes(edit: Any) -> None:
    data = valid()
    before = rubric_fingerprint(parse_rubric(data, SOURCE))
    edit(data)

    assert rubric_fingerprint(parse_rubric(data, SOURCE)) != before


def test_fingerprint_ignores_yaml_layout_and_comments(tmp_path: Path) -> None:
    plain = write(tmp_path / "a.yaml", dump(valid()))
    commented = write(
        tmp_path / "b.yaml", "# a comment\n" + yaml.safe_dump(valid(), sort_keys=True, indent=4)
    )

    assert rubric_fingerprint(load_rubric(plain)) == rubric_fingerprint(load_rubric(commented))


# --- load_rubric: file-level problems -------------------------------------------------------


def test_load_rubric_reads_a_yaml_file(tmp_path: Path) -> None:
    path = write(tmp_path / "think.yaml", dump(valid()))

    assert load_rubric(path) == parse_rubric(valid(), SOURCE)


def test_load_rubric_names_the_file_in_field_errors(tmp_path: Path) -> None:
    data = valid()
    data["rated_unit"] = "group"
    path = write(tmp_path / "think.yaml", dump(data))

    with pytest.raises(RubricError) as caught:
        load_rubric(path)

    assert caught.value.source == "think.yaml"
    assert caught.value.errors[0].startswith("think.yaml: rated_unit: must be 'tutor'")


def test_missing_file_says_where_it_was_looked_for(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yaml"

    with pytest.raises(RubricError) as caught:
        load_rubric(path)

    assert caught.value.errors == [
        f"nowhere.yaml: (top level): file not found at {path}; check the path"
    ]


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n"])
def test_empty_file_says_what_a_rubric_file_must_contain(tmp_path: Path, text: str) -> None:
    path = write(tmp_path / "empty.yaml", text)

    with pytest.raises(RubricError) as caught:
        load_rubric(path)

    (error,) = caught.value.errors
    assert error.startswith("empty.yaml: (top level): the file is empty")
    assert "id, version, title" in error


@pytest.mark.parametrize(
    ("text", "got"), [("- id: x\n- id: y\n", "a list"), ("just some words\n", "the text")]
)
def test_top_level_of_a_file_must_be_a_mapping(tmp_path: Path, text: str, got: str) -> None:
    path = write(tmp_path / "flat.yaml", text)

    with pytest.raises(RubricError) as caught:
        load_rubric(path)

    (error,) = caught.value.errors
    assert error.startswith("flat.yaml: (top level): must be a mapping")
    assert got in error


def test_yaml_syntax_error_gives_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path / "broken.yaml", 'id: x\nversion: "1.0"\ntitle: Think First: video\n')

    with pytest.raises(RubricError) as caught:
        load_rubric(path)

    (error,) = caught.value.errors
    assert error.startswith("broken.yaml: line 3, column 19: YAML syntax error:")
    assert "quote any text that contains ': '" in error


def test_tab_indentation_says_to_use_spaces(tmp_path: Path) -> None:
    path = write(tmp_path / "tabs.yaml", "id: x\nscale:\n\tpoints: []\n")

    with pytest.raises(RubricError) as caught:
        load_rubric(path)

    (error,) = caught.value.errors
    assert error.startswith("tabs.yaml: line 3, column 1: YAML syntax error")
    assert "indent with spaces, not tabs" in error


def test_a_key_given_twice_in_one_mapping_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path / "twice.yaml", "id: one\ntitle: A\nid: two\n")

    with pytest.raises(RubricError) as caught:
        load_rubric(path)

    assert caught.value.errors == [
        "twice.yaml: line 3, column 1: the key 'id' appears twice in the same mapping; "
        "keep only one (YAML would silently use the last)"
    ]


def test_file_that_is_not_utf8_says_to_save_it_as_utf8(tmp_path: Path) -> None:
    path = write(tmp_path / "latin1.yaml", "id: x\ntitle: Caf\u00e9\n".encode("latin-1"))

    with pytest.raises(RubricError) as caught:
        load_rubric(path)

    assert caught.value.errors == [
        "latin1.yaml: line 2: the file is not UTF-8 text (byte 0xe9); "
        "save it as UTF-8 in your editor"
    ]


def test_utf8_file_with_a_byte_order_mark_loads(tmp_path: Path) -> None:
    path = write(tmp_path / "bom.yaml", b"\xef\xbb\xbf" + dump(valid()).encode("utf-8"))

    assert load_rubric(path).id == "test-rubric"


# --- limits: size, aliases, nesting, long error lists ------------------------------------------


def padded_to(size: int) -> str:
    """A valid rubric's YAML, padded with a comment to exactly ``size`` bytes of UTF-8."""
    text = dump(valid())
    pad = size - len(text.encode("utf-8")) - 2  # "#" and the newline
    return text + "#" + "x" * pad + "\n"


def test_a_rubric_file_of_exactly_the_size_limit_loads_and_one_byte_more_is_refused(tmp_path: Path) -> None:
    at_limit = write(tmp_path / "at.yaml", padded_to(MAX_YAML_BYTES))
    over = write(tmp_path / "over.yaml", padded_to(MAX_YAML_BYTES + 1))
    assert at_limit.stat().st_size == MAX_YAML_BYTES

    assert load_rubric(at_limit).id == "test-rubric"
    with pytest.raises(RubricError) as caught:
        load_rubric(over)

    assert caught.value.errors == [
        "over.yaml: (top level): the rubric file is 1,048,577 bytes, more than the limit of 1,048,576 bytes "
        "(1 MiB); a rubric file is normally a few kilobytes. Check that this is the right file; if it is, "
        "split it into several rubric files"
    ]


def test_rubric_text_typed_into_the_page_has_the_same_limit_in_bytes_of_utf8() -> None:
    assert parse_rubric_text(padded_to(MAX_YAML_BYTES), SOURCE).id == "test-rubric"
    with pytest.raises(RubricError, match=r"is 1,048,577 bytes, more than the limit of 1,048,576"):
        parse_rubric_text(padded_to(MAX_YAML_BYTES + 1), SOURCE)
    accented = padded_to(MAX_YAML_BYTES)[:-2] + "\u00e9\n"  # as many characters as the limit, one byte over
    with pytest.raises(RubricError, match=r"is 1,048,577 bytes"):
        parse_rubric_text(accented, SOURCE)


def test_a_50_mb_rubric_file_is_refused_from_its_size_without_being_read(tmp_path: Path) -> None:
    huge = tmp_path / "huge.yaml"
    with huge.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)  # sparse: 50 MB of nothing, no time to write
    started = time.perf_counter()

    with pytest.raises(RubricError, match=r"huge.yaml: \(top level\): the rubric file is 52,428,800 bytes"):
        load_rubric(huge)

    assert time.perf_counter() - started < 1.0  # it used to parse for more than 5 minutes


BILLION_LAUGHS = "\n".join(
    ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    + [f"{b}: &{b} [{', '.join([f'*{a}'] * 10)}]" for a, b in zip("abcdefgh", "bcdefghi", strict=True)]
    + ["sections: *i"]
)  # 10^9 "lol"s in 600 bytes (the classic XML attack, in YAML)


def test_a_billion_laughs_alias_bomb_is_refused_at_once() -> None:
    started = time.perf_counter()
    with pytest.raises(RubricError) as caught:
        parse_rubric_text(BILLION_LAUGHS, "laughs.yaml")
    assert time.perf_counter() - started < 1.0
    (error,) = caught.value.errors
    assert error.startswith("laughs.yaml: line ")
    assert "more than 100,000 values once its aliases (*name) are expanded" in error


def test_a_few_kilobytes_of_aliased_sections_and_items_are_refused_at_once() -> None:
    # 1,000 aliases of a section holding 1,000 aliases of an item: a million items to check,
    # which ran for more than two minutes before the limit.
    item = "i: &i {id: 'BAD ID', title: t}\n"
    section = "s: &s {id: s, title: t, items: [" + ", ".join(["*i"] * 1000) + "]}\n"
    text = item + section + "sections: [" + ", ".join(["*s"] * 1000) + "]\n"
    assert len(text) < 10_000
    started = time.perf_counter()
    with pytest.raises(RubricError, match=r"more than 100,000 values once its aliases"):
        parse_rubric_text(text, "aliases.yaml")
    assert time.perf_counter() - started < 1.0


def test_an_alias_inside_the_value_it_names_is_refused() -> None:
    with pytest.raises(RubricError) as caught:
        parse_rubric_text("sections: &loop [*loop]\n", "loop.yaml")
    assert caught.value.errors == [
        "loop.yaml: line 1, column 11: an alias (*name) is used inside the value it names, which would "
        "repeat forever; remove the alias or point it at another value"
    ]


def test_anchors_and_aliases_within_the_limits_still_work() -> None:
    text = dump(valid()).replace("title: Correct order", "title: &same Correct order")
    text = text.replace("title: Pacing", "title: *same")
    rubric = parse_rubric_text(text, SOURCE)
    assert rubric.item("manual.pacing").title == "Correct order"


def test_the_value_limit_counts_every_use_of_an_alias_exactly() -> None:
    # A list of ``copies`` aliases of a 999-value list: 1 + (copies + 1) * 1,000 values, topped up
    # with plain values to exactly the limit.
    copies = MAX_YAML_VALUES // 1000 - 2
    plain = MAX_YAML_VALUES - 1 - (copies + 1) * 1000
    shared = "- &a [" + ", ".join(["x"] * 999) + "]\n"
    at_limit = shared + "- *a\n" * copies + "- y\n" * plain
    assert len(load_yaml_text(at_limit, SOURCE, "rubric file")) == 1 + copies + plain
    with pytest.raises(YamlInputError, match=r"more than 100,000 values"):
        load_yaml_text(at_limit + "- y\n", SOURCE, "rubric file")


def test_values_nested_too_deeply_are_refused_with_a_message_not_a_crash() -> None:
    # PyYAML composes recursively: 500 "[" used to raise RecursionError out of the page.
    with pytest.raises(RubricError) as caught:
        parse_rubric_text("sections: " + "[" * 500, "deep.yaml")
    (error,) = caught.value.errors
    assert error.startswith("deep.yaml: line 1, column ")
    assert f"nested more than {MAX_YAML_DEPTH} levels deep" in error
    deep_enough = "x: " + "[" * (MAX_YAML_DEPTH - 1) + "]" * (MAX_YAML_DEPTH - 1) + "\n"
    assert load_yaml_text(deep_enough, SOURCE, "rubric file") is not None  # the mapping + 49 lists: 50 levels


def test_a_rubric_with_many_problems_lists_the_first_50_and_counts_the_rest() -> None:
    data = valid()
    data["sections"][0]["items"] = [{"id": f"BAD {n}", "title": f"Item {n}"} for n in range(120)]

    with pytest.raises(RubricError) as caught:
        parse_rubric(data, SOURCE)

    error = caught.value
    assert error.problem_count == 120
    assert len(error.errors) == 51
    assert error.errors[0].startswith(f"{SOURCE}: sections.0.items.0.id: must be lowercase letters")
    assert error.errors[-1] == "... and 70 more problems (fix these, then check the file again)"
    assert str(error).startswith(f"Rubric {SOURCE} is invalid (120 error(s)):")
    assert str(error).count("\n  - ") == 51


# --- load_rubric_dir ------------------------------------------------------------------------


def _versioned(version: str, rubric_id: str = "test-rubric") -> str:
    data = valid()
    data["id"] = rubric_id
    data["version"] = version
    return dump(data)


def test_load_rubric_dir_keeps_good_files_when_one_is_broken(tmp_path: Path) -> None:
    write(tmp_path / "a-good.yaml", _versioned("1.0"))
    write(tmp_path / "b-broken.yaml", "id: [unclosed\n")
    write(tmp_path / "c-good.yml", _versioned("1.0", rubric_id="other"))

    catalog = load_rubric_dir(tmp_path)

    assert set(catalog.rubrics) == {("test-rubric", "1.0"), ("other", "1.0")}
    assert set(catalog.errors) == {"b-broken.yaml"}
    assert catalog.errors["b-broken.yaml"].errors[0].startswith("b-broken.yaml: line 2")


def test_load_rubric_dir_ignores_other_files(tmp_path: Path) -> None:
    write(tmp_path / "rubric.yaml", _versioned("1.0"))
    write(tmp_path / "README.md", "# notes\n")
    write(tmp_path / "rubric.yaml.bak", "not: [valid\n")

    catalog = load_rubric_dir(tmp_path)

    assert list(catalog.rubrics) == [("test-rubric", "1.0")]
    assert catalog.errors == {}


def test_same_id_and_version_in_two_files_is_an_error_for_the_second(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", _versioned("1.0"))
    write(tmp_path / "b.yaml", _versioned("1.0"))

    catalog = load_rubric_dir(tmp_path)

    assert list(catalog.rubrics) == [("test-rubric", "1.0")]
    (error,) = catalog.errors["b.yaml"].errors
    assert error.startswith("b.yaml: version: rubric 'test-rubric' version '1.0'")
    assert "already defined by a.yaml" in error


def test_latest_picks_the_highest_version_in_natural_order(tmp_path: Path) -> None:
    for version in ["1.2", "1.10", "1.9"]:
        write(tmp_path / f"v{version}.yaml", _versioned(version))
    write(tmp_path / "other.yaml", _versioned("3.0", rubric_id="another"))

    catalog = load_rubric_dir(tmp_path)

    assert catalog.latest("test-rubric").version == "1.10"
    assert [r.key for r in catalog.all_latest()] == [("another", "3.0"), ("test-rubric", "1.10")]


def test_latest_of_an_unknown_rubric_says_which_are_loaded(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", _versioned("1.0"))

    with pytest.raises(NotFoundError, match="'nope'.*loaded: test-rubric"):
        load_rubric_dir(tmp_path).latest("nope")


def test_missing_rubric_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(RubricError, match="rubric directory not found"):
        load_rubric_dir(tmp_path / "absent")


def test_versions_sort_naturally() -> None:
    versions = ["2.0", "1.10", "1.2", "10.0", "1.9"]

    assert sorted(versions, key=version_sort_key) == ["1.2", "1.9", "1.10", "2.0", "10.0"]


# --- the rubrics shipped in the repository --------------------------------------------------


def test_the_repository_ships_at_least_one_rubric() -> None:
    assert SHIPPED in REPO_RUBRIC_FILES


@pytest.mark.parametrize("path", REPO_RUBRIC_FILES, ids=lambda p: p.name)
def test_every_rubric_file_in_the_repository_is_valid(path: Path) -> None:
    rubric = load_rubric(path)

    assert isinstance(rubric, Rubric)
    assert parse_rubric(rubric_to_dict(rubric), path.name) == rubric


def test_the_repository_rubric_directory_loads_without_errors() -> None:
    catalog = load_rubric_dir(RUBRICS_DIR)

    assert catalog.errors == {}
    assert catalog.latest("think-first-video-monitoring").version == "1.0"


def test_the_readme_example_is_a_valid_rubric() -> None:
    readme = (RUBRICS_DIR / "README.md").read_text(encoding="utf-8")
    (example,) = re.findall(r"```yaml\n(.*?)```", readme, flags=re.DOTALL)

    rubric = parse_rubric(yaml.safe_load(example), "README.md")

    assert rubric.descriptor("style.challenging", 0).startswith("Offence-supporting views")
    assert rubric.descriptor("style.challenging", 1) == rubric.point(1).descriptor


@pytest.fixture(scope="module")
def shipped() -> Rubric:
    return load_rubric(SHIPPED)


def test_shipped_rubric_is_think_first_version_1_0(shipped: Rubric) -> None:
    assert shipped.key == ("think-first-video-monitoring", "1.0")


def test_shipped_rubric_has_the_four_domains_of_the_video_monitoring_guidance(
    shipped: Rubric,
) -> None:
    titles = [s.title.lower() for s in shipped.sections]

    assert len(titles) == 4
    assert "programme manual" in titles[0]
    assert "treatment style" in titles[1]
    assert "group work" in titles[2]
    assert "responsivity" in titles[3] and "diversity" in titles[3]


def test_shipped_rubric_is_rated_per_tutor(shipped: Rubric) -> None:
    assert shipped.rated_unit is RatedUnit.TUTOR


def test_shipped_rubric_allows_not_applicable(shipped: Rubric) -> None:
    assert shipped.allow_not_applicable
    assert shipped.not_applicable_label == "Not applicable / not observed"


def test_shipped_rubric_has_an_anchored_zero_to_three_scale(shipped: Rubric) -> None:
    assert shipped.scale_values == (0, 1, 2, 3)
    assert all(len(point.descriptor) > 40 for point in shipped.scale)


def test_shipped_rubric_has_twenty_to_twenty_four_items_each_with_guidance(
    shipped: Rubric,
) -> None:
    assert 20 <= len(shipped.items) <= 24
    assert all(item.guidance.strip() for item in shipped.items)


def test_shipped_rubric_item_ids_start_with_their_section_id(shipped: Rubric) -> None:
    for section in shipped.sections:
        assert section.items
        assert all(item.id.startswith(f"{section.id}.") for item in section.items)


def test_shipped_rubric_gives_some_items_their_own_descriptors(shipped: Rubric) -> None:
    assert shipped.item("manual.order").descriptors.keys() == {0, 1, 2, 3}
    assert shipped.item("style.challenging").descriptors.keys() == {0, 1, 2, 3}
    assert shipped.descriptor("manual.aims", 2) == shipped.point(2).descriptor


def test_shipped_rubric_says_it_is_derived_and_not_the_official_form(shipped: Rubric) -> None:
    description = " ".join(shipped.description.split())

    assert "C1.1 to C1.4" in description
    assert "2002 follow-up audit" in description
    assert "General principles for video monitoring" in description
    assert "NOT the official monitoring form" in description
