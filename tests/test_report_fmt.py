"""Danish formatting, checked against answers written by hand."""
import datetime as dt
import math

import pandas as pd
import pytest

from analysis.base import fmt


@pytest.mark.parametrize(("value", "decimals", "expected"), [
    (1234.5, 1, "1.234,5"),
    (1234.5, 0, "1.235"),  # half-up, not banker's rounding
    (2.5, 0, "3"),
    (1234567, 0, "1.234.567"),
    (0.125, 2, "0,13"),
    (1.005, 2, "1,01"),  # the decimal the reader sees, not the binary float below it
    (-1234.56, 1, "-1.234,6"),
    (-0.4, 0, "0"),  # never "-0"
    (12, 2, "12,00"),
    (None, 0, "–"),
    (math.nan, 1, "–"),
    (pd.NA, 0, "–"),
])
def test_number(value, decimals, expected):
    assert fmt.number(value, decimals) == expected


def test_kr_and_pct():
    assert fmt.kr(1234) == "1.234 kr."
    assert fmt.kr(4499.5, 2) == "4.499,50 kr."
    assert fmt.kr(None) == "–"
    assert fmt.pct(0.453) == "45 %"
    assert fmt.pct(0.453, 1) == "45,3 %"
    assert fmt.pct(1) == "100 %"
    assert fmt.pct(math.nan) == "–"


def test_periods_and_dates():
    assert fmt.period("2023-02") == "februar 2023"
    assert fmt.period("2023") == "2023"
    assert fmt.period(pd.Period("2022-12", "M")) == "december 2022"
    assert fmt.period(pd.Period("2022", "Y")) == "2022"
    assert fmt.month_name(5) == "maj"
    with pytest.raises(ValueError):
        fmt.month_name(13)
    assert fmt.date("2023-03-01") == "1. marts 2023"
    assert fmt.date(dt.date(2024, 10, 31)) == "31. oktober 2024"
    assert fmt.date(pd.NaT) == "–"
    assert fmt.time_of_day(pd.Timestamp("2023-03-04 09:05")) == "kl. 09.05"


@pytest.mark.parametrize(("now", "before", "decimals", "expected"), [
    (29, 17, 0, "▲ 12"),
    (11, 14, 0, "▼ 3"),
    (14, 14, 0, "uændret"),
    (3.04, 3.0, 1, "uændret"),  # rounds to zero at the shown precision
    (1300, 100, 0, "▲ 1.200"),
    (0.5, 0.25, 2, "▲ 0,25"),
    (None, 3, 0, "–"),
    (3, math.nan, 0, "–"),
])
def test_change(now, before, decimals, expected):
    assert fmt.change(now, before, decimals) == expected


def test_tick_formatter():
    assert fmt.tick_formatter()(12500.0, 0) == "12.500"
    assert fmt.tick_formatter(1)(0.25, 0) == "0,3"
    assert fmt.tick_formatter(0, percent=True)(0.25, 0) == "25 %"


@pytest.mark.parametrize(("n", "expected"), [(1, "1"), (2, "to"), (5, "fem"), (12, "tolv"), (13, "13"), (1200, "1.200")])
def test_count_word_writes_two_to_twelve_in_words(n, expected):
    assert fmt.count_word(n) == expected
