"""``iris-stack run|aws-env``: the embedded stack's command line.

``run`` starts :class:`~infra.local.stack.Stack`; ``aws-env`` prints the variables for pointing
your own boto3/aws-cli at the local endpoint.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from infra.config import InfraSettings
from infra.local.env import aws_env_lines
from infra.local.stack import Options, Stack


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="iris-stack", description="Run the Iris monitor on this machine, without Docker."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="start DynamoDB Local, the stream runner, model_api, UI")
    run.add_argument("--no-api", action="store_true", help="do not start model_api")
    run.add_argument("--no-ui", action="store_true", help="do not start the dashboard")
    run.add_argument(
        "--no-stream-runner",
        action="store_true",
        help="do not start the local event source mapping",
    )
    run.add_argument("--data-dir", type=Path, help="default: IRIS_DATA_DIR or ./var")
    run.add_argument("--aws-port", type=int, help="default: IRIS_AWS_PORT or 4566")
    run.add_argument("--api-port", type=int, help="default: IRIS_API_PORT or 8000")
    run.add_argument("--ui-port", type=int, help="default: IRIS_UI_PORT or 8050")
    run.add_argument(
        "--allow-open-bind",
        action="store_true",
        help="bind a non-loopback IRIS_HOST even without IRIS_API_TOKEN (trusted networks only)",
    )
    sub.add_parser("aws-env", help="print export lines for the local AWS endpoint")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``iris-stack`` console script."""
    args = _parser().parse_args(argv)
    settings = InfraSettings()
    if args.command == "aws-env":
        print("\n".join(aws_env_lines(settings)))
        return 0
    overrides = {
        key: value
        for key, value in (
            ("data_dir", args.data_dir),
            ("aws_port", args.aws_port),
            ("api_port", args.api_port),
            ("ui_port", args.ui_port),
            ("allow_open_bind", args.allow_open_bind or None),
        )
        if value is not None
    }
    settings = InfraSettings(**(settings.model_dump() | overrides))
    options = Options(
        api=not args.no_api, ui=not args.no_ui, stream_runner=not args.no_stream_runner
    )
    return Stack(settings, options).run()


if __name__ == "__main__":
    raise SystemExit(main())
