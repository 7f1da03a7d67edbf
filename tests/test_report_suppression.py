"""Primary and secondary suppression: small person counts never reach a published table."""
import math

import pandas as pd
import pytest

from analysis.base.suppression import (
    SuppressionError, protect_groups, rule_text_da, suppress, suppress_table, suppressed_mark,
)

MIN = 5
CATALOGUE = {
    "persons_in_shelter": {"kind": "person_count"},
    "episodes_ended_12m": {"kind": "person_count", "total": "all"},
    "support_active": {"kind": "person_count"},
    "support_active_total": {"kind": "person_count", "total_of": "support_active"},
    "pilot_referred": {"kind": "person_count"},
    "pilot_moved_in": {"kind": "person_count"},
    "pilot_moved_in_share": {"kind": "person_share", "base": "pilot_referred", "numerator": "pilot_moved_in"},
    "episode_length_median_12m": {"kind": "person_median", "base": "episodes_ended_12m", "base_breakdown": "all"},
    "retention_at_risk": {"kind": "person_count"},
    "housing_retention_12m": {"kind": "survival", "base": "retention_at_risk"},
    "dwellings_received": {"kind": "dwelling_count"},
    "rows_read": {"kind": "rows"},
}


def _table(rows):
    return pd.DataFrame(rows, columns=["indicator", "period", "breakdown", "value"])


def _published(df):
    out = suppress(_table(df), CATALOGUE, MIN)
    return {(r.indicator, r.period, r.breakdown): (None if r.suppressed else r.value) for r in out.itertuples()}


def _recoverable(published, total, parts):
    """Hidden cells a reader can pin down from the published total by subtraction and the known range 1..MIN-1."""
    if published[total] is None:
        return []
    hidden = [p for p in parts if published[p] is None]
    rest = published[total] - sum(published[p] for p in parts if published[p] is not None)
    if len(hidden) == 1:
        return hidden
    # several hidden cells, each possibly small (1..MIN-1): pinned down when the rest is the min or max possible sum
    if len(hidden) > 1 and rest in (len(hidden), len(hidden) * (MIN - 1)):
        return hidden
    return []


def test_primary_counts_only_for_person_counts():
    pub = _published([
        ("persons_in_shelter", "2023-02", "", 3), ("persons_in_shelter", "2023-01", "", 0),
        ("persons_in_shelter", "2022-12", "", 5), ("dwellings_received", "2023-02", "rent_4500_5000", 2),
        ("rows_read", "2023-02", "ophold", 1),
    ])
    assert pub[("persons_in_shelter", "2023-02", "")] is None
    assert pub[("persons_in_shelter", "2023-01", "")] == 0  # zero is shown
    assert pub[("persons_in_shelter", "2022-12", "")] == 5
    assert pub[("dwellings_received", "2023-02", "rent_4500_5000")] == 2  # never suppressed
    assert pub[("rows_read", "2023-02", "ophold")] == 1


def test_value_blanked_and_flag_set():
    out = suppress(_table([("persons_in_shelter", "2023-02", "", 3)]), CATALOGUE, MIN)
    assert out["suppressed"].tolist() == [True] and math.isnan(out["value"].iloc[0])
    assert out["suppressed"].dtype == bool


def test_secondary_suppression_against_breakdown_total():
    parts = [("episodes_ended_12m", "2023-02", b) for b in ("egen_bolig", "hospital", "ukendt")]
    total = ("episodes_ended_12m", "2023-02", "all")
    pub = _published([(*parts[0], 3), (*parts[1], 40), (*parts[2], 12), (*total, 55)])
    assert pub[parts[0]] is None  # primary
    assert pub[parts[2]] is None  # secondary: the smallest non-zero visible cell
    assert pub[parts[1]] == 40 and pub[total] == 55
    assert _recoverable(pub, total, parts) == []
    # and the secondary cell is needed: with it shown, 55 - 40 - 12 gives the small count away
    assert _recoverable(pub | {parts[2]: 12}, total, parts) == [parts[0]]


def test_two_small_cells_are_not_enough():
    parts = [("episodes_ended_12m", "2023", b) for b in ("a", "b", "c")]
    total = ("episodes_ended_12m", "2023", "all")
    pub = _published([(*parts[0], 1), (*parts[1], 1), (*parts[2], 50), (*total, 52)])
    assert pub[parts[2]] is None  # 52 - 50 = 2 = 1 + 1 would reveal both
    assert _recoverable(pub, total, parts) == []


