"""Presentation layer: the memo, the forecast report, charts and rendering.

It sits above the domain packages and imports them; nothing below imports it (formatting,
suppression and escaping live in :mod:`analysis.base`). Modules are imported one by one
(``from analysis.report import charts, show``) so that a step that only shows tables does not
load matplotlib. Rendering and its rules are described in docs/rendering.md.
"""
