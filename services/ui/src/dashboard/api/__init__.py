"""model_api as the dashboard sees it: the client (``client``), its one error (``errors``) and
the types of the answers (``models``)."""

from dashboard.api.client import ApiClient, get_client
from dashboard.api.errors import ApiError

__all__ = ["ApiClient", "ApiError", "get_client"]
