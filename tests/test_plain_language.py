"""The scan for developer words in rendered reports (the end-to-end test runs it on the real reports)."""
import zipfile

from analysis.report import plain_language as pl


def test_findings_catch_identifiers_keys_files_issue_refs_and_english():
    ids = pl.package_identifiers()
    text = ("Se day_rates.s107_per_day i domain-facts.md (Issue 6): scenariet baseline og low_housing med fast "
            "seed i en stock-and-flow-model; arrears_median.")
    assert pl.findings(text, ids) == sorted({"day_rates.s107_per_day", "day_rates", "s107_per_day", "domain-facts.md",
                                             "Issue", "baseline", "low_housing", "seed", "stock-and-flow",
                                             "arrears_median"})


def test_plain_danish_passes():
    text = ("Borgere på herberg ved udgangen af oktober 2026: 421 (▼ 10). Reformscenariet giver 304 pladser; "
            "CTI, ICM og ACT er Housing First-metoder. Boliger til 4.500–5.000 kr. Modellen ramte 8 % ved siden af.")
    assert pl.findings(text, pl.package_identifiers()) == []


def test_dictionary_holds_code_words_not_danish_category_names():
    ids = pl.package_identifiers()
    assert {"persons_in_shelter", "forecast.horizon_end", "baseline", "housing_supply_factor"} <= ids
    assert not {"boliger", "selvejende", "reform", "ingen"} & ids


def test_html_text_reads_alt_texts_and_skips_scripts(tmp_path):
    page = tmp_path / "r.html"
    page.write_text('<html><body><p>Tekst</p><img alt="kurve for arrears_share"><script>var x_y = 1;</script>'
                    "<style>.a_b{}</style></body></html>", encoding="utf-8")
    text = pl.html_text(page)
    assert "arrears_share" in text and "x_y" not in text and "a_b" not in text


def test_docx_text_reads_body_and_the_alt_text_word_shows(tmp_path):
    doc = tmp_path / "m.docx"
    with zipfile.ZipFile(doc, "w") as zf:
        zf.writestr("word/document.xml", '<w:body><w:p><w:r><w:t>Status pr. februar</w:t></w:r></w:p>'
                    '<wp:docPr id="1" descr="Kurve over boliger"/><pic:cNvPr descr="figures/spor1_boliger.png"/></w:body>')
    text = pl.docx_text(doc)
    assert "Status pr. februar" in text and "Kurve over boliger" in text and "spor1_boliger" not in text
