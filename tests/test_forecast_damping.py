"""The damped trend: undamped growth compounds, damped growth levels off at φ^(1/12)/(1-φ^(1/12))/12 years."""
import pytest

from analysis.forecast.simulate import damped_years


def test_undamped_is_elapsed_years():
    assert damped_years(12, 1.0) == 1.0
    assert damped_years(90, 1.0) == 7.5


def test_damped_levels_off():
    phi = 0.5 ** (1 / 12)
    limit = phi / (1 - phi) / 12
    years = [damped_years(m, 0.5) for m in (1, 12, 24, 96, 1000)]
    assert years == sorted(years)
    assert years[0] == pytest.approx(phi / 12)
    # after one year the damped trend has delivered (1 - 0.5) of its limit
    assert years[1] == pytest.approx(limit * 0.5)
    assert years[-1] == pytest.approx(limit, rel=1e-9)
    assert limit == pytest.approx(1.40, abs=0.01)
