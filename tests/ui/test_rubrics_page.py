"""The Rubrics page (administration) with AppTest on the demo data.

Every test points the app at a private copy of the repository's rubrics folder, so the editor
never writes into the repository.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from session_rater.io.rubric_files import load_rubric_dir
from session_rater.domain.versions import bumped
from session_rater.io.files import write_new_file
from session_rater.usecases import rubric_versions
from session_rater.ui.pages import rubrics_admin

from .conftest import REPO, AppEnv, rendered

OpenPage = Callable[..., AppTest]
RUBRIC_ID = "think-first-video-monitoring"
SHIPPED = f"{RUBRIC_ID}.yaml"
TUTOR = "Sam Rowe"


def no_exception(at: AppTest) -> None:
    assert not at.exception, [e.message for e in at.exception]


@pytest.fixture
def rubrics_dir(app_env: AppEnv, tmp_path: Path) -> Path:
    directory = tmp_path / "rubrics"
    shutil.copytree(REPO / "rubrics", directory)
    app_env.set("SESSION_RATER_RUBRICS_DIR", directory)
    return directory


def snapshot(directory: Path) -> dict[str, bytes]:
    """Every file of the folder (hidden ones too) with its content."""
    return {p.name: p.read_bytes() for p in directory.iterdir()}


def shipped_text(directory: Path) -> str:
    return (directory / SHIPPED).read_text(encoding="utf-8")


def bump(text: str, version: str = "1.1") -> str:
    assert 'version: "1.0"' in text
    return text.replace('version: "1.0"', f'version: "{version}"', 1)


def errors(at: AppTest) -> str:
    return "\n".join(rendered(e.value) for e in at.main.error)


def save(at: AppTest, text: str) -> AppTest:
    at.text_area(key=rubrics_admin.EDITOR_KEY).set_value(text)
    return at.button[[b.label for b in at.button].index("Save as new version")].click().run()


def check(at: AppTest, text: str) -> AppTest:
    at.text_area(key=rubrics_admin.EDITOR_KEY).set_value(text)
    return at.button[[b.label for b in at.button].index("Check")].click().run()


# -- who may open it --------------------------------------------------------------------------


def test_a_tutor_is_refused_and_sees_no_rubric_or_editor(app_env: AppEnv, rubrics_dir: Path, open_page: OpenPage) -> None:
    at = open_page("rubrics", rater=app_env.person(TUTOR))
    no_exception(at)
    assert [t.value for t in at.title] == ["Rubrics"]
    assert any("only administrators may do this" in i.value.lower() for i in at.info)
    assert not at.dataframe and not at.text_area and not at.get("file_uploader")
    assert not [b for b in at.button if b.label in ("Check", "Save as new version")]


# -- the list ---------------------------------------------------------------------------------


def test_lists_the_shipped_rubric_its_version_file_items_and_ratings(
    app_env: AppEnv, rubrics_dir: Path, open_page: OpenPage
) -> None:
    at = open_page("rubrics")
    no_exception(at)
    [frame] = [d.value for d in at.dataframe]
    [row] = frame.to_dict("records")
    submitted = sum(1 for r in app_env.services.store.submitted_ratings() if r.rubric_version == "1.0")
    assert row["version"] == "1.0" and row["newest"].endswith("new ratings")
    assert row["file"] == SHIPPED and row["items"] == 23 and row["scale"] == "0–3" and row["unit"] == "per tutor"
    assert row["ratings"] == submitted > 0
    assert "Think First video monitoring (per tutor)" in [rendered(m.value) for m in at.markdown][0]
    assert any(RUBRIC_ID in rendered(c.value) and "version 1.0" in rendered(c.value) for c in at.caption)
    assert not at.main.error


def test_shows_a_versions_items_with_sections_and_descriptors(
    app_env: AppEnv, rubrics_dir: Path, open_page: OpenPage
) -> None:
    at = open_page("rubrics")
    no_exception(at)
    rubric = app_env.services.catalog.latest(RUBRIC_ID)
    assert [e.label.split(" · ")[0] for e in at.expander if " items" in e.label] == [s.title for s in rubric.sections]
    shown = "\n".join(m.value for m in at.markdown)
    item = next(i for i in rubric.items if i.descriptors)
    assert f"`{item.id}`" in shown
    value = min(item.descriptors)
    assert f"**{value} · {rubric.point(value).label}**" in shown
    assert "| 0 | Not demonstrated |" in shown  # the scale


def test_a_broken_file_is_listed_with_its_errors_and_lines(app_env: AppEnv, rubrics_dir: Path, open_page: OpenPage) -> None:
    (rubrics_dir / "broken.yaml").write_text(
        shipped_text(rubrics_dir).replace('version: "1.0"', 'version: "1.5"').replace("rated_unit: tutor", "rated_unit: team"),
        encoding="utf-8",
    )
    at = open_page("rubrics")
    no_exception(at)
    shown = errors(at)
    assert "broken.yaml is broken and is not used" in shown
    assert "`rated_unit`" in shown and "line " in shown and "not the text 'team'" in shown


def test_a_50_mb_file_in_the_rubrics_folder_is_listed_as_too_big_and_never_parsed(
    app_env: AppEnv, rubrics_dir: Path, open_page: OpenPage
) -> None:
    with (rubrics_dir / "huge.yaml").open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)  # sparse; parsing it used to take minutes and gigabytes
    at = open_page("rubrics")
    no_exception(at)
    shown = errors(at)
    assert "huge.yaml is broken and is not used" in shown
    assert "the rubric file is 52,428,800 bytes, more than the limit of 1,048,576 bytes" in shown
    assert rubric_versions.rubric_file_text(rubrics_dir / "huge.yaml") is None
    at = check(at, bump(shipped_text(rubrics_dir)))  # the versions declared by broken files are looked up
    no_exception(at)
    assert "Not valid" not in errors(at) and any(s.value.startswith("Valid") for s in at.success)


def test_a_rubric_with_many_problems_counts_them_all_and_lists_the_first_50(
    app_env: AppEnv, rubrics_dir: Path, open_page: OpenPage
) -> None:
    items = "".join(f"      - id: BAD {n}\n        title: Item {n}\n" for n in range(120))
    text = bump(shipped_text(rubrics_dir)).replace("    items:\n", "    items:\n" + items, 1)
    at = check(open_page("rubrics"), text)
    no_exception(at)
    shown = errors(at)
    assert "Not valid: 120 problem(s)" in shown
    assert "... and 70 more problems" in shown
    assert shown.count("must be lowercase letters") == 50


# -- adding a version -------------------------------------------------------------------------


def test_the_editor_starts_from_the_newest_versions_file(rubrics_dir: Path, open_page: OpenPage) -> None:
    at = open_page("rubrics")
    assert at.text_area(key=rubrics_admin.EDITOR_KEY).value == shipped_text(rubrics_dir)
    assert at.get("file_uploader")


def test_saving_a_bumped_version_writes_a_new_file_and_new_ratings_use_it(
    app_env: AppEnv, rubrics_dir: Path, open_page: OpenPage
) -> None:
    before = snapshot(rubrics_dir)
    made = [(r.id, r.rubric_version) for r in app_env.services.store.submitted_ratings()]
    at = open_page("rubrics")
    text = bump(shipped_text(rubrics_dir)).replace("Uses open questions", "Asks open questions")
    at = check(at, text)
    no_exception(at)
    assert not errors(at)
    assert any(f"writes it as `{RUBRIC_ID}-1.1.yaml`" in rendered(s.value) for s in at.success)
    assert rubrics_dir.joinpath(f"{RUBRIC_ID}-1.1.yaml").exists() is False  # Check writes nothing

    at = save(at, text)
    no_exception(at)
    assert not errors(at)
    assert any(f"Saved as `{RUBRIC_ID}-1.1.yaml`" in rendered(s.value) for s in at.success)
    after = snapshot(rubrics_dir)
    assert {k: v for k, v in after.items() if k in before} == before  # nothing changed
    assert set(after) - set(before) == {f"{RUBRIC_ID}-1.1.yaml"}  # and no temporary file left
    assert after[f"{RUBRIC_ID}-1.1.yaml"].decode() == text
    services = app_env.services
    assert services.catalog.latest(RUBRIC_ID).version == "1.1"
    assert [r.id for r in services.rubrics()] == [RUBRIC_ID] and services.rubrics()[0].version == "1.1"
    assert load_rubric_dir(rubrics_dir).latest(RUBRIC_ID).version == "1.1"
    # the ratings already made keep their version and its wording
    assert [(r.id, r.rubric_version) for r in services.store.submitted_ratings()] == made
    rating = services.store.submitted_ratings()[0]
    assert services.rubric_of(rating).version == "1.0"
    # the list shows both versions, the new one used for new ratings
    frames = [d.value for d in at.dataframe]
    rows = frames[0].to_dict("records")
    assert [(r["version"], r["file"], r["newest"] != "") for r in rows] == [
        ("1.1", f"{RUBRIC_ID}-1.1.yaml", True), ("1.0", SHIPPED, False)
    ]
    assert rows[0]["ratings"] == 0 and rows[1]["ratings"] == len(made)
    [logged] = [e for e in services.accounts_store.audit_log() if e.entity == "rubric"]
    assert logged.action == "add_version" and logged.after == {
        "rubric_id": RUBRIC_ID, "version": "1.1", "file": f"{RUBRIC_ID}-1.1.yaml"}


def test_an_uploaded_file_fills_the_editor_and_can_be_saved(app_env: AppEnv, rubrics_dir: Path, open_page: OpenPage) -> None:
    at = open_page("rubrics")
    text = bump(shipped_text(rubrics_dir), "2.0")
    at.get("file_uploader")[0].upload("mine.yml", text.replace("\n", "\r\n").encode("utf-8"), "application/x-yaml")
    at.run()
    no_exception(at)
    assert at.text_area(key=rubrics_admin.EDITOR_KEY).value == text
    at = at.button[[b.label for b in at.button].index("Save as new version")].click().run()
    no_exception(at)
    assert (rubrics_dir / f"{RUBRIC_ID}-2.0.yaml").read_text(encoding="utf-8") == text
    assert app_env.services.catalog.latest(RUBRIC_ID).version == "2.0"


def test_an_uploaded_file_over_the_size_limit_is_not_loaded_and_the_editor_keeps_its_text(
    rubrics_dir: Path, open_page: OpenPage
) -> None:
    at = open_page("rubrics")
    before = at.text_area(key=rubrics_admin.EDITOR_KEY).value
    at.get("file_uploader")[0].upload("big.yaml", b"#" * (1024 * 1024) + b"\n", "application/x-yaml")
    at.run()
    no_exception(at)
    assert at.text_area(key=rubrics_admin.EDITOR_KEY).value == before
    shown = errors(at)
    assert "Not loaded: 1 problem(s)" in shown
    assert "the rubric file is 1,048,577 bytes, more than the limit of 1,048,576 bytes" in shown


def test_malformed_yaml_says_where_and_writes_nothing(app_env: AppEnv, rubrics_dir: Path, open_page: OpenPage) -> None:
    before = snapshot(rubrics_dir)
    at = open_page("rubrics")
    broken = bump(shipped_text(rubrics_dir)).replace("rated_unit: tutor", "rated_unit: [tutor")
    at = save(at, broken)
    no_exception(at)
    shown = errors(at)
    assert "Not saved: 1 problem(s)" in shown and "nothing was written" in shown
    assert "YAML syntax error" in shown and "line " in shown
    assert snapshot(rubrics_dir) == before
    assert app_env.services.catalog.latest(RUBRIC_ID).version == "1.0"


def test_saving_the_same_version_is_refused_with_a_version_to_use(
    app_env: AppEnv, rubrics_dir: Path, open_page: OpenPage
) -> None:
    before = snapshot(rubrics_dir)
    at = open_page("rubrics")
    edited = shipped_text(rubrics_dir).replace("Uses open questions", "Asks open questions")
    at = save(at, edited)
    no_exception(at)
    shown = errors(at)
    assert "Not saved" in shown
    assert "'1.0' is the same as version '1.0'" in shown and 'version: "1.1"' in shown
    assert snapshot(rubrics_dir) == before
    # an older one is refused the same way, and Check says so before saving
    at = check(at, bump(shipped_text(rubrics_dir), "0.9"))
    assert any("is older than version '1.0'" in rendered(w.value) for w in at.warning)
    at = save(at, bump(shipped_text(rubrics_dir), "0.9"))
    assert "is older than version '1.0'" in errors(at)
    assert snapshot(rubrics_dir) == before


def test_schema_errors_are_listed_with_their_paths_and_nothing_is_written(
    app_env: AppEnv, rubrics_dir: Path, open_page: OpenPage
) -> None:
    before = snapshot(rubrics_dir)
    at = open_page("rubrics")
    text = bump(shipped_text(rubrics_dir)).replace("rated_unit: tutor", "rated_unit: team")
    text = text.replace("  - id: manual\n    title:", "  - id: manual\n    titel:", 1)
    assert text.count("titel:") == 1
    at = check(at, text)
    no_exception(at)
    shown = errors(at)
    assert "Not valid: 3 problem(s)" in shown  # rated_unit, the unknown key, the missing title
    assert "`rated_unit`" in shown and "`sections.0.titel`" in shown and "did you mean 'title'?" in shown
    titel_line = text.splitlines().index("    titel: " + text.split("    titel: ")[1].split("\n")[0]) + 1
    assert f"line {titel_line} " in shown
    at = save(at, text)
    assert "Not saved: 3 problem(s)" in errors(at)
    assert snapshot(rubrics_dir) == before
    assert app_env.services.catalog.latest(RUBRIC_ID).version == "1.0"


def test_an_existing_file_of_that_name_is_never_overwritten(app_env: AppEnv, rubrics_dir: Path, open_page: OpenPage) -> None:
    taken = rubrics_dir / f"{RUBRIC_ID}-1.1.yaml"
    taken.write_text("not: [a rubric\n", encoding="utf-8")
    before = snapshot(rubrics_dir)
    at = open_page("rubrics")
    at = save(at, bump(shipped_text(rubrics_dir)))
    no_exception(at)
    assert f"{RUBRIC_ID}-1.1.yaml already exists" in errors(at)
    assert snapshot(rubrics_dir) == before


def test_an_unwritable_folder_is_reported_and_nothing_changes(
    app_env: AppEnv, rubrics_dir: Path, open_page: OpenPage, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(directory: Path, file_name: str, text: str) -> Path:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(rubric_versions, "write_new_file", refuse)
    before = snapshot(rubrics_dir)
    at = open_page("rubrics")
    at = save(at, bump(shipped_text(rubrics_dir)))
    no_exception(at)
    shown = errors(at)
    assert "cannot write" in shown and "Permission denied" in shown and "writable" in shown
    assert snapshot(rubrics_dir) == before
    assert app_env.services.catalog.latest(RUBRIC_ID).version == "1.0"


def test_a_version_used_by_ratings_but_no_longer_on_file_cannot_be_reused(
    app_env: AppEnv, rubrics_dir: Path, open_page: OpenPage
) -> None:
    """The shipped 1.0 file is replaced by a 1.1 by hand: the ratings' 1.0 stays listed (from the
    database) and a new "1.0" is still refused."""
    text = shipped_text(rubrics_dir)
    (rubrics_dir / SHIPPED).unlink()
    (rubrics_dir / f"{RUBRIC_ID}-1.1.yaml").write_text(bump(text), encoding="utf-8")
    at = open_page("rubrics")
    no_exception(at)
    rows = at.dataframe[0].value.to_dict("records")
    assert [(r["version"], r["file"]) for r in rows] == [("1.1", f"{RUBRIC_ID}-1.1.yaml"), ("1.0", "—")]
    assert rows[1]["ratings"] > 0 and rows[1]["items"] == 23
    before = snapshot(rubrics_dir)
    at = save(at, text)
    assert "is older than version '1.1'" in errors(at)
    assert snapshot(rubrics_dir) == before


# -- helpers ----------------------------------------------------------------------------------


def test_write_new_file_refuses_an_existing_name(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("old\n", encoding="utf-8")
    with pytest.raises(FileExistsError):
        write_new_file(tmp_path, "a.yaml", "new")
    assert (tmp_path / "a.yaml").read_text(encoding="utf-8") == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["a.yaml"]
    write_new_file(tmp_path, "b.yaml", "new")
    assert (tmp_path / "b.yaml").read_text(encoding="utf-8") == "new\n"


@pytest.mark.parametrize(("version", "expected"), [("1.0", "1.1"), ("1.9", "1.10"), ("2", "3"), ("2.0-draft", "2.0-draft.1")])
def test_bumped_suggests_a_newer_version(version: str, expected: str) -> None:
    from session_rater.domain.versions import version_sort_key

    assert bumped(version) == expected
    assert version_sort_key(expected) > version_sort_key(version)


def test_files_changed_by_hand_are_flagged_and_read_again_on_request(
    app_env: AppEnv, rubrics_dir: Path, open_page: OpenPage
) -> None:
    at = open_page("rubrics")
    assert not at.main.warning
    (rubrics_dir / f"{RUBRIC_ID}-1.2.yaml").write_text(bump(shipped_text(rubrics_dir), "1.2"), encoding="utf-8")
    (rubrics_dir / "broken.yaml").write_text("id: [oops\n", encoding="utf-8")
    at.run()
    no_exception(at)
    assert any("changed since the app read them" in w.value for w in at.main.warning)
    assert app_env.services.catalog.latest(RUBRIC_ID).version == "1.0"  # nothing is read behind one's back
    at = at.button[[b.label for b in at.button].index("Read the files again")].click().run()
    no_exception(at)
    assert app_env.services.catalog.latest(RUBRIC_ID).version == "1.2"
    assert not any("changed since" in w.value for w in at.main.warning)
    assert "broken.yaml is broken and is not used" in errors(at) and "YAML syntax error" in errors(at)


def test_a_rubric_whose_files_are_all_gone_is_still_listed_with_its_ratings(
    app_env: AppEnv, rubrics_dir: Path, open_page: OpenPage
) -> None:
    text = shipped_text(rubrics_dir)
    (rubrics_dir / SHIPPED).unlink()
    (rubrics_dir / "other.yaml").write_text(text.replace(f"id: {RUBRIC_ID}", "id: other-checklist", 1), encoding="utf-8")
    at = open_page("rubrics")
    no_exception(at)
    ids = [rendered(m.value) for m in at.markdown if m.value.startswith("#### ")]
    assert ids == ["#### Think First video monitoring (per tutor)", f"#### `{RUBRIC_ID}`"]  # other-checklist first
    rows = at.dataframe[1].value.to_dict("records")
    assert [(r["version"], r["file"], r["newest"]) for r in rows] == [("1.0", "—", "")] and rows[0]["ratings"] > 0
    options = at.selectbox(key=rubrics_admin.SHOW_KEY).options
    assert len(options) == 2
