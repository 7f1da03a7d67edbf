"""Tiny published indicator tables for the memo's view tests."""
import pandas as pd


def published(rows):
    """(indicator, period, breakdown, value, suppression) rows as the published table holds them."""
    df = pd.DataFrame(rows, columns=["indicator", "period", "breakdown", "value", "suppression"])
    df["suppressed"] = df["suppression"] != ""
    df.loc[df["suppressed"], "value"] = float("nan")
    return df
