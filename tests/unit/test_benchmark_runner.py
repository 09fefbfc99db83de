"""benchmarks/run_all.py fails loudly (issue 17): a benchmark that fails makes the run exit
non-zero and is named at the end, so a broken benchmark (bench_serving answering 403 to its own
viewer) is not lost among the figures of the others."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _run_all(monkeypatch: pytest.MonkeyPatch, folder: Path):  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("run_all_under_test", REPO / "benchmarks" / "run_all.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "HERE", folder)
    monkeypatch.setattr(module, "ORDER", ["ok", "broken"])
    return module


def test_a_failing_benchmark_makes_the_run_fail_and_is_named(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "bench_ok.py").write_text("print('figures')\n")
    (tmp_path / "bench_broken.py").write_text("import sys\nprint('403 Forbidden')\nsys.exit(3)\n")
    run_all = _run_all(monkeypatch, tmp_path)
    assert run_all.main([]) == 1
    out, err = capfd.readouterr()
    assert "figures" in out
    assert "1 benchmark(s) FAILED: broken (exit status 3)" in err
    assert run_all.main(["ok"]) == 0


def test_an_unknown_benchmark_name_is_refused_before_anything_runs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "bench_ok.py").write_text("print('figures')\n")
    run_all = _run_all(monkeypatch, tmp_path)
    assert run_all.main(["ok", "nonesuch"]) == 2
    out, err = capfd.readouterr()
    assert "no such benchmark: nonesuch" in err and "figures" not in out
