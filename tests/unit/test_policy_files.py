"""Sampling policy files: strict validation with readable errors, round trip, loading a folder,
and a broken file never taking a working policy out of force."""

from __future__ import annotations

import copy
import re
import time
from pathlib import Path
from typing import Any, get_args

import pytest
import yaml

from session_rater.usecases.monitoring import resolve_policy
from session_rater.domain.sampling import CELL_KEYS, STRATA, Rule
from session_rater.errors import NotFoundError
from session_rater.io import policy_files
from session_rater.io.policy_files import (
    PolicyError,
    load_policy,
    load_policy_dir,
    parse_policy,
    parse_policy_text,
    policy_to_dict,
    read_policy_text,
)
from session_rater.io.yaml_support import MAX_YAML_BYTES

REPO = Path(__file__).resolve().parents[2]
POLICIES_DIR = REPO / "policies"
SHIPPED = sorted([*POLICIES_DIR.glob("*.yaml"), *POLICIES_DIR.glob("*.yml")])
SOURCE = "default.yaml"
VALID: dict[str, Any] = yaml.safe_load((POLICIES_DIR / "default.yaml").read_text())


def _errors(data: object) -> list[str]:
    with pytest.raises(PolicyError) as info:
        parse_policy(data, SOURCE)
    return info.value.errors


def _with(path: str, value: object) -> dict[str, Any]:
    """VALID with the dotted ``path`` set to ``value`` (``...`` deletes it)."""
    data = copy.deepcopy(VALID)
    *parents, last = path.split(".")
    node = data
    for part in parents:
        node = node[part]
    if value is ...:
        del node[last]
    else:
        node[last] = value
    return data


# --------------------------------------------------------------------------------------------
# The shipped policies
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_policy_file_loads(path: Path) -> None:
    assert load_policy(path).name


def test_the_default_policy_holds_the_inspectorates_targets() -> None:
    # HMIP 2002 follow-up audit of Think First: 10% monitored (section B), one in seven catch-up
    # sessions (B2.3), ten sessions per area rated by the external assessors.
    policy = load_policy(POLICIES_DIR / "default.yaml")
    assert (policy.name, policy.version) == ("default", "1.0")
    assert policy.monitoring is not None and policy.monitoring.percent == 10
    assert policy.monitoring.due_days_after_session == 28
    assert policy.catch_up is not None and policy.catch_up.one_in == 7
    assert policy.external_audit is not None and policy.external_audit.sessions_per_area == 10
    assert policy.external_audit.stratify_by == ("site", "tutor")
    assert policy.double_rating is not None and policy.double_rating.percent == 20


def test_a_policy_survives_the_round_trip_through_its_stored_snapshot() -> None:
    policy = load_policy(POLICIES_DIR / "default.yaml")
    snapshot = policy_to_dict(policy)
    assert parse_policy(snapshot, "snapshot") == policy
    assert parse_policy(yaml.safe_load(yaml.safe_dump(snapshot)), "snapshot") == policy


def test_a_rule_given_empty_applies_every_default() -> None:
    policy = parse_policy({"name": "audit-only", "version": "1", "title": "Audit", "external_audit": {}}, SOURCE)
    assert policy.rules == (Rule.EXTERNAL_AUDIT,)
    assert policy.external_audit is not None and policy.external_audit.sessions_per_area == 10


