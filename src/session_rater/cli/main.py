"""``session-rater``: the command line for set-up and batch work.

    session-rater serve [--port N] [--address A] [--headless]   start the app (migrates, loads demo data on first start)
    session-rater worker [--poll SECONDS]         run conversion jobs here until stopped (any machine)
    session-rater backup OUTPUT                   a consistent backup of the database, while the app runs
    session-rater restore FILE [--replace]        restore a backup into an empty database
    session-rater retention [--dry-run] [--as-of DATE]   delete recordings' files past their retention period
    session-rater hold RECORDING --kind K --reason TEXT | --release HOLD | --list   keep a recording
    session-rater demo                            load or reset the demo data
    session-rater export [--output FILE] [--dictionary]   submitted scores as long-format CSV (or the data dictionary)
    session-rater check-rubrics [FILE ...]        validate rubric files (default: every file in the rubrics folder)
    session-rater migrate                         bring the database schema up to date
    session-rater sample --policy NAME [--seed N] [--dry-run]   draw the monitoring and audit samples
    session-rater ingest PATH... [--manifest CSV] [--no-wait]   add recordings (probe, hash, convert)
    session-rater jobs [--cancel ID] [--run]      conversion jobs: list, cancel, run
    session-rater add-person --name N --email E --role R [--role R] [--password-stdin | --no-password]
    session-rater set-password EMAIL [--password-stdin]   a new password (an administrator locked out)
    session-rater people                          list everyone, their emails and roles
    session-rater analyse SCORES.csv [--benchmark-role ROLE] [--format text|json] [--skip-bad-rows]
    session-rater audit-score MARKS.csv [--instrument FILE] [--mandatory ID,...] [--format text|json]
    session-rater calibration [--format text|json]   each rater's calibration status against the master scores

Expected failures print a message that says what to fix and exit with status 1.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from session_rater.cli import analyse as cli_analyse
from session_rater.cli import audit as cli_audit
from session_rater.cli import backup as cli_backup
from session_rater.cli import calibration as cli_calibration
from session_rater.cli import ingest as cli_ingest
from session_rater.cli import people as cli_people
from session_rater.cli import retention as cli_retention
from session_rater.cli import sample as cli_sample
from session_rater.cli import worker as cli_worker
from session_rater.errors import RubricError, SessionRaterError
from session_rater.settings import PROJECT_ROOT, load_settings


def _cmd_serve(args: argparse.Namespace) -> int:
    from session_rater.usecases.instance import SEVERAL_PROCESSES_HELP, embedded_database_in_use
    from session_rater.usecases.services import open_services

    settings = load_settings()
    holder = embedded_database_in_use(settings)
    if holder is not None:
        print(f"error: another app process ({holder}) is already serving this database. {SEVERAL_PROCESSES_HELP}",
              file=sys.stderr)  # fmt: skip
        return 1
    services = open_services(settings)  # migrate and load the demo before the browser opens
    # Every app process of the installation signs Streamlit's cookies alike (a browser moved
    # to another process by the proxy keeps working); the key is never put on the command line.
    os.environ.setdefault("STREAMLIT_SERVER_COOKIE_SECRET", services.streamlit_cookie_secret())
    services.close()
    command = [
        sys.executable, "-m", "streamlit", "run", str(PROJECT_ROOT / "app.py"),
        "--server.port", str(args.port),
        *(["--server.address", args.address] if args.address else []),
        "--server.headless", "true" if args.headless else "false",
        "--browser.gatherUsageStats", "false",
        "--server.showEmailPrompt", "false",  # Streamlit's first-run email question would stop the start
        "--runner.postScriptGC", "false",  # a full GC after each run delayed every score click (config.toml)
        "--client.showErrorDetails", "none",  # as .streamlit/config.toml: no tracebacks for users
        "--client.toolbarMode", "viewer",
        "--theme.primaryColor", "#b3261e",  # contrast 6.7:1 (Streamlit's default red is 3.3:1)
    ]
    os.execv(sys.executable, command)
    return 0  # pragma: no cover


def _cmd_demo(args: argparse.Namespace) -> int:
    from session_rater.usecases.demo import reset_demo
    from session_rater.usecases.services import open_services

    services = open_services(load_demo=False)
    summary = reset_demo(services)
    print(
        f"Demo data loaded: {summary.recordings} sessions, {summary.people} people, {summary.ratings} ratings "
        f"(database: {services.settings.database_url.split('@')[-1]})."
    )
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from session_rater.usecases.services import open_services

    if args.dictionary:
        from session_rater.usecases.data_dictionary import dictionary_csv

        data = dictionary_csv().decode("utf-8")
        if args.output in (None, "-"):
            sys.stdout.write(data)
        else:
            Path(args.output).write_text(data, encoding="utf-8")
            print(f"Wrote the data dictionary to {args.output}", file=sys.stderr)
        return 0
    services = open_services(load_demo=False)
    if args.output in (None, "-"):
        services.export_csv(sys.stdout)
        return 0
    out = Path(args.output)
    tmp = out.with_name(out.name + ".part")
    with tmp.open("w", newline="", encoding="utf-8") as handle:
        n = services.export_csv(handle)
    tmp.replace(out)
    print(f"Wrote {n} scores to {out}", file=sys.stderr)
    return 0


def _cmd_check_rubrics(args: argparse.Namespace) -> int:
    from session_rater.usecases.rubric_versions import check_rubric_file

    files = [Path(f) for f in args.files] or sorted(
        p for p in load_settings().rubrics_dir.glob("*") if p.suffix in {".yaml", ".yml"}
    )
    if not files:
        print("No rubric files to check.", file=sys.stderr)
        return 1
    failed = 0
    for path in files:
        try:
            rubric = check_rubric_file(path)
        except RubricError as exc:
            failed += 1
            print(exc, file=sys.stderr)
        else:
            print(f"ok  {path}: {rubric.id} v{rubric.version}, {len(rubric.items)} items")
    return 1 if failed else 0


def _cmd_migrate(args: argparse.Namespace) -> int:
    from session_rater.usecases.services import migrate_database

    migrate_database(load_settings())
    print("Database schema is up to date.")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="session-rater", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="start the app (migrates and loads demo data on first start)")
    serve.add_argument("--port", type=int, default=8501)
    serve.add_argument("--headless", action="store_true", help="do not open a browser")
    serve.add_argument("--address",
                       help="address to listen on (default: every one; 127.0.0.1 behind a proxy on the same machine)")
    serve.set_defaults(func=_cmd_serve)
    sub.add_parser("demo", help="load or reset the demo data").set_defaults(func=_cmd_demo)
    export = sub.add_parser("export", help="write submitted scores as long-format CSV")
    export.add_argument("--output", "-o", help="file to write (default: standard output)")
    export.add_argument("--dictionary", action="store_true",
                        help="write the data dictionary instead: every column of the export and of the area report, "
                        "and what it means (the area report XLSX's 'Data dictionary' sheet)")  # fmt: skip
    export.set_defaults(func=_cmd_export)
    check = sub.add_parser("check-rubrics", help="validate rubric YAML files")
    check.add_argument("files", nargs="*", help="files to check (default: every file in the rubrics folder)")
    check.set_defaults(func=_cmd_check_rubrics)
    sub.add_parser("migrate", help="bring the database schema up to date").set_defaults(func=_cmd_migrate)
    cli_sample.register(sub)
    cli_ingest.register(sub)
    cli_analyse.register(sub)
    cli_audit.register(sub)
    cli_people.register(sub)
    cli_worker.register(sub)
    cli_backup.register(sub)
    cli_retention.register(sub)
    cli_calibration.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except SessionRaterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
