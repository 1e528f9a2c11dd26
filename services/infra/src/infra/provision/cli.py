"""``iris-provision up|down|status``: the one provisioning command for every endpoint.

The endpoint is configuration (``AWS_ENDPOINT_URL``, unset = real AWS); credentials come from the
standard AWS chain. ``--with-lambda`` defaults to "if the endpoint has Lambda" (AWS, LocalStack:
yes; DynamoDB Local: no).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from infra.aws import make_clients, wait_for_endpoint
from infra.config import InfraSettings
from infra.provision.commands import provision_down, provision_status, provision_up
from infra.provision.package import LambdaPackageError
from infra.provision.report import ProvisioningError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="iris-provision",
        description="Create, inspect or remove the Iris monitor's AWS resources "
        "(endpoint: AWS_ENDPOINT_URL, or real AWS when unset).",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="create or update everything (idempotent)")
    down = sub.add_parser("down", help="remove what `up` made (idempotent)")
    status = sub.add_parser("status", help="show what exists")
    for p in (up, down, status):
        p.add_argument(
            "--with-lambda",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="also the queue, role, function and mapping "
            "(default: when the endpoint has Lambda)",
        )
        p.add_argument("--json", action="store_true", help="machine-readable output")
        p.add_argument(
            "--wait",
            type=float,
            default=0.0,
            metavar="SECONDS",
            help="wait up to this long for the endpoint to answer first (containers)",
        )
    down.add_argument("--keep-tables", action="store_true", help="keep the tables and their data")
    down.add_argument("--yes", action="store_true", help="do not ask before deleting tables")
    return parser


def _confirm(settings: InfraSettings, endpoint: str) -> bool:
    tables = f"{settings.score_table}, {settings.retrain_table} and {settings.registry_table}"
    if not sys.stdin.isatty():
        print(
            f"iris-provision: `down` deletes the tables {tables} at {endpoint}; "
            "pass --yes (or --keep-tables) to confirm.",
            file=sys.stderr,
        )
        return False
    answer = input(f"Delete the tables {tables} and all their data at {endpoint}? [y/N] ")
    return answer.strip().lower() in ("y", "yes")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit code."""
    args = _parser().parse_args(argv)
    settings = InfraSettings()
    clients = make_clients(settings)
    try:
        if args.wait:
            wait_for_endpoint(clients, args.wait, error=ProvisioningError)
        if args.command == "up":
            report = provision_up(settings, with_lambda=args.with_lambda, clients=clients)
        elif args.command == "down":
            if not args.keep_tables and not args.yes and not _confirm(settings, clients.label):
                return 1
            report = provision_down(
                settings,
                with_lambda=args.with_lambda,
                keep_tables=args.keep_tables,
                clients=clients,
            )
        else:
            status = provision_status(settings, with_lambda=args.with_lambda, clients=clients)
            print(json.dumps(status, indent=2, default=str))
            return 0
    except NoCredentialsError:
        print(
            "iris-provision: no AWS credentials found (standard chain: environment, "
            "~/.aws, SSO, instance role). For a local endpoint set AWS_ENDPOINT_URL.",
            file=sys.stderr,
        )
        return 1
    except (ProvisioningError, LambdaPackageError) as exc:
        print(f"iris-provision: {exc}", file=sys.stderr)
        return 1
    except (BotoCoreError, ClientError) as exc:
        print(f"iris-provision: AWS API error at {clients.label}: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
    else:
        lambda_note = "with Lambda" if report.with_lambda else "tables only"
        print(f"iris-provision {args.command}: {report.endpoint} ({lambda_note})")
        for change in report.changes:
            print(f"  {change}")
        if not report.changed:
            print("  nothing to do")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