# --------------------------------------------------------------------------------------------
# Bad policies: one clear message each, with the file and the path of the field
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (_with("colour", "red"), "default.yaml: colour: unknown key 'colour'; allowed keys are: name, version"),
        (_with("monitoring.percnt", 10), "monitoring.percnt: unknown key 'percnt' (did you mean 'percent'?)"),
        (_with("monitoring.percent", 120), "monitoring.percent: must be a percentage above 0 up to 100, not the number 120"),
        (_with("monitoring.percent", -5), "monitoring.percent: must be a percentage above 0 up to 100, not the number -5"),
        (_with("monitoring.percent", 0), "monitoring.percent: must be a percentage above 0 up to 100, not the number 0"),
        (_with("monitoring.percent", "ten"), "monitoring.percent: must be a number, not the text 'ten'"),
        (_with("double_rating.percent", 100.5), "double_rating.percent: must be a percentage from 0 up to 100, not the number 100.5"),
        (_with("external_audit.stratify_by", ["site", "colour"]),
         "external_audit.stratify_by.1: unknown stratum 'colour'; allowed strata are: area, site, programme, group, tutor, session_number"),
        (_with("external_audit.stratify_by", ["site", "tutr"]), "unknown stratum 'tutr' (did you mean 'tutor'?)"),
        (_with("external_audit.stratify_by", ["site", "site"]),
         "external_audit.stratify_by.1: 'site' is already listed (as external_audit.stratify_by.0)"),
        (_with("external_audit.stratify_by", "site"), "external_audit.stratify_by: must be a list (e.g. [site, tutor]), not the text 'site'"),
        (_with("external_audit.sessions_per_area", -10),
         "external_audit.sessions_per_area: must be a whole number of at least 1, not the number -10"),
        (_with("external_audit.sessions_per_area", 2.5), "external_audit.sessions_per_area: must be a whole number, not the number 2.5"),
        (_with("catch_up.one_in", 0), "catch_up.one_in: must be a whole number of at least 1, not the number 0"),
        (_with("catch_up.per", ["region"]), "catch_up.per.0: unknown grouping 'region'; allowed groupings are: area, site, programme, group"),
        (_with("monitoring.due_days_after_session", -1), "monitoring.due_days_after_session: must be a whole number of at least 0"),
        (_with("monitoring.include_catch_up", "yes"), "monitoring.include_catch_up: must be true or false, not the text 'yes'"),
        (_with("monitoring", [10]), "monitoring: must be a mapping (key: value pairs), not a list"),
        (_with("double_rating.of", ["monitoring", "audit"]), "double_rating.of.1: unknown rule 'audit'"),
        (_with("version", 1.0), 'version: must be text, not the number 1.0; quote it, e.g. version: "1.0"'),
        (_with("name", "Default Policy"), "name: must be lowercase letters, digits and single hyphens"),
        (_with("name", ...), "default.yaml: name: required field is missing; expected lowercase letters"),
        (_with("title", "  "), "title: must not be empty"),
    ],
)
def test_a_bad_policy_is_rejected_with_a_clear_message(data: dict[str, Any], expected: str) -> None:
    errors = _errors(data)
    assert len(errors) == 1, errors
    assert expected in errors[0]
    assert errors[0].startswith(f"{SOURCE}: ")


def test_a_policy_with_no_rule_is_rejected() -> None:
    data = {k: v for k, v in VALID.items() if k not in {"monitoring", "catch_up", "external_audit", "double_rating"}}
    assert _errors(data) == [
        "default.yaml: (top level): a policy needs at least one rule: monitoring, catch_up, external_audit"
    ]


def test_double_rating_may_only_name_rules_the_policy_applies() -> None:
    assert _errors(_with("catch_up", ...)) == [
        "default.yaml: double_rating.of.1: rule 'catch_up' is not in this policy; add a catch_up: section or remove it here"
    ]


def test_every_error_of_a_file_is_reported_at_once_in_the_order_of_the_file() -> None:
    data = _with("monitoring.percent", 120)
    data["external_audit"]["stratify_by"] = ["site", "colour"]
    data["external_audit"]["sessions_per_area"] = -3
    data["version"] = 2
    errors = _errors(data)
    assert [e.split(": ")[1] for e in errors] == [
        "version",
        "monitoring.percent",
        "external_audit.sessions_per_area",
        "external_audit.stratify_by.1",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "default.yaml: (top level): the file is empty"),
        ("- name: default\n", "default.yaml: (top level): must be a mapping"),
        ("name: default\nname: other\n", "default.yaml: line 2, column 1: the key 'name' appears twice"),
        ("name: default\n  version: [\n", "default.yaml: line 2, column 10: YAML syntax error"),
    ],
)
def test_unreadable_yaml_is_reported_with_its_line(text: str, expected: str) -> None:
    with pytest.raises(PolicyError) as info:
        parse_policy_text(text, SOURCE)
    assert info.value.errors[0].startswith(expected), info.value.errors


def _padded_to(size: int) -> str:
    """The shipped default policy, padded with a comment to exactly ``size`` bytes of UTF-8."""
    text = (POLICIES_DIR / "default.yaml").read_text(encoding="utf-8")
    return text + "#" + "x" * (size - len(text.encode("utf-8")) - 2) + "\n"


