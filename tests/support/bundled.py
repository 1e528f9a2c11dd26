"""The data set model_api ships, as the tests read it: its path, rows, frame and slices."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import model_api
import pandas as pd
from model_api.datasets.store import BUNDLED_NAME, bundled_csv

BUNDLED_CSV = Path(model_api.__file__).parent / "data" / BUNDLED_NAME


def bundled_rows() -> list[dict[str, Any]]:
    """The rows as the API serves them: the label a string, ``soil_type`` an int, others floats."""
    with BUNDLED_CSV.open(newline="") as handle:
        return [
            {
                k: (v if k == "species" else (int(v) if k == "soil_type" else float(v)))
                for k, v in row.items()
            }
            for row in csv.DictReader(handle)
        ]


def bundled_frame() -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(bundled_csv()))


def sample_csv(rows_per_class: int, seed: int = 0) -> str:
    """A small, balanced slice of the bundled data set as CSV text."""
    df = bundled_frame()
    parts = [g.sample(rows_per_class, random_state=seed) for _, g in df.groupby("species")]
    return pd.concat(parts).to_csv(index=False)


def cycled_csv(rows: int) -> str:
    """The bundled data set's rows, cycled to ``rows`` rows, as CSV text."""
    with BUNDLED_CSV.open(newline="") as fh:
        data = list(csv.reader(fh))
    header, body = data[0], data[1:]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(body[i % len(body)] for i in range(rows))
    return out.getvalue()