def test_total_hidden_when_no_cell_can_protect():
    parts = [("episodes_ended_12m", "2022", b) for b in ("a", "b", "c")]
    total = ("episodes_ended_12m", "2022", "all")
    pub = _published([(*parts[0], 4), (*parts[1], 4), (*parts[2], 0), (*total, 8)])
    assert pub[total] is None  # 8 = 4 + 4 would reveal both small cells
    assert pub[parts[2]] == 0


def test_secondary_suppression_against_total_indicator_skips_zeros():
    parts = [("support_active", "2023-02", m) for m in ("CTI", "ICM", "ACT", "SEL85")]
    total = ("support_active_total", "2023-02", "")
    pub = _published([(*parts[0], 2), (*parts[1], 30), (*parts[2], 10), (*parts[3], 0), (*total, 42)])
    assert pub[parts[0]] is None and pub[parts[2]] is None
    assert pub[parts[3]] == 0 and pub[parts[1]] == 30
    assert _recoverable(pub, total, parts) == []


def test_groups_are_per_period():
    pub = _published([
        ("episodes_ended_12m", "2023-01", "a", 3), ("episodes_ended_12m", "2023-01", "b", 20),
        ("episodes_ended_12m", "2023-01", "all", 23),
        ("episodes_ended_12m", "2023-02", "a", 6), ("episodes_ended_12m", "2023-02", "b", 20),
        ("episodes_ended_12m", "2023-02", "all", 26),
    ])
    assert pub[("episodes_ended_12m", "2023-01", "b")] is None
    assert pub[("episodes_ended_12m", "2023-02", "a")] == 6 and pub[("episodes_ended_12m", "2023-02", "b")] == 20


def test_derived_figures_follow_base_and_numerator():
    pub = _published([
        ("pilot_referred", "2023-02", "", 50), ("pilot_moved_in", "2023-02", "", 3),
        ("pilot_moved_in_share", "2023-02", "", 0.06),
        ("pilot_referred", "2023-01", "", 29), ("pilot_moved_in", "2023-01", "", 14),
        ("pilot_moved_in_share", "2023-01", "", 14 / 29),
        ("pilot_referred", "2022-12", "", 4), ("pilot_moved_in", "2022-12", "", 0),
        ("pilot_moved_in_share", "2022-12", "", 0.0),
        ("episodes_ended_12m", "2023-02", "all", 55), ("episode_length_median_12m", "2023-02", "", 31),
        ("retention_at_risk", "2023-02", "CTI", 4), ("housing_retention_12m", "2023-02", "CTI", 0.75),
        ("retention_at_risk", "2023-02", "ICM", 40), ("housing_retention_12m", "2023-02", "ICM", 0.8),
        ("housing_retention_12m", "2023-02", "ACT", 0.9),  # base missing
    ])
    assert pub[("pilot_moved_in_share", "2023-02", "")] is None  # 6 % of 50 would give the hidden 3 away
    assert pub[("pilot_moved_in_share", "2023-01", "")] == pytest.approx(14 / 29)
    assert pub[("pilot_moved_in_share", "2022-12", "")] is None  # base of 4 persons
    assert pub[("episode_length_median_12m", "2023-02", "")] == 31  # base_breakdown "all"
    assert pub[("housing_retention_12m", "2023-02", "CTI")] is None
    assert pub[("housing_retention_12m", "2023-02", "ICM")] == 0.8
    assert pub[("housing_retention_12m", "2023-02", "ACT")] is None


@pytest.mark.parametrize("count, hidden", [(0, False), (1, True), (MIN - 1, True), (MIN, False), (MIN + 1, False)])
def test_primary_threshold_itself_is_shown(count, hidden):
    pub = _published([("persons_in_shelter", "2023-02", "", count)])
    assert (pub[("persons_in_shelter", "2023-02", "")] is None) is hidden


