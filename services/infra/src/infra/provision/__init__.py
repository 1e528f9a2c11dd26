"""Provisioning: the part of infra that touches an account (AWS, LocalStack or DynamoDB Local).

One module per resource — :mod:`.tables`, :mod:`.queue`, :mod:`.iam`, :mod:`.function` (its code
built by :mod:`.package`), :mod:`.mapping` — each reading the current state first and changing only
what differs; :mod:`.commands` runs them in order (``up``/``down``/``status``) and :mod:`.cli` is
``iris-provision``. What each step did is a :class:`~infra.provision.report.Change`.
"""

from infra.provision.commands import provision_down, provision_status, provision_up
from infra.provision.report import Change, ProvisioningError, ProvisionReport

__all__ = [
    "Change",
    "ProvisionReport",
    "ProvisioningError",
    "provision_down",
    "provision_status",
    "provision_up",
]
