"""Shared test settings: no display, a fixed demo environment."""
import os

os.environ.setdefault("MPLBACKEND", "Agg")
