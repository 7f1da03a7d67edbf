"""The NumPy damped ETS: recursions by hand, the heuristic start, and statsmodels' forecasts on real series."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from analysis.forecast.accuracy import read_series
from analysis.forecast.backtest import mase_scale
from analysis.forecast.ets import EtsFit, _filter, fit_damped_ets, heuristic_states

REALDATA = Path(__file__).parent / "fixtures" / "realdata"


def test_additive_recursions_by_hand():
    # start level 8, trend 2; alpha 0.5, beta 0.1, phi 0.9. Month 1: 8 + 1.8 = 9.8, error 0.2 →
    # level 9.9, trend 1.82. Month 2: 9.9 + 1.638 = 11.538, error 0.462 → level 11.769, trend 1.6842.
    llf, level, trend, _, sse = _filter(np.array([10.0, 12.0]), "add", False, np.array([[0.5, 0.1, 0.0, 0.9]]),
                                        (8.0, 2.0, np.zeros(12)))
    assert level[0] == pytest.approx(11.769) and trend[0] == pytest.approx(1.6842)
    assert sse[0] == pytest.approx(0.2**2 + 0.462**2)


def test_multiplicative_error_has_the_same_point_recursions_and_its_own_likelihood():
    y, params, start = np.array([10.0, 12.0]), np.array([[0.5, 0.1, 0.0, 0.9]]), (8.0, 2.0, np.ones(12))
    add, mul = _filter(y, "add", False, params, start), _filter(y, "mul", False, params, start)
    assert mul[1][0] == pytest.approx(add[1][0]) and mul[2][0] == pytest.approx(add[2][0])
    # relative errors 0.2 / 9.8 and 0.462 / 11.538
    assert mul[4][0] == pytest.approx((0.2 / 9.8) ** 2 + (0.462 / 11.538) ** 2)


def test_damped_forecast_by_hand():
    fit = EtsFit("add", False, 0.5, 0.1, 0.0, 0.5, level=100.0, trend=8.0, season=np.zeros(12), sigma=1.0, aicc=0.0)
    np.testing.assert_allclose(fit.forecast(3), [104.0, 106.0, 107.0])  # 8 × (0.5, 0.75, 0.875)
    # class-1 variance: 1, 1 + (0.5 + 0.1 × 0.5)², + (0.5 + 0.1 × 0.75)²
    np.testing.assert_allclose(fit.sd(3) ** 2, [1.0, 1.3025, 1.3025 + 0.575**2])


def test_heuristic_start_of_a_line():
    # y = 3 + 2x at x = 1..10 is the regression line: level 3, trend 2
    level, trend, _ = heuristic_states(3 + 2 * np.arange(1.0, 25.0), None)
    assert level == pytest.approx(3.0) and trend == pytest.approx(2.0)


def test_a_pure_season_is_found_and_repeated():
    y = 100 + np.tile([5.0, -5.0, 0, 0, 0, 0, 0, 0, 0, 0, 3.0, -3.0], 4)
    fit = fit_damped_ets(y)
    assert fit.seasonal
    np.testing.assert_allclose(fit.forecast(12), y[:12], atol=0.5)


def test_the_step_does_not_import_statsmodels():
    code = ("import sys, numpy as np; import analysis.forecast.step; from analysis.forecast.methods import DampedETS; "
            "DampedETS(np.arange(30.0) + 10)(29, 3); assert 'statsmodels' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("name", ["nyc_dhs_monthly", "toronto_flow_monthly"])
def test_forecasts_as_accurate_as_statsmodels_on_the_real_series(name):
    """At every sixth origin with three years of history: MASE at 3 and 12 months within 0.05 of
    statsmodels' ETSModel (the same model family by AICc), and the forecasts themselves close.
    The series are the real NYC and Toronto ones, monthly, kept in the tests (fixtures/realdata)."""
    from analysis.forecast.methods import fit_statsmodels_ets

    y = read_series(REALDATA / f"{name}.csv")["stock"].to_numpy(float)
    ours, theirs, gap = [], [], []
    for origin in range(35, len(y) - 12, 6):
        scale = mase_scale(y[: origin + 1])
        a, b = fit_damped_ets(y[: origin + 1]).forecast(12), np.asarray(fit_statsmodels_ets(y[: origin + 1]).forecast(12))
        actual = y[origin + 1: origin + 13]
        ours.append(np.abs(a - actual)[[2, 11]] / scale)
        theirs.append(np.abs(b - actual)[[2, 11]] / scale)
        gap.append(np.abs(a - b)[11] / scale)
    np.testing.assert_allclose(np.mean(ours, axis=0), np.mean(theirs, axis=0), atol=0.05)
    assert np.mean(gap) < 0.2
