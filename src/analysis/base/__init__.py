"""Base toolkit: Danish number formatting, disclosure control and Markdown escaping.

These sit below every domain package (ingest, clean, indicators, forecast, retention) so that
those can format and suppress without importing the presentation layer (``analysis.report``),
which sits above them; ``tests/test_layering.py`` keeps the direction.
"""
