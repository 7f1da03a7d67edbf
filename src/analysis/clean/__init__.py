"""Cleaning for a reference month: cut, episodes, tenancies (see docs/architecture.md)."""
from analysis.clean.month import (
    MonthTables, build_month, month_summary, month_table_paths, month_tables, read_month_tables,
)

__all__ = ["MonthTables", "build_month", "month_summary", "month_table_paths", "month_tables", "read_month_tables"]
