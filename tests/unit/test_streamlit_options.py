"""The Streamlit options the app depends on are set both where `streamlit run app.py` reads them
(.streamlit/config.toml) and on the command line `session-rater serve` builds, so the app behaves
the same however it is started (a missing one costs: no full GC per run keeps a score click
near 120 ms instead of 300 ms; see benchmarks/bench_score_click.py)."""

from __future__ import annotations

import tomllib

from session_rater.settings import PROJECT_ROOT

NEEDED = {
    ("runner", "postScriptGC"): False,
    ("server", "showEmailPrompt"): False,
    ("client", "showErrorDetails"): "none",
    ("client", "toolbarMode"): "viewer",
    ("browser", "gatherUsageStats"): False,
}


def test_config_toml_sets_every_option_the_app_needs() -> None:
    config = tomllib.loads((PROJECT_ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    for (section, option), value in NEEDED.items():
        assert config.get(section, {}).get(option) == value, f"{section}.{option}"


def test_serve_passes_the_same_options() -> None:
    source = (PROJECT_ROOT / "src" / "session_rater" / "cli" / "main.py").read_text(encoding="utf-8")
    for (section, option), value in NEEDED.items():
        text = str(value).lower() if isinstance(value, bool) else value
        assert f'"--{section}.{option}", "{text}"' in source, f"--{section}.{option}"
