"""The parameter file: every leaf documented, overrides checked, fingerprint stable."""
from pathlib import Path

import pytest

from analysis.params import ParameterError, load_params


def test_every_leaf_has_source_and_unit():
    params = load_params()
    for p in params.entries():
        assert p.source.strip(), p.key
        assert p.unit.strip(), p.key


def test_domain_figures_present():
    p = load_params()
    assert p["targets.subsidised_dwellings"] == 350
    assert p["targets.pilot_places"] == 50
    assert p["state_subsidy.annual_amount_pl2021"] == 15000
    assert (p["definitions.rent_band_lower"], p["definitions.rent_band_upper"]) == (4500, 5000)
    assert [d["days"] for d in p["reimbursement.shelter_day_limits"]] == [120, 90]
    assert p.entry("pilot.start_date").assumption is True


def test_command_line_override_parses_yaml_scalars():
    p = load_params(overrides=["disclosure.min_count=10", "definitions.retention_horizons_months=[3, 6]"])
    assert p["disclosure.min_count"] == 10
    assert p["definitions.retention_horizons_months"] == [3, 6]
    assert p.overridden == {"disclosure.min_count", "definitions.retention_horizons_months"}
    assert p.entry("disclosure.min_count").source == load_params().entry("disclosure.min_count").source


def test_override_file_and_fingerprint(tmp_path: Path):
    f = tmp_path / "o.yml"
    f.write_text("payment:\n  disposable_norm: 4500\nday_rates:\n  support_per_month: {CTI: 1}\n", encoding="utf-8")
    base = load_params()
    p = load_params(override_files=[f])
    assert p["payment.disposable_norm"] == 4500
    assert p["day_rates.support_per_month"] == {"CTI": 1}
    assert p.fingerprint() != base.fingerprint()
    assert load_params().fingerprint() == base.fingerprint()


@pytest.mark.parametrize("override", ["disclosure.min_cout=3", "nonsense=1"])
def test_typo_in_override_is_an_error_with_suggestion(override):
    with pytest.raises(ParameterError, match="unknown parameter"):
        load_params(overrides=[override])


def test_override_without_equals_sign():
    with pytest.raises(ParameterError, match="key=value"):
        load_params(overrides=["disclosure.min_count"])


def test_leaf_without_source_is_refused(tmp_path: Path):
    f = tmp_path / "p.yml"
    f.write_text("a:\n  b:\n    value: 1\n    unit: x\n", encoding="utf-8")
    with pytest.raises(ParameterError, match="no source"):
        load_params(f)