@pytest.mark.parametrize("base, hidden", [(MIN - 1, True), (MIN, False), (MIN + 1, False)])
def test_derived_figure_on_a_base_of_exactly_the_threshold_is_shown(base, hidden):
    # a median (no numerator) and a survival figure whose base is a count of 4, 5 or 6 persons
    pub = _published([
        ("episodes_ended_12m", "2023-02", "all", base), ("episode_length_median_12m", "2023-02", "", 31),
        ("retention_at_risk", "2023-02", "CTI", base), ("housing_retention_12m", "2023-02", "CTI", 0.6),
        ("pilot_referred", "2023-02", "", base), ("pilot_moved_in", "2023-02", "", 0),
        ("pilot_moved_in_share", "2023-02", "", 0.0),
    ])
    for key in [("episode_length_median_12m", "2023-02", ""), ("housing_retention_12m", "2023-02", "CTI"),
                ("pilot_moved_in_share", "2023-02", "")]:
        assert (pub[key] is None) is hidden, key


def test_rule_text_and_table_mark_follow_the_threshold():
    assert "1–2" in rule_text_da(3) and "»<3«" in rule_text_da(3)
    df = pd.DataFrame({"Metode": ["CTI", "ICM", "ACT"], "Personer": [2, 3, 0]})
    assert suppress_table(df, ["Personer"], 3)["Personer"].tolist() == ["<3", "3", "0"]


def test_a_hidden_published_cell_prints_its_mark_and_a_shown_one_none():
    """The mark the memo and the narrative print for a cell of the published table (``suppression`` as
    ``indicators.build`` writes it): ``<min_count`` only where the count itself is small, ``·`` for a cell hidden
    to protect another or a figure on a small base, nothing for a shown cell."""
    row = lambda suppressed, why: pd.Series({"value": None if suppressed else 7.0, "suppressed": suppressed,
                                             "suppression": why})
    assert suppressed_mark(row(True, "primary"), 5) == "<5"
    assert suppressed_mark(row(True, "primary"), 3) == "<3"  # the threshold in force, not a fixed 5
    assert suppressed_mark(row(True, "secondary"), 5) == "·"
    assert suppressed_mark(row(True, "derived"), 5) == "·"
    assert suppressed_mark(row(False, ""), 5) is None
    assert suppressed_mark({"suppressed": True}, 5) == "<5"  # a table without the reason column: a small count
    assert suppressed_mark({"value": 7.0}, 5) is None  # nor the flag: shown


def test_catalogue_problems_are_errors():
    with pytest.raises(SuppressionError, match="not in the catalogue"):
        suppress(_table([("mystery", "2023-02", "", 1)]), CATALOGUE, MIN)
    with pytest.raises(SuppressionError, match="kind"):
        suppress(_table([("x", "2023-02", "", 1)]), {"x": {"kind": "persons"}}, MIN)
    with pytest.raises(SuppressionError, match="base"):
        suppress(_table([("x", "2023-02", "", 0.5)]), {"x": {"kind": "person_share"}}, MIN)
    with pytest.raises(SuppressionError, match="duplicate"):
        suppress(_table([("persons_in_shelter", "2023-02", "", 1)] * 2), CATALOGUE, MIN)


def test_protect_groups_reaches_a_fixpoint_across_groups():
    # cell b is hidden for group 1 and is then the only hidden cell of group 2
    values = {"t1": 20, "a": 3, "b": 17, "t2": 47, "c": 30}
    hidden = protect_groups([("t1", ["a", "b"]), ("t2", ["b", "c"])], values, {"a"}, {"a"})
    assert hidden == {"a", "b", "c"}


def test_suppress_table_rows_and_columns_cannot_be_recovered():
    df = pd.DataFrame(
        {"Bydel": ["Nord", "Syd", "Vest", "I alt"], "Kvinder": [3, 20, 30, 53], "Mænd": [40, 25, 60, 125],
         "I alt": [43, 45, 90, 178]},
    ).set_index("Bydel")
    out = suppress_table(df, ["Kvinder", "Mænd"], MIN, total_row="I alt", total_col="I alt")
    assert out.at["Nord", "Kvinder"] == "<5"
    hidden = {(r, c) for r in out.index for c in out.columns if out.at[r, c] in ("<5", "·")}
    assert {(r, c) for (r, c) in hidden if out.at[r, c] == "·"}  # there is secondary suppression
    for r in df.index:  # every row: hidden cells are not a single unknown against a shown total
        row_hidden = [c for c in ("Kvinder", "Mænd") if (r, c) in hidden]
        assert (r, "I alt") in hidden or len(row_hidden) != 1
    for c in out.columns:
        col_hidden = [r for r in ("Nord", "Syd", "Vest") if (r, c) in hidden]
        assert ("I alt", c) in hidden or len(col_hidden) != 1
    assert out.at["Vest", "Mænd"] == "60" and out.at["I alt", "I alt"] == "178"
    assert all(isinstance(v, str) for v in out.to_numpy().ravel())


