"""Reference-month arithmetic at the edges the definitions depend on."""
from datetime import date

import pandas as pd
import pytest

from analysis.months import day_after, last_complete_month, month_end, months_back, parse_month


def test_parse_and_edges():
    m = parse_month("2023-02")
    assert month_end(m) == pd.Timestamp("2023-02-28")
    assert day_after(m) == pd.Timestamp("2023-03-01")
    assert month_end(parse_month("2024-02")) == pd.Timestamp("2024-02-29")


@pytest.mark.parametrize("bad", ["2023-13", "2023-2", "feb 2023", "", "2023-02-01"])
def test_bad_month_is_rejected(bad):
    with pytest.raises(ValueError, match="YYYY-MM"):
        parse_month(bad)


def test_default_month_is_last_complete_month_before_extract_date():
    assert str(last_complete_month(date(2023, 3, 5))) == "2023-02"
    assert str(last_complete_month(date(2023, 3, 1))) == "2023-02"
    assert str(last_complete_month(date(2023, 1, 31))) == "2022-12"


def test_months_back():
    assert [str(m) for m in months_back(parse_month("2023-02"), 3)] == ["2022-12", "2023-01", "2023-02"]
