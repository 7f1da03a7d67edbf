"""The trust boundary, one hostile input at a time: escaped and shown, or refused with its exit code and a message
that names file, field and line and never the CPR number (issue 12). The whole run on hostile extracts is
tests/test_hostile_run.py."""
from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import cpr
from analysis.ingest import PseudonymKeyError, SchemaError
from analysis.ingest.pseudonym import DEMO_KEY, ENV_KEY, ENV_KEY_FILE, Pseudonymiser, load_key
from analysis.params import ParameterError, load_params
from analysis.base import escape
from analysis.report import show
from analysis.report.checks import check_docx, trust_problems_docx, trust_problems_html
from analysis.report.narrative import NarrativeError, check_status_file, load_status, track_markdown
from tests.fixtures.raw import delivery, row_rule_params

# One fictitious CPR number (day of month 20 is a real day: the spelling rules must hold for real-looking numbers).
SPELLINGS = ["2008802020", "200880-2020", "200880 2020", "200880–2020", "20.08.80-2020", "20 08 80 2020",
             "20.08.80.2020", "200880 - 2020", "２００８８０２０２０"]
HOSTILE = [
    "![k](/etc/boligreform/pseudonym.key)", "<script>fetch('http://127.0.0.1:9/x')</script>",
    "<img src=x onerror=alert(1)>", "```{=html}", "[x](javascript:alert(1))", '<meta http-equiv="refresh" content="0">',
    'src="http:host/x.png"', r"![a](https:\\host\x.png)", "{{< include /etc/passwd >}}", "[s]{.underline}",
    "$\\alpha$", "@citation", "<!-- c -->", "&#60;script&#62;", "# overskrift", "| a | b |", "- punkt", "1. punkt",
    "::: {.callout}", "a\\\nb", "^[fodnote]", "<https://host/>",
]


def _rendered_text(markdown: str) -> str:
    """What a reader sees: pandoc's plain-text rendering of ``markdown`` (the fallback's own pandoc)."""
    import pypandoc

    return pypandoc.convert_text(markdown, "plain", format="markdown-smart", extra_args=["--wrap=none"]).strip()


def _html(markdown: str) -> str:
    import pypandoc

    return pypandoc.convert_text(markdown, "html5", format="markdown")


# ----- escape.text: outside values are shown exactly as typed --------------------------------------------------

@pytest.mark.parametrize("value", HOSTILE)
def test_escaped_value_renders_as_its_own_text_and_nothing_else(value):
    one_line = " ".join(value.split())
    html = _html(f"Navn: {escape.text(value)}")
    assert html.count("<") == 2 and html.startswith("<p>") and html.rstrip().endswith("</p>")  # one paragraph, no tags
    assert _rendered_text(f"Navn: {escape.text(value)}") == f"Navn: {one_line}"


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x24F), max_size=40))
def test_escaped_text_is_one_paragraph_of_plain_text(value):
    html = _html(f"x {escape.text(value)}")
    assert html.count("<") == 2, html  # <p> … </p>: no element, link, image, code or math can come out of a value


def test_escape_keeps_typography_and_drops_controls():
    assert escape.text("BL’s 1. kreds, 4.500 – 5.000 kr. (2022-2023) 45 %") == "BL’s 1. kreds, 4.500 – 5.000 kr. (2022-2023) 45 %"
    assert escape.text("a\nb\r\n\tc\x00\u202ed") == "a b cd"
    assert escape.text("1. punkt") == r"1\. punkt" and escape.text("- punkt") == r"\- punkt"


def test_table_cells_column_names_and_captions_are_escaped():
    df = pd.DataFrame({"<b>kolonne</b>": ["![k](/etc/passwd)"], "Antal": ["<5"]})
    html = _html(show.markdown_table(df, caption="Tabel med <script>x</script>"))
    assert "<img" not in html and "<b>" not in html and "<script" not in html
    assert "&lt;b&gt;kolonne&lt;/b&gt;" in html and "![k](/etc/passwd)" in html and "&lt;5" in html


def test_figure_caption_and_alt_text_are_escaped():
    md = show.figure_markdown("figures/a.png", alt='Alt "med" <img src=x onerror=y>', caption="![x](/etc/passwd) [a](b)")
    html = _html(md)
    assert html.count("<img") == 1 and 'src="figures/a.png"' in html and "/etc/passwd" in html
    assert "onerror=y" not in html.replace("onerror=y&gt;", "")  # only as text inside the caption/alt


