"""Other tools' response logs -> (key, response, where) rows, for `vold score`.

Three formats, picked by `--format` or by content:
- `vold`: JSONL, {"id": ..., "response": ...} per line (also a `vold eval` samples.jsonl).
- `lmms`: an lmms-eval samples JSONL, {"doc_id": ..., "filtered_resps" | "resps": ...}. doc_id
  is the document's position in the split, not its id; our own exports also carry `vold.id`,
  which is used when present.
- `vlmeval`: a VLMEvalKit prediction file, .tsv or .xlsx with columns `index` and `prediction`.

A row that cannot be read is an error that names the file, the line and the key: a log that is
half-understood would be scored as if the model had answered less, which is worse than stopping.
"""
from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from vold_bench.errors import VoldError, json_object

FORMATS = ("vold", "lmms", "vlmeval")


@dataclass(frozen=True)
class Row:
    key: str          # an item id, or a position in the split when `positional`
    response: str
    where: str        # "file line N", for messages
    positional: bool = False


def detect_format(path: Path) -> str:
    if path.suffix.lower() in (".tsv", ".xlsx", ".xls", ".csv"):
        return "vlmeval"
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as e:
                raise VoldError(f"{path} line {n}: not valid JSON ({e.msg})") from None
            if isinstance(rec, dict) and "doc_id" in rec:
                return "lmms"
            if isinstance(rec, dict) and "id" in rec:
                return "vold"
            raise VoldError(f"{path} line {n}: cannot tell the format (no 'id' nor 'doc_id' key); "
                            f"pass --format {'|'.join(FORMATS)}")
    raise VoldError(f"{path}: empty file")


def read_rows(path: Path, fmt: str | None = None) -> tuple[str, list[Row], int]:
    """(format, rows, lines read). Lines read counts every non-empty record line."""
    fmt = fmt or detect_format(path)
    if fmt not in FORMATS:
        raise VoldError(f"--format {fmt}: unknown; valid: {', '.join(FORMATS)}")
    if fmt == "vlmeval":
        rows = _vlmeval_rows(path)
    else:
        rows = list(_jsonl_rows(path, _vold_row if fmt == "vold" else _lmms_row))
    return fmt, rows, len(rows)


def _jsonl_rows(path: Path, convert):
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            where = f"{path} line {n}"
            yield convert(json_object(line, where), where)


def _need(rec: dict, key: str, where: str, fmt: str):
    if key not in rec:
        raise VoldError(f"{where}: missing key {key!r} (reading it as {fmt} format; "
                        f"keys here: {', '.join(list(rec)[:8])})")
    return rec[key]


def _vold_row(rec: dict, where: str) -> Row:
    rid = _need(rec, "id", where, "vold")
    resp = _need(rec, "response", where, "vold")
    if not isinstance(resp, str):
        raise VoldError(f"{where}: key 'response' is {type(resp).__name__}, not a string")
    return Row(str(rid), resp, where)


def _first_text(value, where: str, key: str) -> str:
    """lmms-eval nests responses: filtered_resps is ["text"] (one per filter), resps is
    [["text"]] (one list per request); a single string is accepted too."""
    while isinstance(value, list):
        if not value:
            return ""
        value = value[0]
    if value is None:
        return ""
    if not isinstance(value, str):
        raise VoldError(f"{where}: key {key!r} holds {type(value).__name__}, not text")
    return value


def _lmms_row(rec: dict, where: str) -> Row:
    doc_id = _need(rec, "doc_id", where, "lmms")
    key = "filtered_resps" if "filtered_resps" in rec else "resps"
    text = _first_text(_need(rec, key, where, "lmms"), where, key)
    vold_id = (rec.get("vold") or {}).get("id") if isinstance(rec.get("vold"), dict) else None
    if vold_id is not None:
        return Row(str(vold_id), text, where)
    try:
        pos = int(doc_id)
    except (TypeError, ValueError):
        raise VoldError(f"{where}: key 'doc_id' is {doc_id!r}, not a position") from None
    return Row(str(pos), text, where, positional=True)


def _norm_index(v) -> str:
    # Spreadsheets turn 12 into 12.0; ids are compared as text.
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def _vlmeval_rows(path: Path) -> list[Row]:
    if path.suffix.lower() in (".xlsx", ".xls"):
        header, records = _xlsx_table(path)
    else:
        with open(path, encoding="utf-8", newline="") as f:
            reader = csv.reader(f, delimiter="," if path.suffix.lower() == ".csv" else "\t")
            # a quoted prediction may span lines: name the line its record starts on
            table, end = [], 0
            for r in reader:
                table.append((end + 1, r))
                end = reader.line_num
        if not table:
            raise VoldError(f"{path}: empty file")
        header, records = table[0][1], table[1:]
    for col in ("index", "prediction"):
        if col not in header:
            raise VoldError(f"{path} line 1: missing column {col!r} (a VLMEvalKit prediction file "
                            f"has 'index' and 'prediction'; columns here: {', '.join(map(str, header[:10]))})")
    i_idx, i_pred = header.index("index"), header.index("prediction")
    rows = []
    for line, r in records:
        if not any(str(c).strip() for c in r if c is not None):
            continue
        where = f"{path} line {line}"
        if len(r) <= max(i_idx, i_pred) or r[i_idx] in (None, ""):
            raise VoldError(f"{where}: missing key 'index'")
        pred = r[i_pred]
        rows.append(Row(_norm_index(r[i_idx]), "" if pred is None else str(pred), where))
    return rows


def _xlsx_table(path: Path):
    try:
        import openpyxl
    except ImportError:
        raise VoldError(f"{path}: reading .xlsx needs openpyxl (pip install openpyxl), "
                        f"or save the sheet as .tsv") from None
    ws = openpyxl.load_workbook(path, read_only=True, data_only=True).active
    values = list(ws.iter_rows(values_only=True))
    if not values:
        raise VoldError(f"{path}: empty sheet")
    header = [str(h) if h is not None else "" for h in values[0]]
    return header, [(n, list(r)) for n, r in enumerate(values[1:], 2)]
