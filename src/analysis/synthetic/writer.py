"""Writing extracts the way Danish Excel and the source systems do.

CSV: `;` separator, decimal comma, CRLF line ends, the encoding of the file's
style (quality.STYLES). XLSX: first sheet, real date and number cells, fixed
workbook properties and zip timestamps so that equal data give equal bytes.
"""
from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from openpyxl import Workbook

from analysis.synthetic.quality import FileStyle
from analysis.synthetic.timeline import NA_DAY

FIXED_TIME = dt.datetime(2023, 1, 1, 0, 0, 0)
_ZIP_TIME = (2023, 1, 1, 0, 0, 0)


def dates(rng: np.random.Generator, days: np.ndarray, style: FileStyle) -> np.ndarray:
    """Day numbers as text in the file's main form, a share in the other form; NA → empty."""
    days = np.asarray(days, dtype=np.int64)
    iso = pd.Series(np.datetime_as_string(days.astype("datetime64[D]")), dtype=object)
    dmy = iso.str[8:10] + "-" + iso.str[5:7] + "-" + iso.str[0:4]
    main, other = (dmy, iso) if style.dates == "dmy" else (iso, dmy)
    out = np.where(rng.random(len(days)) < style.other_dates, other, main).astype(object)
    out[days == NA_DAY] = ""
    return out


def money(rng: np.random.Generator, values: np.ndarray, style: FileStyle) -> np.ndarray:
    """Kroner with two decimals and a decimal comma (``4750,00``); a share with thousands dots (``4.750,00``)."""
    values = np.asarray(values, dtype=float)
    missing = np.isnan(values)
    cents = np.round(np.nan_to_num(values) * 100).astype(np.int64)
    sign = np.where(cents < 0, "-", "")
    whole, frac = np.abs(cents) // 100, np.abs(cents) % 100
    plain = pd.Series(whole).astype(str)
    grouped = plain.copy()
    big = whole >= 1000
    grouped[big] = (pd.Series(whole[big] // 1000).astype(str) + "." + pd.Series(whole[big] % 1000).astype(str).str.zfill(3)).to_numpy()
    body = np.where(rng.random(len(values)) < style.thousands, grouped, plain)
    out = (pd.Series(sign) + body + "," + pd.Series(frac).astype(str).str.zfill(2)).to_numpy(dtype=object)
    out[missing] = ""
    return out


def write_csv(path: Path, frame: pd.DataFrame, style: FileStyle) -> None:
    frame.to_csv(path, sep=";", index=False, encoding=style.encoding, lineterminator="\r\n")


def _normalise_zip(raw: bytes) -> bytes:
    """Rewrite an xlsx with fixed entry timestamps and fixed document dates."""
    out = io.BytesIO()
    stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ")
    with zipfile.ZipFile(io.BytesIO(raw)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(created|modified)[^>]*>)[^<]*", rb"\g<1>" + stamp.encode(), data)
            dst.writestr(zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME), data, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def write_xlsx(path: Path, frame: pd.DataFrame, date_columns: tuple[str, ...], sheet: str) -> None:
    """First sheet with a header row; date columns as Excel dates, NaN as empty cells."""
    wb = Workbook(write_only=True)
    wb.properties.creator = "analysis.synthetic"
    wb.properties.created = wb.properties.modified = FIXED_TIME
    ws = wb.create_sheet(sheet)
    ws.append(list(frame.columns))
    cols = []
    for c in frame.columns:
        v = frame[c].to_numpy()
        if c in date_columns:
            v = np.array([None if d == NA_DAY else dt.date(1970, 1, 1) + dt.timedelta(days=int(d)) for d in v], dtype=object)
        elif v.dtype.kind == "f":
            v = np.where(np.isnan(v), None, v.astype(object))
        else:
            v = v.astype(object)
        cols.append(v)
    for row in zip(*cols):
        ws.append([x.item() if isinstance(x, np.generic) else x for x in row])
    buf = io.BytesIO()
    wb.save(buf)
    path.write_bytes(_normalise_zip(buf.getvalue()))


class _BlockDumper(yaml.SafeDumper):
    """Multi-line texts as literal blocks, so the analysts can read and edit the narratives."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


_BlockDumper.add_representer(str, _text)


def write_yaml(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.dump(data, Dumper=_BlockDumper, allow_unicode=True, sort_keys=False, width=110), encoding="utf-8")