def test_suppress_table_without_totals_is_primary_only_and_formats():
    df = pd.DataFrame({"Metode": ["CTI", "ICM"], "Personer": [1234, 2]})
    out = suppress_table(df, ["Personer"], MIN)
    assert out["Personer"].tolist() == ["1.234", "<5"]
    assert out["Metode"].tolist() == ["CTI", "ICM"]


def test_rule_text_names_the_threshold():
    text = rule_text_da(5)
    assert "1–4" in text and "<5" in text and "·" in text


# ----- the remaining edges, found by mutation testing (tests/MUTATION.md) ---------------------
def test_protect_groups_goes_round_again_when_a_later_group_hides_a_cell():
    # group t2 is checked first and is safe; group t1 then hides b, which leaves b alone in t2: a second pass
    values = {"t1": 20, "a": 3, "b": 17, "t2": 47, "c": 30}
    hidden = protect_groups([("t2", ["b", "c"]), ("t1", ["a", "b"])], values, {"a"}, {"a"})
    assert hidden == {"a", "b", "c"}


def test_protect_groups_hides_the_smallest_non_zero_cell_even_a_one():
    # called directly, a visible 1 is an ordinary cell: it is the smallest non-zero candidate
    values = {"t": 54, "a": 3, "b": 1, "c": 50, "z": 0}
    assert protect_groups([("t", ["a", "b", "c", "z"])], values, {"a"}, {"a"}) == {"a", "b"}


def test_a_total_of_another_indicator_leaves_out_its_own_total_breakdown():
    catalogue = CATALOGUE | {"episodes_total": {"kind": "person_count", "total_of": "episodes_ended_12m"}}
    rows = [("episodes_ended_12m", "2023", "a", 3), ("episodes_ended_12m", "2023", "b", 4),
            ("episodes_ended_12m", "2023", "all", 7), ("episodes_total", "2023", "", 7)]
    out = suppress(_table(rows), catalogue, MIN)
    # "all" (7) is hidden to protect a and b; were it a part of episodes_total's group too, that group would
    # count a hidden cell that is not small and leave its total of 7 showing, which gives a + b away
    assert out["suppressed"].tolist() == [True, True, True, True]


def test_a_total_indicator_without_parts_in_its_period_is_fine_and_one_with_is_hidden():
    pub = _published([("support_active_total", "2023-03", "", 7),
                      ("support_active", "2023-02", "CTI", 3), ("support_active", "2023-02", "ACT", 4),
                      ("support_active", "2023-02", "ICM", 0), ("support_active_total", "2023-02", "", 7)])
    assert pub[("support_active_total", "2023-03", "")] == 7
    # two small cells and a zero: only hiding the total (7, not small itself) protects them
    assert pub[("support_active_total", "2023-02", "")] is None and pub[("support_active", "2023-02", "ICM")] == 0


def test_derived_figures_on_an_unknown_or_secondarily_hidden_base_are_hidden():
    catalogue = CATALOGUE | {"episode_length_median_by": {"kind": "person_median", "base": "episodes_ended_12m"}}
    rows = [("pilot_referred", "2023-02", "", float("nan")), ("pilot_moved_in", "2023-02", "", 10),
            ("pilot_moved_in_share", "2023-02", "", 0.5),
            ("episodes_ended_12m", "2023-02", "a", 3), ("episodes_ended_12m", "2023-02", "b", 40),
            ("episodes_ended_12m", "2023-02", "c", 60), ("episodes_ended_12m", "2023-02", "all", 103),
            ("episode_length_median_by", "2023-02", "b", 20), ("episode_length_median_by", "2023-02", "c", 25)]
    out = suppress(_table(rows), catalogue, MIN).set_index(["indicator", "breakdown"])["suppressed"]
    assert out[("pilot_moved_in_share", "")]                                   # base unknown (NaN)
    assert out[("episodes_ended_12m", "b")] and out[("episode_length_median_by", "b")]  # base hidden, not small
    assert not out[("episode_length_median_by", "c")]