def test_a_policy_file_of_exactly_the_size_limit_loads_and_one_byte_more_is_refused(tmp_path: Path) -> None:
    (tmp_path / "at.yaml").write_text(_padded_to(MAX_YAML_BYTES), encoding="utf-8")
    (tmp_path / "over.yaml").write_text(_padded_to(MAX_YAML_BYTES + 1), encoding="utf-8")

    assert load_policy(tmp_path / "at.yaml").name == VALID["name"]
    with pytest.raises(PolicyError) as info:
        load_policy(tmp_path / "over.yaml")
    assert info.value.errors == [
        "over.yaml: (top level): the policy file is 1,048,577 bytes, more than the limit of 1,048,576 bytes "
        "(1 MiB); a policy file is normally a few kilobytes. Check that this is the right file; if it is, "
        "split it into several policy files"
    ]
    catalog = load_policy_dir(tmp_path)  # the folder still loads; the big file is reported
    assert set(catalog.errors) == {"over.yaml"} and catalog.origins[(VALID["name"], VALID["version"])] == "at.yaml"


def test_policy_text_typed_into_the_sampling_page_has_the_same_limit() -> None:
    assert parse_policy_text(_padded_to(MAX_YAML_BYTES), SOURCE).name == VALID["name"]
    with pytest.raises(PolicyError, match=r"the policy file is 1,048,577 bytes"):
        parse_policy_text(_padded_to(MAX_YAML_BYTES + 1), SOURCE)


def test_a_50_mb_policy_file_is_refused_from_its_size_and_cannot_be_opened_in_the_editor(tmp_path: Path) -> None:
    huge = tmp_path / "huge.yaml"
    with huge.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    started = time.perf_counter()
    for read in (load_policy, read_policy_text):
        with pytest.raises(PolicyError, match=r"the policy file is 52,428,800 bytes"):
            read(huge)
    assert time.perf_counter() - started < 1.0


def test_an_alias_bomb_in_policy_text_is_refused_at_once() -> None:
    text = "x: &x [" + ", ".join(["site"] * 400) + "]\ncatch_up: {one_in: 2, per: [" + ", ".join(["*x"] * 400) + "]}\n"
    started = time.perf_counter()
    with pytest.raises(PolicyError, match=r"more than 100,000 values once its aliases \(\*name\) are expanded"):
        parse_policy_text(text, SOURCE)
    assert time.perf_counter() - started < 1.0


def test_the_schema_offers_exactly_the_strata_groupings_and_rules_the_sampler_knows() -> None:
    assert get_args(policy_files.Stratum) == STRATA
    assert get_args(policy_files.CellKey) == CELL_KEYS
    assert get_args(policy_files.RuleName) == tuple(r.value for r in Rule)


def test_every_key_of_the_schema_is_documented_in_the_policies_readme() -> None:
    readme = (POLICIES_DIR / "README.md").read_text()
    models = [policy_files._PolicyModel, policy_files._MonitoringModel, policy_files._CatchUpModel,
              policy_files._ExternalAuditModel, policy_files._DoubleRatingModel]  # fmt: skip
    for model in models:
        for key in model.model_fields:
            assert re.search(rf"\| `{key}` \|", readme), f"{model.__name__}.{key} is not in policies/README.md"


# --------------------------------------------------------------------------------------------
# A folder of policies, and the previous version staying in force
# --------------------------------------------------------------------------------------------


def _write(folder: Path, name: str, data: object) -> None:
    (folder / name).write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False))


def test_a_broken_file_is_reported_and_the_others_still_load(tmp_path: Path) -> None:
    _write(tmp_path, "default.yaml", VALID)
    _write(tmp_path, "audit.yaml", {**_with("external_audit.stratify_by", ["colour"]), "name": "audit"})
    (tmp_path / "notes.txt").write_text("not a policy")
    catalog = load_policy_dir(tmp_path)
    assert catalog.names() == ["default"]
    assert list(catalog.errors) == ["audit.yaml"]
    assert "audit.yaml: external_audit.stratify_by.0: unknown stratum 'colour'" in catalog.errors["audit.yaml"].errors[0]


def test_the_newest_valid_version_applies_and_a_duplicate_version_is_an_error(tmp_path: Path) -> None:
    _write(tmp_path, "a-default.yaml", VALID)
    _write(tmp_path, "b-default-1.10.yaml", _with("version", "1.10"))
    _write(tmp_path, "c-copy.yaml", VALID)
    catalog = load_policy_dir(tmp_path)
    assert catalog.latest("default").version == "1.10"
    assert [p.version for p in catalog.versions("default")] == ["1.0", "1.10"]
    assert "already defined by a-default.yaml" in catalog.errors["c-copy.yaml"].errors[0]


