"""Free-text labels as source systems type them, with the category each means.

This is the single place that ties a base label to its data-contract §3
category; the cleaning step's mapping file is written independently from the
same list, so keep the two in step. Noise (case, spacing, a trailing full stop,
the documented typos) is added by ``analysis.synthetic.quality``.
"""
from __future__ import annotations

DISCHARGE_LABELS: dict[str, tuple[str, ...]] = {
    "egen_bolig": ("Egen bolig", "Egen lejlighed", "Almen bolig"),
    "udslusningsbolig": ("Udslusningsbolig",),
    "skaev_bolig": ("Skæv bolig", "Skæve boliger"),
    "botilbud": ("Botilbud §107", "Botilbud §108", "Botilbud"),
    "andet_herberg": ("Andet herberg", "Overflyttet til andet herberg", "Forsorgshjem"),
    "familie_venner": ("Familie/venner", "Bor hos familie", "Hos venner"),
    "behandling": ("Hospital", "Psykiatrisk indlæggelse", "Misbrugsbehandling", "Behandlingstilbud"),
    "faengsel": ("Fængsel", "Varetægt"),
    "doed": ("Død", "Afgået ved døden"),
    "gaden": ("Gaden", "Udeliv"),
    "ukendt": ("Ukendt", "Ikke oplyst", ""),
    "andet": ("Andet", "Udrejst"),
}

MOVEOUT_LABELS: dict[str, tuple[str, ...]] = {
    "udsaettelse": ("Udsættelse", "Fogedudsættelse"),
    "frivillig": ("Frivillig fraflytning", "Opsagt af lejer"),
    "anden_bolig": ("Anden bolig", "Flyttet til anden lejlighed"),
    "botilbud": ("Botilbud",),
    "institution": ("Hospital", "Fængsel", "Plejehjem"),
    "doed": ("Død", "Dødsfald"),
    "ukendt": ("Ukendt", ""),
}

# Misspellings seen in real shelter systems; each maps to its base label's category.
TYPOS: dict[str, str] = {
    "Egen bolig": "Egen bollig",
    "Fængsel": "Fængsl",
    "Misbrugsbehandling": "Misbrugsbehandlig",
    "Udsættelse": "Udsætelse",
}
