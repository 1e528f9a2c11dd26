"""Reusable Dash components of the dashboard (one look everywhere)."""
