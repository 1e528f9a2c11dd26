"""What a deployment may choose (CDK context, ``cdk deploy -c key=value``), checked up front.

Names (tables, function, queue) are not here: they are :class:`infra.config.InfraSettings`, read
from the same ``IRIS_*`` variables as ``iris-provision``.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from constructs import Construct

# Fargate's valid (vCPU units, MiB) pairs are a table; these are the sizes the README prices.
_FARGATE_MEMORY = {256: (512, 1024, 2048), 512: (1024, 2048, 3072, 4096)}
_FARGATE_MEMORY |= {1024: tuple(range(2048, 8193, 1024)), 2048: tuple(range(4096, 16385, 1024))}
# CloudWatch Logs accepts only some retention periods; these are the ones offered here.
RETENTION_DAYS = (1, 3, 7, 14, 30, 60, 90, 180, 365)


class DeployOptionError(ValueError):
    """A context value is missing or invalid; the message names it and what it accepts."""


@dataclass(frozen=True)
class DeployOptions:
    """The deployment's size and exposure (every field a context key, same name in camelCase)."""

    allowed_cidr: str  # who may reach the load balancer: no default, so nothing opens by accident
    api_tasks: int = 2
    api_cpu: int = 1024  # 1 vCPU: TensorFlow trains and scores on it
    api_memory_mib: int = 2048  # TensorFlow alone is ~0.7 GB resident
    ui_cpu: int = 256
    ui_memory_mib: int = 512
    log_retention_days: int = 30
    object_prefix: str = "model_api"
    # tests: stand-in image references instead of Docker builds of the repository's Dockerfile
    placeholder_images: bool = False

    def __post_init__(self) -> None:
        try:
            network = ipaddress.ip_network(self.allowed_cidr, strict=True)
        except ValueError as exc:
            raise DeployOptionError(
                f"allowedCidr must be a network such as 203.0.113.7/32, not {self.allowed_cidr!r}"
            ) from exc
        if network.version != 4:
            raise DeployOptionError("allowedCidr must be an IPv4 network (the ALB is IPv4)")
        if not 1 <= self.api_tasks <= 20:
            raise DeployOptionError(f"apiTasks must be 1..20, not {self.api_tasks}")
        for name, cpu, mem in (
            ("api", self.api_cpu, self.api_memory_mib),
            ("ui", self.ui_cpu, self.ui_memory_mib),
        ):
            if mem not in _FARGATE_MEMORY.get(cpu, ()):
                raise DeployOptionError(
                    f"{name}Cpu={cpu} with {name}MemoryMib={mem} is not a Fargate size "
                    f"(cpu one of {sorted(_FARGATE_MEMORY)}, memory as Fargate allows for it)"
                )
        if self.log_retention_days not in RETENTION_DAYS:
            raise DeployOptionError(
                f"logRetentionDays must be one of {sorted(RETENTION_DAYS)}, "
                f"not {self.log_retention_days}"
            )
        if not self.object_prefix or self.object_prefix.strip("/") != self.object_prefix:
            raise DeployOptionError("objectPrefix must be non-empty without leading/trailing /")

    @classmethod
    def from_context(cls, scope: Construct) -> DeployOptions:
        """Read every field from the CDK context (strings from ``-c`` are converted)."""

        def get(key: str, default: Any, kind: type) -> Any:
            value = scope.node.try_get_context(key)
            if value is None:
                return default
            if kind is bool:
                return value if isinstance(value, bool) else str(value).lower() in ("1", "true")
            try:
                return kind(value)
            except (TypeError, ValueError) as exc:
                raise DeployOptionError(
                    f"context {key}={value!r} is not a {kind.__name__}"
                ) from exc

        cidr = scope.node.try_get_context("allowedCidr")
        if not cidr:
            raise DeployOptionError(
                "set who may reach the load balancer: cdk deploy -c allowedCidr=<your IP>/32 "
                "(0.0.0.0/0 opens it to everyone)"
            )
        defaults = cls(allowed_cidr=str(cidr))
        return cls(
            allowed_cidr=str(cidr),
            api_tasks=get("apiTasks", defaults.api_tasks, int),
            api_cpu=get("apiCpu", defaults.api_cpu, int),
            api_memory_mib=get("apiMemoryMib", defaults.api_memory_mib, int),
            ui_cpu=get("uiCpu", defaults.ui_cpu, int),
            ui_memory_mib=get("uiMemoryMib", defaults.ui_memory_mib, int),
            log_retention_days=get("logRetentionDays", defaults.log_retention_days, int),
            object_prefix=get("objectPrefix", defaults.object_prefix, str),
            placeholder_images=get("placeholderImages", False, bool),
        )
