"""Cleaning for a reference month: cut, episodes, tenancies (see docs/architecture.md)."""
from analysis.clean.month import build_month, month_summary, month_tables, read_month_tables

__all__ = ["build_month", "month_summary", "month_tables", "read_month_tables"]