def test_missing_breakdowns_are_the_empty_breakdown():
    rows = _table([("pilot_referred", "2023-02", None, 50), ("pilot_moved_in", "2023-02", None, 3),
                   ("pilot_moved_in_share", "2023-02", None, 0.06)])
    assert suppress(rows, CATALOGUE, MIN)["suppressed"].tolist() == [False, True, True]


def test_the_log_says_what_was_suppressed_and_why(caplog):
    caplog.set_level("INFO", logger="analysis.base.suppression")
    _published([
        ("episodes_ended_12m", "2023-02", "a", 3), ("episodes_ended_12m", "2023-02", "b", 40),
        ("episodes_ended_12m", "2023-02", "all", 43), ("episode_length_median_12m", "2023-02", "", 31),
        ("housing_retention_12m", "2023-02", "ACT", 0.9),
    ])
    assert [r.getMessage() for r in caplog.records] == [
        "housing_retention_12m 2023-02 'ACT': base ('retention_at_risk', '2023-02', 'ACT') not in the table; "
        "suppressed to be safe",
        "suppression (min_count=5): 1 primary, 1 secondary, 1 derived of 5 cells",
    ]


def test_catalogue_errors_list_every_problem_in_full():
    catalogue = {"a": {"kind": "person_share", "base": "nothing"}, "b": {"kind": "person_count", "numerator": "n"},
                 "c": {"kind": "person_count", "total_of": "t"}}
    rows = _table([("a", "2023", "", 0.5), ("aa", "2023", "", 1), ("b", "2023", "", 1), ("c", "2023", "", 1)])
    with pytest.raises(SuppressionError) as info:
        suppress(rows, catalogue, MIN)
    assert str(info.value) == (
        "cannot suppress the indicator table:\n"
        "  a: kind person_share needs 'base:' naming a catalogue count, got 'nothing'\n"
        "  aa: not in the catalogue\n"
        "  b: 'numerator: n' is not in the catalogue\n"
        "  c: 'total_of: t' is not in the catalogue")


def test_duplicate_rows_are_named_five_at_most():
    rows = _table([("persons_in_shelter", "2023-02", "", 1)] * 7)
    with pytest.raises(SuppressionError) as info:
        suppress(rows, CATALOGUE, MIN)
    assert str(info.value) == ("indicator table has duplicate (indicator, period, breakdown) rows, e.g. "
                               + str([("persons_in_shelter", "2023-02", "")] * 5))


def test_suppress_table_total_column_outside_the_counts_is_protected_and_formatted():
    df = pd.DataFrame({"Bydel": ["Nord", "Syd"], "Kvinder": [3, 900], "Mænd": [0, 400], "I alt": [3, 1300]}).set_index("Bydel")
    out = suppress_table(df, ["Kvinder", "Mænd"], MIN, total_col="I alt")
    assert out.loc["Nord"].tolist() == ["<5", "0", "<5"]  # the total is a count too, and small
    assert out.loc["Syd"].tolist() == ["900", "400", "1.300"]


def test_suppress_table_label_columns_show_missing_as_a_dash():
    df = pd.DataFrame({"Metode": ["CTI", None, float("nan")], "År": [2023, 2022, 2021], "Personer": [10, 20, 30]})
    out = suppress_table(df, ["Personer"], MIN)
    assert out["Metode"].tolist() == ["CTI", "–", "–"] and out["År"].tolist() == ["2023", "2022", "2021"]


def test_suppress_table_errors_name_the_problem():
    with pytest.raises(ValueError) as info:
        suppress_table(pd.DataFrame({"n": [1, 2]}, index=["a", "a"]), ["n"], MIN)
    assert str(info.value) == "suppress_table needs a unique index (the row labels)"
    with pytest.raises(ValueError) as info:
        suppress_table(pd.DataFrame({"n": [1, 2]}, index=["a", "b"]), ["n"], MIN, total_row="I alt")
    assert str(info.value) == "total_row 'I alt' is not an index label of the table"
