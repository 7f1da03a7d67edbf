"""The parameter files: every leaf documented and cited, overrides checked, fingerprint stable."""
import re
import shutil
from pathlib import Path

import pytest
import yaml

from analysis.params import ParameterError, load_params


def test_every_leaf_has_source_and_unit():
    params = load_params()
    for p in params.entries():
        assert p.source.strip(), p.key
        assert p.unit.strip(), p.key


def test_same_parameters_without_libyaml(monkeypatch):
    with_libyaml = load_params()
    monkeypatch.delattr(yaml, "CSafeLoader", raising=False)  # PyYAML built without libyaml
    without = load_params()
    assert without.entries() == with_libyaml.entries()
    assert without.fingerprint() == with_libyaml.fingerprint()


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


def test_every_leaf_has_danish_label_and_source():
    for p in load_params().entries():
        assert p.label_da.strip(), p.key
        assert p.source_da.strip(), p.key
        assert p.unit_da.strip(), p.key
    d = load_params().entry("disclosure.min_count")
    assert (d.label_da, d.unit, d.unit_da) == ("Diskretioneringsgrænse", "persons", "personer")


def test_unit_da_defaults_to_unit(tmp_path: Path):
    f = tmp_path / "p.yml"
    f.write_text("a:\n  b:\n    value: 1\n    unit: kr.\n    source: s\n    label_da: l\n    source_da: k\n", encoding="utf-8")
    assert load_params(f).entry("a.b").unit_da == "kr."


@pytest.mark.parametrize("missing", ["label_da", "source_da"])
def test_leaf_without_danish_documentation_is_refused(tmp_path: Path, missing):
    fields = {"value": "1", "unit": "x", "source": "s", "label_da": "l", "source_da": "k"}
    del fields[missing]
    f = tmp_path / "p.yml"
    f.write_text("a:\n  b:\n" + "".join(f"    {k}: {v}\n" for k, v in fields.items()), encoding="utf-8")
    with pytest.raises(ParameterError, match=rf"'a\.b' has no .*{missing}"):
        load_params(f)


def test_override_keeps_danish_documentation():
    base = load_params().entry("payment.disposable_norm")
    p = load_params(overrides=["payment.disposable_norm=4500"]).entry("payment.disposable_norm")
    assert p.value == 4500
    assert (p.label_da, p.unit_da, p.source_da, p.assumption) == (base.label_da, base.unit_da, base.source_da, True)


# ----- the area files and their sources ------------------------------------------------------
ROOT = Path(__file__).resolve().parents[1]
PARAMS_DIR = ROOT / "src" / "analysis" / "params"
_ISSUE = re.compile(r"\bissues?\b", re.IGNORECASE)
_FILE = re.compile(r"[\w./-]+\.(?:md|txt|csv|pdf|xlsx|ipynb|py)\b")


def test_every_source_is_a_citation_a_reader_can_follow():
    """The reports print source_da in their Kilde column: never a ticket number, never a file outside the repository."""
    problems = []
    for p in load_params().entries():
        for field in ("source", "source_da"):
            text = getattr(p, field)
            if _ISSUE.search(text) or "domain-facts" in text:
                problems.append(f"{p.key}.{field} cites an issue or a note outside the repository: {text}")
            problems += [f"{p.key}.{field} names {name}, not a file in the repository"
                         for name in _FILE.findall(text) if "://" not in text.split(name)[0][-60:]
                         and not (ROOT / name).is_file()]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("text", ["Issue 6: 1,000 paths", "see issues 5 and 13", "domain-facts.md: 2024 rates",
                                  "hud_spm.csv in shared/realdata", "data-contract.md §4"])
def test_the_citation_check_catches(text):
    found = bool(_ISSUE.search(text) or "domain-facts" in text
                 or any(not (ROOT / name).is_file() for name in _FILE.findall(text)))
    assert found, text


def test_an_assumption_says_so_in_both_languages():
    for p in load_params().entries():
        if p.source.startswith("Assumption"):
            assert p.assumption and p.source_da.startswith("Antagelse"), p.key


def test_the_parameters_come_from_the_area_files_in_file_order():
    """The reports list the parameters in this order: the files' numbers order them."""
    sections = [s for f in sorted(PARAMS_DIR.glob("*.yml")) for s in yaml.safe_load(f.read_text(encoding="utf-8"))]
    assert list(dict.fromkeys(k.split(".")[0] for k in load_params())) == sections
    assert load_params(PARAMS_DIR).entries() == load_params().entries()


@pytest.mark.parametrize("area", sorted(f.name for f in PARAMS_DIR.glob("*.yml")))
def test_a_changed_value_in_any_area_file_changes_the_fingerprint(tmp_path: Path, area):
    for f in PARAMS_DIR.glob("*.yml"):
        shutil.copy(f, tmp_path / f.name)
    data = yaml.safe_load((tmp_path / area).read_text(encoding="utf-8"))
    leaf = next(iter(next(iter(data.values())).values()))
    leaf["value"] = {"changed": leaf["value"]}
    (tmp_path / area).write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert load_params(tmp_path).fingerprint() != load_params().fingerprint()


def test_a_parameter_defined_in_two_files_is_refused(tmp_path: Path):
    leaf = "a:\n  b:\n    value: 1\n    unit: x\n    source: s\n    label_da: l\n    source_da: k\n"
    (tmp_path / "10_one.yml").write_text(leaf, encoding="utf-8")
    (tmp_path / "20_two.yml").write_text(leaf, encoding="utf-8")
    with pytest.raises(ParameterError, match=r"20_two.yml: parameter 'a\.b' is also defined in .*10_one.yml"):
        load_params(tmp_path)
