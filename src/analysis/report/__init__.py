"""Report layer: Danish formatting, disclosure control, charts and rendering.

Modules are imported one by one (``from analysis.report import fmt, show``) so
that pipeline code that only needs formatting or suppression does not load
matplotlib. Rendering and its rules are described in docs/rendering.md.
"""
