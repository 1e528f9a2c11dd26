"""Host and Origin checks shared by model_api and the dashboard (framework-free).

- Host allow-list: a browser tricked by DNS rebinding sends ``Host: evil.example`` to a loopback
  service; only names this service is really reached by are accepted.
- Origin / Sec-Fetch-Site: a page on another site can make the browser send form posts, or GETs
  with effects, to a local service. Browsers mark those requests (``Origin``, and
  ``Sec-Fetch-Site: cross-site``/``same-site``); scripts and course clients send neither, and are
  let through.
"""

from __future__ import annotations

from urllib.parse import urlsplit


def split_list(value: str | None) -> list[str]:
    """``"a, b,,c"`` -> ``["a", "b", "c"]`` (settings hold lists as comma-separated strings)."""
    return [part.strip() for part in (value or "").split(",") if part.strip()]


class GuardSettingsMixin:
    """The list views of the guard settings both services declare (``api_token``,
    ``allowed_hosts``, ``cors_origins``, ``host``): one reading of the comma-separated strings.
    It declares no fields itself, so each pydantic settings class keeps its own defaults."""

    @property
    def api_tokens(self) -> list[str]:
        return split_list(self.api_token)

    @property
    def allowed_host_names(self) -> list[str]:
        return [*split_list(self.allowed_hosts), self.host]

    @property
    def cors_origin_list(self) -> list[str]:
        return split_list(self.cors_origins)


def host_name(host_header: str) -> str:
    """The name part of a Host header value: ``[::1]:8000`` -> ``::1``, ``a.b:80`` -> ``a.b``."""
    value = host_header.strip().lower()
    if value.startswith("["):
        return value[1:].split("]", 1)[0]
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def host_allowed(host_header: str | None, allowed: list[str]) -> bool:
    """True when ``allowed`` has ``*`` or the header's host name (case-insensitive)."""
    if "*" in allowed:
        return True
    if not host_header:
        return False
    return host_name(host_header) in {a.lower() for a in allowed}


def origin_of(url: str) -> str:
    """``https://A.example:443/x`` -> ``https://a.example:443`` (scheme://host[:port])."""
    parts = urlsplit(url.strip())
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def cross_site_refusal(
    method: str,
    origin: str | None,
    sec_fetch_site: str | None,
    host_header: str | None,
    allowed_origins: list[str],
) -> str | None:
    """Why a request must be refused as cross-site, or None to let it through.

    Allowed: no Origin and no cross-site fetch mark (scripts, course clients, the address bar);
    the same origin as the service itself; an origin in ``allowed_origins``.
    """
    allowed = {origin_of(o) for o in allowed_origins if o != "*"}
    if origin and origin != "null":
        own = origin_of(origin)
        if own in allowed or "*" in allowed_origins:
            return None
        if host_header and urlsplit(own).netloc == host_header.strip().lower():
            return None  # same origin (e.g. the API's own /docs page)
        return f"Origin {origin} is not allowed"
    if origin == "null":
        return "Origin null (a sandboxed or file page) is not allowed"
    if sec_fetch_site in ("cross-site", "same-site") and method.upper() != "OPTIONS":
        return f"a {sec_fetch_site} browser request without an allowed Origin is refused"
    return None
