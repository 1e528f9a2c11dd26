"""The one stack: data, the flagger and the web services, with the URLs as outputs."""

from __future__ import annotations

import json
import re
from pathlib import Path

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.config import InfraSettings
from infra.deploy.data import DataStores
from infra.deploy.flagger import Flagger
from infra.deploy.options import DeployOptions
from infra.deploy.services import API_PORT, WebServices

# services/infra/src/infra/deploy -> the repository root, where the Dockerfile is
REPO_ROOT = Path(__file__).resolve().parents[5]
# The image build context is the repository root; .dockerignore keeps it to sources, and CDK's
# own output must never be copied into it.
_IMAGE_EXCLUDES = ["cdk.out", "**/cdk.out"]


def dockerfile_health_command() -> list[str]:
    """The Dockerfile's one health check command (it asks the target's ``HEALTHCHECK_URL``).

    ECS ignores an image's HEALTHCHECK; the task definitions repeat this command so that
    Cloud Map lists a model_api task only once it is ready, with ECS's own timing (its limits
    differ from Docker's: at most 10 retries)."""
    text = (REPO_ROOT / "Dockerfile").read_text(encoding="utf-8")
    match = re.search(r"^HEALTHCHECK [^\n]*\\\n\s*CMD (\[.*\])$", text, re.M)
    if match is None:
        raise ValueError(f"no HEALTHCHECK ... CMD [...] in {REPO_ROOT / 'Dockerfile'}")
    return ["CMD", *json.loads(match.group(1))]


def service_image(options: DeployOptions, target: str) -> ecs.ContainerImage:
    """The Dockerfile's ``target`` built by ``cdk deploy`` (pushed to the CDK assets repository),
    or, with ``placeholderImages`` (tests), a stand-in reference that needs no Docker."""
    if options.placeholder_images:
        return ecs.ContainerImage.from_registry(f"iris-monitor/{target}:placeholder")
    if not (REPO_ROOT / "Dockerfile").is_file():
        raise FileNotFoundError(f"no Dockerfile at {REPO_ROOT}: deploy from a repository checkout")
    return ecs.ContainerImage.from_asset(
        str(REPO_ROOT),
        file="Dockerfile",
        target=target,
        platform=ecr_assets.Platform.LINUX_AMD64,
        exclude=_IMAGE_EXCLUDES,
    )


class IrisStack(Stack):
    """Everything the Iris monitor needs in one AWS account and region."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        options: DeployOptions,
        settings: InfraSettings | None = None,
        **kwargs,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        settings = settings or InfraSettings()
        retention = getattr(logs.RetentionDays, _RETENTION_NAMES[options.log_retention_days])
        self.data = DataStores(self, "Data", settings=settings)
        self.flagger = Flagger(
            self,
            "Flagger",
            settings=settings,
            score_table=self.data.score_table,
            retrain_table=self.data.retrain_table,
            log_retention=retention,
        )
        self.web = WebServices(
            self,
            "Web",
            options=options,
            settings=settings,
            data=self.data,
            api_image=service_image(options, "model-api"),
            ui_image=service_image(options, "ui"),
            health_command=dockerfile_health_command(),
            log_retention=retention,
        )
        dns = self.web.alb.load_balancer_dns_name
        CfnOutput(self, "DashboardUrl", value=f"http://{dns}/")
        CfnOutput(self, "ApiUrl", value=f"http://{dns}:{API_PORT}/docs")
        CfnOutput(self, "ApiTokenSecret", value=self.web.token.secret_name)
        CfnOutput(self, "FailureQueueUrl", value=self.flagger.queue.queue_url)
        CfnOutput(self, "ObjectBucket", value=self.data.bucket.bucket_name)


_RETENTION_NAMES = {
    1: "ONE_DAY",
    3: "THREE_DAYS",
    7: "ONE_WEEK",
    14: "TWO_WEEKS",
    30: "ONE_MONTH",
    60: "TWO_MONTHS",
    90: "THREE_MONTHS",
    180: "SIX_MONTHS",
    365: "ONE_YEAR",
}
