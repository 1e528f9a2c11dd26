"""Shared by every service: one log format (``logs``) and one set of web guards (``webguard``)."""
