"""The pages' callback bodies, one module per page: plain functions of the injected
:class:`~dashboard.api.ApiClient` and the callback's inputs, returning named results
(``NamedTuple``s whose fields are the callback's output names), so they are tested without Dash
running (tests/ui)."""
