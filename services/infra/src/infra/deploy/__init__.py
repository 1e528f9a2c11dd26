"""The AWS deployment as code (AWS CDK v2): model_api and the dashboard on ECS Fargate behind one
load balancer, with the tables, bucket, flagger function and its event source mapping.

``app`` is the CDK app (``cdk.json`` at the repository root runs it), ``stack`` composes
:mod:`.data` (tables, bucket), :mod:`.flagger` (queue, role, function, mapping) and
:mod:`.services` (network, cluster, load balancer, the two services and their roles). Names and
the stream/mapping/function knobs come from :class:`infra.config.InfraSettings` and the
``infra.provision`` constants, so ``cdk deploy`` and ``iris-provision up`` make the same resources.
``aws-cdk-lib`` is a dev dependency: no service image imports this package.
"""
