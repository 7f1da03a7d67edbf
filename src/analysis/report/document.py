"""What every report shares around its sections: the title with its month and the link to the technical appendix."""
from __future__ import annotations

import json

import pandas as pd

from analysis.base import fmt

APPENDIX_FILE = "technical_appendix.html"  # the technical appendix step's output, published beside the reports


def title_block(month: pd.Period, title: str) -> str:
    """A metadata block that gives the document its title with the month ("… pr. februar 2023").

    The front matter cannot know the month; pandoc lets a later metadata block
    override the title, so a report names its month in the title, the browser tab and the docx.
    """
    text = f"{title} pr. {fmt.period(month)}"
    return f"---\ntitle: {json.dumps(text, ensure_ascii=False)}\n---\n"


def appendix_link(file_name: str = APPENDIX_FILE) -> str:
    """The colophon's pointer to the technical appendix (indicator catalogue, parameters, method notes)."""
    return (f"Indikatorernes præcise definitioner, alle parametre med kilder, datakvaliteten og metodenoterne står i "
            f"det tekniske bilag: [Teknisk bilag]({file_name}) (ligger i samme mappe som denne fil).\n")