def test_after_a_broken_edit_the_previous_version_stays_in_force_until_the_file_is_fixed(tmp_path: Path) -> None:
    _write(tmp_path, "default.yaml", VALID)
    in_force = load_policy_dir(tmp_path)
    assert in_force.latest("default").version == "1.0"

    broken = _with("version", "1.1")
    broken["monitoring"]["percent"] = 120
    _write(tmp_path, "default.yaml", broken)
    reloaded = load_policy_dir(tmp_path, previous=in_force)
    assert reloaded.latest("default") == in_force.latest("default")
    assert reloaded.kept == {("default", "1.0")}
    assert "monitoring.percent" in reloaded.errors["default.yaml"].errors[0]

    _write(tmp_path, "default.yaml", {**broken, "monitoring": {**broken["monitoring"], "percent": 15}})
    fixed = load_policy_dir(tmp_path, previous=reloaded)
    assert fixed.latest("default").version == "1.1" and fixed.kept == frozenset() and not fixed.errors


def test_without_a_previous_catalog_a_broken_only_version_is_not_loaded(tmp_path: Path) -> None:
    _write(tmp_path, "default.yaml", _with("monitoring.percent", 120))
    catalog = load_policy_dir(tmp_path)
    with pytest.raises(NotFoundError, match="broken file"):
        catalog.latest("default")


def test_the_command_line_falls_back_on_the_version_stored_with_the_last_draw(tmp_path: Path) -> None:
    _write(tmp_path, "default.yaml", _with("monitoring.percent", 120))
    catalog = load_policy_dir(tmp_path)
    stored = policy_to_dict(load_policy(POLICIES_DIR / "default.yaml"))
    policy, warnings = resolve_policy(catalog, "default", stored)
    assert policy.version == "1.0" and policy.monitoring is not None and policy.monitoring.percent == 10
    assert any("monitoring.percent" in w for w in warnings)
    assert warnings[-1].startswith("policy 'default' did not load from the folder; the version in force stays in force")
    with pytest.raises(PolicyError, match="no earlier draw to fall back on"):
        resolve_policy(catalog, "default", None)


def test_a_missing_folder_is_explained(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="SESSION_RATER_POLICIES_DIR"):
        load_policy_dir(tmp_path / "nowhere")


# --------------------------------------------------------------------------------------------
# validity_rate: validity sessions per monitoring assignment
# --------------------------------------------------------------------------------------------


def test_the_validity_rate_is_optional_at_1_in_10_and_0_turns_validity_sessions_off() -> None:
    assert parse_policy(_with("validity_rate", ...), SOURCE).validity_rate == 0.1
    assert parse_policy(_with("validity_rate", 0), SOURCE).validity_rate == 0
    assert parse_policy(_with("validity_rate", 1), SOURCE).validity_rate == 1
    policy = parse_policy(_with("validity_rate", 0.25), SOURCE)
    assert policy.validity_rate == 0.25 and parse_policy(policy_to_dict(policy), "snapshot") == policy


@pytest.mark.parametrize("value", [10, -0.1, 1.5, "10%", "0.1", True, None])
def test_a_malformed_validity_rate_says_on_which_line_and_what_to_write(value: object) -> None:
    text = (POLICIES_DIR / "default.yaml").read_text(encoding="utf-8")
    line = next(n for n, row in enumerate(text.splitlines(), start=1) if row.startswith("validity_rate:"))
    bad = re.sub(r"(?m)^validity_rate: .*$", "validity_rate: " + yaml.safe_dump(value).split("\n")[0], text)
    with pytest.raises(PolicyError) as info:
        parse_policy_text(bad, SOURCE)
    [error] = info.value.errors
    assert error.startswith(f"{SOURCE}: validity_rate: must be a share from 0 to 1 of a treatment manager's "
                            "monitoring assignments, written as a decimal: validity_rate: 0.1 adds about 1")
    assert "validity_rate: 0 adds none" in error and error.endswith(f"(line {line})")


def test_every_error_of_policy_text_ends_with_its_line() -> None:
    text = 'name: p\nversion: "1"\ntitle: P\nmonitoring:\n  percent: 120\n'
    with pytest.raises(PolicyError) as info:
        parse_policy_text(text, SOURCE)
    assert info.value.errors == [
        f"{SOURCE}: monitoring.percent: must be a percentage above 0 up to 100, not the number 120 (line 5)"
    ]
