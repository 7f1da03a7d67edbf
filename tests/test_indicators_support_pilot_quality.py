"""Spor 3 support, spor 5 pilot (data contract §2) and the rows_* reconciliation, by hand."""
import pandas as pd

from analysis.indicators import pilot, quality, support
from analysis.indicators.common import value_of as value
from analysis.params import load_params

T = pd.Timestamp
M = pd.Period("2023-02", "M")
P = load_params(overrides={"definitions.history_months": 6, "pilot.start_date": "2022-09-01"})


def test_support_active_started_ended_by_method_and_provider():
    sup = pd.DataFrame({
        "method": ["CTI", "CTI", "ACT", "SEL85"],
        "provider": ["kommunal", "privat", "kommunal", "selvejende"],
        "start": [T("2022-10-01"), T("2023-02-10"), T("2022-01-01"), T("2023-01-01")],
        "end": [pd.NaT, T("2023-02-28"), T("2023-02-15"), T("2023-01-31")],
    })
    out = support.build({"support": sup}, M, P)
    assert value(out, "support_active", "2023-02", "CTI") == 1      # the one ending on 28 Feb is not open at its end
    assert value(out, "support_active", "2023-02") == 1
    assert value(out, "support_active", "2023-01") == 2             # SEL85 ends on 31 January
    assert value(out, "support_active_by_provider", "2023-01", "kommunal") == 2
    assert value(out, "support_started", "2023-02", "CTI") == 1
    assert value(out, "support_ended", "2023-02") == 2
    assert value(out, "support_ended", "2023-01", "SEL85") == 1


def test_pilot_counts_each_person_once_from_first_referral():
    refs = pd.DataFrame({
        "person_id": ["a", "a", "b", "c", "d", "e"],
        "referred": [T("2022-09-15"), T("2022-11-01"), T("2023-01-10"), T("2022-08-31"), T("2023-02-20"), T("2022-12-01")],
        "scheme": ["udslusningsbolig"] * 5 + ["skaev_bolig"],
    })
    ten = pd.DataFrame({
        "person_id": ["a", "b", "c", "d"],
        "moved_in": [T("2022-10-01"), T("2023-01-05"), T("2022-10-01"), pd.NaT],
    })
    persons = pilot.pilot_persons(refs, ten, P)
    assert sorted(persons["person_id"]) == ["a", "b", "d"]          # c before the start, e another scheme
    out = pilot.build({"referrals": refs, "tenancies": ten}, M, P)
    assert value(out, "pilot_referred", "2022-09") == 1
    assert value(out, "pilot_referred", "2023-02") == 3
    assert value(out, "pilot_moved_in", "2022-09") == 0
    assert value(out, "pilot_moved_in", "2022-10") == 1             # a; b moved in before the referral
    assert value(out, "pilot_moved_in", "2023-02") == 1


def test_rows_from_quality_json():
    q = {"extracts": {"ophold": {"rows_read": 10, "rows_clean": 8, "rows_quarantined": 2, "encoding": "utf-8"}}}
    out = quality.build(q, M)
    assert value(out, "rows_read", "2023-02", "ophold") == 10
    assert value(out, "rows_quarantined", "2023-02", "ophold") == 2
    assert len(out) == 3
