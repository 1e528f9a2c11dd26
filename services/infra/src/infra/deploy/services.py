"""Network, cluster, load balancer and the two Fargate services with their roles.

Network: two public subnets in two AZs and no NAT gateway. Tasks get public IPs (egress to ECR,
CloudWatch Logs and Secrets Manager) and accept traffic only from the load balancer's security
group (and model_api from the dashboard's); DynamoDB and S3 are reached through free gateway
endpoints. Private subnets would need a NAT gateway (~$33/month each) or interface endpoints
(~$15/month each, several needed): more than these small services cost.

The dashboard reaches model_api directly at ``model-api.<namespace>`` (Cloud Map DNS, private
IPs), not through the public load balancer, whose security group admits only ``allowedCidr``.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_servicediscovery as servicediscovery
from constructs import Construct

from infra.config import InfraSettings
from infra.deploy.data import DataStores
from infra.deploy.options import DeployOptions
from infra.deploy.policies import model_api_statements

API_PORT = 8000  # docker-compose.yml and the Dockerfile's model-api target
UI_PORT = 8050
API_HEALTH = "/health/ready"  # storage writable, tables reachable (model_api/core/health.py)
UI_HEALTH = "/health"  # dashboard/security.py: open, no login
NAMESPACE = "iris.internal"
API_DNS_NAME = "model-api"


class WebServices(Construct):
    """model_api (``apiTasks`` tasks) and the dashboard behind one internet-facing ALB."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        options: DeployOptions,
        settings: InfraSettings,
        data: DataStores,
        api_image: ecs.ContainerImage,
        ui_image: ecs.ContainerImage,
        log_retention: logs.RetentionDays,
        health_command: list[str],
    ) -> None:
        super().__init__(scope, id)
        region = Stack.of(self).region
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr("10.42.0.0/16"),
            max_azs=2,
            nat_gateways=0,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24
                )
            ],
        )
        for name, service in (
            ("DynamoDb", ec2.GatewayVpcEndpointAwsService.DYNAMODB),
            ("S3", ec2.GatewayVpcEndpointAwsService.S3),
        ):
            self.vpc.add_gateway_endpoint(name, service=service)
        self.cluster = ecs.Cluster(self, "Cluster", vpc=self.vpc)
        namespace = self.cluster.add_default_cloud_map_namespace(
            name=NAMESPACE, type=servicediscovery.NamespaceType.DNS_PRIVATE
        )
        # One generated token for both: model_api requires it, the dashboard sends it and asks
        # for it as the login password (user "iris"). It never appears in the template.
        self.token = secretsmanager.Secret(
            self,
            "ApiToken",
            description="Iris model_api bearer token (also the dashboard's login password).",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                exclude_punctuation=True, password_length=40
            ),
            removal_policy=RemovalPolicy.DESTROY,
        )
        token = ecs.Secret.from_secrets_manager(self.token)

        self.api_role = self._role(
            "ApiTaskRole", "model_api: exactly the DynamoDB and S3 calls its code makes."
        )
        for statement in model_api_statements(data, options.object_prefix):
            self.api_role.add_to_policy(statement)
        # The dashboard calls nothing in AWS (it talks HTTP to model_api): a role with no policy.
        self.ui_role = self._role(
            "UiTaskRole", "Iris dashboard: no AWS permissions (HTTP to model_api only)."
        )
        container = _ContainerParts(token, _health_check(health_command), log_retention)
        api_task = self._task(
            "Api",
            "model_api",
            image=api_image,
            cpu=options.api_cpu,
            memory_mib=options.api_memory_mib,
            role=self.api_role,
            port=API_PORT,
            environment={
                "AWS_DEFAULT_REGION": region,
                "IRIS_SCORE_TABLE": data.score_table.table_name,
                "IRIS_RETRAIN_TABLE": data.retrain_table.table_name,
                "IRIS_REGISTRY_TABLE": data.registry_table.table_name,
                "IRIS_OBJECT_STORE": f"s3://{data.bucket.bucket_name}/{options.object_prefix}",
                "IRIS_HOST": "0.0.0.0",
                "IRIS_API_PORT": str(API_PORT),
                "IRIS_DATA_DIR": "/data",
                # Host names vary (ALB DNS, Cloud Map name, the target IP the ALB's health check
                # sends): reachability is the security groups' job here, access the token's.
                "IRIS_ALLOWED_HOSTS": "*",
            },
            parts=container,
        )
        ui_task = self._task(
            "Ui",
            "ui",
            image=ui_image,
            cpu=options.ui_cpu,
            memory_mib=options.ui_memory_mib,
            role=self.ui_role,
            port=UI_PORT,
            environment={
                "IRIS_API_URL": f"http://{API_DNS_NAME}.{NAMESPACE}:{API_PORT}",
                "IRIS_HOST": "0.0.0.0",
                "IRIS_UI_PORT": str(UI_PORT),
                "IRIS_ALLOWED_HOSTS": "*",
            },
            parts=container,
        )

        self.api_service = self._service(
            "Api", api_task, options.api_tasks, grace=Duration.minutes(4)
        )
        self.api_service.enable_cloud_map(
            name=API_DNS_NAME,
            cloud_map_namespace=namespace,
            dns_record_type=servicediscovery.DnsRecordType.A,
            dns_ttl=Duration.seconds(10),
        )
        self.ui_service = self._service("Ui", ui_task, 1, grace=Duration.minutes(1))
        self.api_service.connections.allow_from(
            self.ui_service, ec2.Port.tcp(API_PORT), "dashboard -> model_api"
        )

        alb_sg = ec2.SecurityGroup(self, "AlbSecurityGroup", vpc=self.vpc, allow_all_outbound=False)
        self.alb = elbv2.ApplicationLoadBalancer(
            self,
            "Alb",
            vpc=self.vpc,
            internet_facing=True,
            security_group=alb_sg,
            # a dashboard callback may wait on a batch test up to the ui's 60 s read timeout
            idle_timeout=Duration.seconds(120),
        )
        self.listeners = {}
        for name, port, service, target_port, health, idle in (
            ("Ui", 80, self.ui_service, UI_PORT, UI_HEALTH, 30),
            ("Api", API_PORT, self.api_service, API_PORT, API_HEALTH, 60),
        ):
            alb_sg.add_ingress_rule(
                ec2.Peer.ipv4(options.allowed_cidr), ec2.Port.tcp(port), f"allowedCidr -> {name}"
            )
            listener = self.alb.add_listener(
                name, port=port, protocol=elbv2.ApplicationProtocol.HTTP, open=False
            )
            listener.add_targets(
                name,
                port=target_port,
                protocol=elbv2.ApplicationProtocol.HTTP,
                targets=[service],
                deregistration_delay=Duration.seconds(idle),
                health_check=elbv2.HealthCheck(
                    path=health,
                    healthy_http_codes="200",
                    interval=Duration.seconds(15),
                    timeout=Duration.seconds(5),
                    healthy_threshold_count=2,
                    unhealthy_threshold_count=3,
                ),
            )
            self.listeners[name] = listener

    def _role(self, id: str, description: str) -> iam.Role:
        return iam.Role(
            self,
            id,
            assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"),
            description=description,
        )

    def _task(
        self,
        id: str,
        container: str,
        *,
        image: ecs.ContainerImage,
        cpu: int,
        memory_mib: int,
        role: iam.Role,
        port: int,
        environment: dict[str, str],
        parts: _ContainerParts,
    ) -> ecs.FargateTaskDefinition:
        """A one-container task: its port, settings, the token secret, health check and logs."""
        task = ecs.FargateTaskDefinition(
            self,
            f"{id}Task",
            cpu=cpu,
            memory_limit_mib=memory_mib,
            task_role=role,
            runtime_platform=_linux_x86(),
        )
        log_group = logs.LogGroup(
            self, f"{id}Logs", retention=parts.log_retention, removal_policy=RemovalPolicy.DESTROY
        )
        task.add_container(
            container,
            image=image,
            port_mappings=[ecs.PortMapping(container_port=port)],
            environment=environment,
            secrets={"IRIS_API_TOKEN": parts.token},
            health_check=parts.health_check,
            logging=ecs.LogDrivers.aws_logs(stream_prefix=container, log_group=log_group),
        )
        return task

    def _service(
        self, id: str, task: ecs.FargateTaskDefinition, count: int, *, grace: Duration
    ) -> ecs.FargateService:
        """A service in the public subnets; its own security group admits nothing until a
        listener or ``allow_from`` opens its port; egress is HTTPS only (ECR, logs, AWS APIs)."""
        sg = ec2.SecurityGroup(self, f"{id}SecurityGroup", vpc=self.vpc, allow_all_outbound=False)
        sg.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS: ECR, logs, AWS APIs")
        return ecs.FargateService(
            self,
            f"{id}Service",
            cluster=self.cluster,
            task_definition=task,
            desired_count=count,
            assign_public_ip=True,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC),
            security_groups=[sg],
            circuit_breaker=ecs.DeploymentCircuitBreaker(enable=True, rollback=True),
            min_healthy_percent=100,
            max_healthy_percent=200,
            health_check_grace_period=grace,
        )


@dataclass(frozen=True)
class _ContainerParts:
    """What both containers share: the token secret, the health check and log retention."""

    token: ecs.Secret
    health_check: ecs.HealthCheck
    log_retention: logs.RetentionDays


def _health_check(command: list[str]) -> ecs.HealthCheck:
    # TensorFlow's import and the first model load take up to a minute or two on 1 vCPU.
    return ecs.HealthCheck(
        command=command,
        interval=Duration.seconds(15),
        timeout=Duration.seconds(5),
        retries=3,
        start_period=Duration.seconds(120),
    )


def _linux_x86() -> ecs.RuntimePlatform:
    # TensorFlow's x86-64 wheels are the ones the project tests; ARM64 would be ~20% cheaper.
    return ecs.RuntimePlatform(
        operating_system_family=ecs.OperatingSystemFamily.LINUX,
        cpu_architecture=ecs.CpuArchitecture.X86_64,
    )
