"""``session-rater calibration [--format text|json]``: each rater's calibration status against
the benchmark's master scores, by the certification rule in force."""

from __future__ import annotations

import argparse
import json
import sys


def _cmd_calibration(args: argparse.Namespace) -> int:
    from session_rater.usecases.calibration import calibration_report, calibration_text
    from session_rater.usecases.services import open_services

    services = open_services(load_demo=False)
    try:
        report = calibration_report(services)
    finally:
        services.close()
    sys.stdout.write(json.dumps(report, indent=2) + "\n" if args.format == "json" else calibration_text(report))
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    cal = sub.add_parser("calibration", help="each rater's calibration status against the master scores")
    cal.add_argument("--format", choices=("text", "json"), default="text", help="text (default) or json")
    cal.set_defaults(func=_cmd_calibration)