# ----- the narrative: a small Markdown subset, everything else refused or shown ----------------------------------

def _status(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "status" / "2023-02.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body, encoding="utf-8")
    return path


TRACK = "spor:\n- nr: 1\n  titel: Titel\n  delleverancer:\n  - Del\n  status: |-\n    Første linje.\n\n    {text}\n"


@pytest.mark.parametrize("construct, what", [
    ("<script>alert(1)</script>", "raw HTML"), ("<img src=x onerror=alert(1)>", "raw HTML"),
    ("<meta http-equiv=refresh content=0>", "raw HTML"), ("![k](/etc/boligreform/pseudonym.key)", "an image"),
    ("```{=html}", "backtick"), ("`kode`", "backtick"), ("[x](javascript:alert(1))", "not a plain http(s)"),
    (r"[x](https:\\host\x.png)", "not a plain http(s)"), ("[x](/etc/passwd)", "not a plain http(s)"),
    ("{{< include /etc/passwd >}}", "Quarto shortcode"), ("[tekst]{.class}", "pandoc attribute"),
    ("Afsnit {#id}", "pandoc attribute"), ("::: {.callout}", "fenced block"), ("~~~", "fenced block"),
    ("[r]: /etc/passwd", "link definition"), ("<https://host/x>", "raw HTML"), ("<!-- skjult -->", "raw HTML"),
])
def test_forbidden_construct_in_the_narrative_names_file_field_and_line(tmp_path, construct, what):
    path = _status(tmp_path, TRACK.replace("{text}", construct))
    with pytest.raises(NarrativeError) as err:
        check_status_file(path)
    message = str(err.value)
    assert str(path) in message and "line 9, field 'spor 1: status'" in message and what in message


def test_forbidden_construct_in_title_and_deliverable_is_found_on_its_line(tmp_path):
    body = TRACK.replace("titel: Titel", "titel: '<b>Titel</b>'").replace("- Del", "- '![x](y)'")
    with pytest.raises(NarrativeError) as err:
        check_status_file(_status(tmp_path, body.replace("{text}", "ok")))
    assert "line 3, field 'spor 1: titel'" in str(err.value)
    assert "line 5, field 'spor 1: delleverancer 1'" in str(err.value)


@pytest.mark.parametrize("spelling", SPELLINGS)
@pytest.mark.parametrize("where", ["status", "titel", "delleverance", "comment"])
def test_cpr_in_the_narrative_stops_without_echoing_it(tmp_path, spelling, where):
    body = TRACK.replace("{text}", "ok")
    if where == "status":
        body = body.replace("ok", f"Borger {spelling} ringede")
    elif where == "titel":
        body = body.replace("titel: Titel", f"titel: Titel {spelling}")
    elif where == "delleverance":
        body = body.replace("- Del", f"- Del {spelling}")
    else:
        body = f"# noter: {spelling}\n" + body
    with pytest.raises(NarrativeError) as err:
        check_status_file(_status(tmp_path, body))
    message = str(err.value)
    assert "CPR" in message and "line " in message
    assert not cpr.contains(message) and "2020" not in message and "２０２０" not in message


def test_yaml_aliases_are_refused(tmp_path):
    body = "a: &x [1, 2]\nb: *x\n"
    with pytest.raises(NarrativeError, match="anchors and aliases"):
        check_status_file(_status(tmp_path, body))


def test_allowed_subset_renders_links_as_text_and_shows_the_rest_literally():
    track = {"nr": 1, "titel": "Titel *fed*", "delleverancer": ["Del [KK](https://kk.dk/a?b=1&c=2)"],
             "status": "Afsnit med *vægt* og [kilde](https://www.dst.dk/x).\n\n- punkt\n  - under\n\n"
                       "    indrykket\n4 < 5 & $x$ @ref # ikke | tabel"}
    table = pd.DataFrame({"indicator": [], "period": [], "breakdown": [], "value": []})
    html = _html(track_markdown(track, table, pd.Period("2023-02", "M")))
    assert "<a " not in html and "href" not in html and "<pre" not in html and "<code" not in html
    assert "<em>vægt</em>" in html and "kilde (https://www.dst.dk/x)" in html and "KK (https://kk.dk/a?b=1&amp;c=2)" in html
    assert "<ul>" in html and "4 &lt; 5 &amp; $x$ @ref # ikke | tabel" in html and "<em>fed</em>" in html


def test_literal_braces_cannot_build_a_shortcode_after_filling():
    track = {"nr": 1, "titel": "T", "delleverancer": [], "status": "{{{{< include x >}}}} og {{.class}}"}
    table = pd.DataFrame({"indicator": [], "period": [], "breakdown": [], "value": []})
    md = track_markdown(track, table, pd.Period("2023-02", "M"))
    assert r"\{\{\< include x \>\}\}" in md and r"\{.class\}" in md


# ----- CPR in every spelling ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("spelling", SPELLINGS + ["6108802020", "abc2008802020def"])
def test_every_spelling_is_found_and_masked(spelling):
    masked = cpr.mask(f"ring {spelling} i dag")
    assert cpr.contains(spelling) and cpr.MASK in masked and not cpr.contains(masked) and masked.endswith(" i dag")


@pytest.mark.parametrize("text", ["4.500 – 5.000 kr.", "2022-2023", "tlf 12 34 56 78", "12345678901", "3208802020",
                                  "2013802020", "1.234.567.890", "O0004945"])
def test_numbers_that_are_not_cpr_are_left_alone(text):
    assert not cpr.contains(text) and cpr.mask(text) == text


def test_cpr_shaped_ids_and_numbers_are_quarantined_and_never_written(tmp_path, monkeypatch):
    from analysis.ingest.run import run_ingest

    monkeypatch.delenv(ENV_KEY, raising=False)
    monkeypatch.delenv(ENV_KEY_FILE, raising=False)
    raw = delivery(tmp_path / "raw")
    ophold = (raw / "ophold.csv").read_text(encoding="utf-8").replace("\nS1;", "\n200880 2020;")
    (raw / "ophold.csv").write_text(ophold, encoding="utf-8")
    anvisninger = (raw / "anvisninger.csv").read_text(encoding="utf-8").replace("\nA1;", "\n20.08.80-2020;")
    (raw / "anvisninger.csv").write_text(anvisninger, encoding="utf-8")
    boliger = (raw / "boliger.csv").read_text(encoding="utf-8").replace(";4.750,00;", ";2008802020;")  # a number
    (raw / "boliger.csv").write_text(boliger, encoding="utf-8")
    report = run_ingest(raw, tmp_path / "processed", row_rule_params())  # tiny fixtures: mostly bad rows
    assert report.extracts["ophold"].quarantined_by_rule.get("cpr_in_value") == 1
    assert report.extracts["anvisninger"].quarantined_by_rule.get("cpr_in_value") == 1
    assert report.extracts["boliger"].quarantined_by_rule.get("cpr_in_value") == 1
    planted = re.compile(r"20\D{0,3}08\D{0,3}80\D{0,3}2020")
    for path in (tmp_path / "processed").rglob("*"):
        if path.is_file():
            text = pd.read_parquet(path).to_csv() if path.suffix == ".parquet" else path.read_text(errors="replace")
            assert not planted.search(text), path


def test_cpr_shaped_column_name_stops_ingest_without_echoing_it(tmp_path, monkeypatch):
    from analysis.ingest.run import run_ingest

    monkeypatch.delenv(ENV_KEY, raising=False)
    raw = delivery(tmp_path / "raw")
    text = (raw / "ophold.csv").read_text(encoding="utf-8")
    (raw / "ophold.csv").write_text(text.replace("handlekommune", "handlekommune;200880-2020", 1), encoding="utf-8")
    with pytest.raises(SchemaError) as err:
        run_ingest(raw, tmp_path / "processed")
    assert "ophold.csv" in str(err.value) and "column(s) 8" in str(err.value) and not cpr.contains(str(err.value))


# ----- keys ----------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("key", [" ", "a", "x" * 31])
def test_short_keys_are_refused(tmp_path, monkeypatch, key):
    monkeypatch.setenv(ENV_KEY, key)
    with pytest.raises(PseudonymKeyError, match="at least 32"):
        load_key(tmp_path)


def test_the_demo_keys_value_is_refused_from_env_and_file(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_KEY, DEMO_KEY.decode())
    with pytest.raises(PseudonymKeyError, match="public demo key"):
        load_key(tmp_path)
    monkeypatch.delenv(ENV_KEY)
    key_file = tmp_path / "k.key"
    key_file.write_bytes(DEMO_KEY + b"\n")
    monkeypatch.setenv(ENV_KEY_FILE, str(key_file))
    with pytest.raises(PseudonymKeyError, match="public demo key"):
        load_key(tmp_path / "raw", project=tmp_path / "project")


def test_demo_key_refuses_real_looking_cprs_even_when_flagged_synthetic(tmp_path, monkeypatch):
    from analysis.ingest.run import run_ingest

    monkeypatch.delenv(ENV_KEY, raising=False)
    monkeypatch.delenv(ENV_KEY_FILE, raising=False)
    raw = delivery(tmp_path / "raw")  # udtraek.yml says syntetisk: true
    text = (raw / "ophold.csv").read_text(encoding="utf-8")
    (raw / "ophold.csv").write_text(text.replace("610190-1235", "010190-1235", 1), encoding="utf-8")
    with pytest.raises(PseudonymKeyError) as err:
        run_ingest(raw, tmp_path / "processed")
    assert "ophold.csv" in str(err.value) and "demo key" in str(err.value) and "010190" not in str(err.value)
    assert not (tmp_path / "processed" / "persons.parquet").exists()
    with pytest.raises(PseudonymKeyError):
        Pseudonymiser(DEMO_KEY, demo=True).person_ids(pd.Series(["3112901235"]))
    assert Pseudonymiser(DEMO_KEY, demo=True).person_ids(pd.Series(["6101901235"])).notna().all()


# ----- the disclosure floor ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("override", ["0", "-1", "4", "true", "5.5", "'10'", "null"])
def test_disclosure_floor_cannot_be_lowered(override):
    with pytest.raises(ParameterError, match="never set below 5"):
        load_params(overrides=[f"disclosure.min_count={override}"])


def test_disclosure_floor_can_be_raised_and_from_a_file_too(tmp_path):
    assert load_params(overrides=["disclosure.min_count=10"])["disclosure.min_count"] == 10
    file = tmp_path / "o.yml"
    file.write_text("disclosure:\n  min_count: 1\n")
    with pytest.raises(ParameterError, match="never set below"):
        load_params(override_files=[file])


def test_cli_lowering_the_floor_is_exit_2_with_the_reason(capsys, tmp_path):
    from analysis.cli import main

    raw = delivery(tmp_path / "raw")
    assert main(["run", "--raw-dir", str(raw), "--build-dir", str(tmp_path / "build"),
                 "--param", "disclosure.min_count=0"]) == 2
    assert "never set below 5" in capsys.readouterr().err


# ----- the checks: negative controls ---------------------------------------------------------------------------------

PAGE = '<!DOCTYPE html><html lang="da"><head><meta name="generator" content="pandoc"><title>t</title>{head}</head><body>{body}</body></html>'


@pytest.mark.parametrize("head, body, expected", [
    ("", '<img alt="a" src="http:host/x.png">', "<img src>"),
    ("", '<img alt="a" src="figures/x.png">', "<img src>"),
    ("", '<img alt="a" src="https:\\\\host\\x.png">', "<img src>"),
    ("", '<img alt="a" src="data:image/png;base64,AA" onerror="fetch(1)">', "event handler"),
    ("", '<a href="javascript:alert(1)">x</a>', "script URL"),
    ("", '<a href=" java\tscript:alert(1)">x</a>', "script URL"),
    ('<meta http-equiv="Refresh" content="0;url=http://x">', "", "meta http-equiv=refresh"),
    ("", "<script>alert(1)</script>", "<script> the renderer did not write"),
    ("", '<script src="data:text/javascript,alert(1)"></script>', "<script> the renderer did not write"),
    ("", '<img alt="a" srcset="data:image/png;base64,AA 1x, x.png 2x">', "x.png"),
    ("<style>body{background:url(bg.png)}</style>", "", "reference in <style>"),
    ("<style>@import 'x.css';</style>", "", "@import"),
    ("", '<p style="background:url(\'file:///etc/passwd\')">x</p>', "style attribute"),
    ("", '<iframe src="data:text/html,x"></iframe>', "<iframe> element"),
    ("", '<svg><a xlink:href="x.svg">x</a></svg>', "xlink:href"),
    ('<link rel="stylesheet" href="local.css">', "", "<link href>"),
    ('<base href="http:evil/">', "", "<base href>"),
    ('<link rel="stylesheet" href="data:text/css,%40import%20%27x.css%27%3B">', "", "embedded stylesheet"),
    ('<link rel="stylesheet" href="data:text/css;base64,Ym9keXtiYWNrZ3JvdW5kOnVybCh4LnBuZyl9">', "", "embedded stylesheet"),
])
def test_check_html_refuses_every_form_of_reference_and_script(head, body, expected):
    problems = "\n".join(trust_problems_html(PAGE.format(head=head, body=body)))
    assert expected in problems


def test_check_html_accepts_data_anchors_and_quartos_own_scripts():
    ok = PAGE.format(head='<style>.a{background:url(data:image/png;base64,AA)}</style>',
                     body='<a href="#spor-1">Spor 1</a><img alt="javascript: nævnt som tekst" src="data:image/png;base64,AA">')
    assert trust_problems_html(ok) == []
    quarto = ok.replace('content="pandoc"', 'content="quarto-1.7.32"').replace(
        "</body>", '<script src="data:application/javascript;base64,AA"></script>'
                   '<script id="quarto-html-after-body" type="application/javascript">1</script></body>')
    assert trust_problems_html(quarto) == []


def _docx(tmp_path: Path, rels: str = "", media: dict[str, bytes] | None = None) -> Path:
    path = tmp_path / "x.docx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("word/document.xml", '<w:document><w:lang w:val="da"/></w:document>')
        z.writestr("word/styles.xml", "<w:styles/>")
        z.writestr("word/_rels/document.xml.rels", f"<Relationships>{rels}</Relationships>")
        for name, data in (media or {}).items():
            z.writestr(f"word/media/{name}", data)
    return path


def test_check_docx_refuses_external_relationships_and_non_image_media(tmp_path):
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 10
    assert trust_problems_docx(_docx(tmp_path, media={"image1.png": png})) == []
    external = '<Relationship Id="r1" Type="http://x/hyperlink" Target="http://evil/" TargetMode="External"/>'
    assert "external relationship" in "\n".join(check_docx(_docx(tmp_path, rels=external)))
    key = {"image2.png": b"analysis-synthetic-demo-key"}
    assert "not a PNG, JPEG or GIF" in "\n".join(trust_problems_docx(_docx(tmp_path, media=key)))


# ----- a failed notebook's traceback -----------------------------------------------------------------------------

def test_a_cpr_quoted_by_a_failing_cell_is_masked_in_the_executed_notebook(tmp_path):
    from analysis import notebook_run
    from tests.test_notebook_run import notebook

    source = notebook(tmp_path / "in.ipynb", "raise ValueError('row 3 holds 200880 2020 and 21.09.80-2121')")
    executed = tmp_path / "out.ipynb"
    with pytest.raises(notebook_run.PapermillExecutionError):
        notebook_run.execute(source, executed, {"x": 1}, tmp_path, report=False)
    text = executed.read_text(encoding="utf-8")
    assert "row 3 holds" in text and cpr.MASK in text and not cpr.contains(text)


def test_a_pipeline_error_never_carries_a_cpr():
    from analysis.pipeline.errors import BadData

    assert str(BadData("failed: ophold.csv row 2 '200880-2020'")) == "failed: ophold.csv row 2 '<cpr>'"


def test_no_indentation_in_the_narrative_makes_a_code_block():
    text = "Intro\n\n- a\n\n        - dybt indrykket\n    - c\n1. x\n   - y\n\n        indrykket afsnit\n\t\tfaneblad"
    html = _html(escape.narrative(text))
    assert "<pre" not in html and "<code" not in html
    assert html.count("<ul>") == 3 and "<li>dybt indrykket</li>" in html and "<p>indrykket afsnit faneblad</p>" in html


@pytest.mark.parametrize("body", ["just text\n", "- a\n- b\n", "spor: 3\n", "spor:\n- nr: første\n  titel: x\n"])
def test_a_status_file_of_the_wrong_shape_is_refused(tmp_path, body):
    _status(tmp_path, body)
    with pytest.raises(NarrativeError, match="expected a mapping with 'spor'"):
        load_status(tmp_path, pd.Period("2023-02", "M"))


@pytest.mark.parametrize("body", ["spor: !!python/object/apply:os.system ['id']\n", "spor: [unclosed\n",
                                  "titel: \"200880-2020 \n"])
def test_unreadable_yaml_is_exit_4_and_quotes_nothing(tmp_path, body):
    path = _status(tmp_path, body)
    with pytest.raises(NarrativeError, match="not readable UTF-8 YAML") as err:
        check_status_file(path)
    assert "os.system" not in str(err.value) and not cpr.contains(str(err.value))
    (tmp_path / "status" / "2023-02.yml").write_bytes(b"spor: \xff\xfe\n")
    with pytest.raises(NarrativeError, match="not readable UTF-8 YAML"):
        check_status_file(path)
