"""Summaries of the simulated paths: the statistics must be NumPy's, bit for bit."""
import numpy as np
import pytest

from analysis.forecast.run import _quantiles


@pytest.mark.parametrize("n_paths", [1, 2, 7, 100])
def test_quantiles_are_numpys(n_paths):
    """One sort serves median and bounds: the same numbers as np.median / np.quantile, NaN included."""
    rng = np.random.default_rng(n_paths)
    values = rng.poisson(30, (n_paths, 9)) / 7.3
    values[:, 3] = np.nan if n_paths > 1 else values[:, 3]
    values[0, 5] = np.nan
    for axis, data in ((0, values), (1, np.ascontiguousarray(values.T))):
        q = _quantiles(data, [0.5, 0.8], axis=axis)
        assert np.array_equal(q["median"], np.median(data, axis=axis), equal_nan=True)
        assert np.array_equal(q["mean"], data.mean(axis=axis), equal_nan=True)
        bounds = np.quantile(data, [0.25, 0.75, 0.1, 0.9], axis=axis)
        for k, name in enumerate(("lo50", "hi50", "lo80", "hi80")):
            assert np.array_equal(q[name], bounds[k], equal_nan=True)
