"""Monthly analysis pipeline for the Danish housing and homelessness reform.

Data flows ingest → clean → indicators / analyses → forecast → report; each
sub-package is one of those steps. See docs/architecture.md.
"""
__version__ = "0.1.0"
