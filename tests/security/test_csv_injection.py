"""CSV injection past the first character: a formula behind blanks, or in full width.

Spreadsheet programs skip leading blanks (a space, a no-break space, a byte-order
mark) before they decide a cell is a formula, and read the full-width ``＝ ＋ － ＠`` that
a Chinese keyboard types as ``= + - @``. The export's guard (:func:`csv_safe`) looked
only at the first character. A property test over generated text, and the real
export on SQLite and PostgreSQL: every such cell leaves with a leading apostrophe,
and nothing else of the text changes. The XLSX export writes typed string cells,
which no spreadsheet evaluates: the same text is there verbatim, never as a formula.
"""

from __future__ import annotations

import csv
import io
import re
import sys
import unicodedata
from collections.abc import Callable

import openpyxl
from hypothesis import given, settings
from hypothesis import strategies as st

from host.kit import RunningHost, make_world
from host.portal.portal_kit import add_user, logged_in
from scanpay.host.portal.rows import csv_safe


def _chars(keep: Callable[[str], bool]) -> str:
    return "".join(chr(c) for c in range(sys.maxunicode + 1) if keep(chr(c)))


def _trigger(c: str) -> bool:
    if c in ("=", "+", "-", "@", "\u2212"):
        return True
    normal = unicodedata.normalize("NFKC", c) if unicodedata.decomposition(c) else ""
    return normal[:1] in ("=", "+", "-", "@")


#: Every character a spreadsheet may skip before the first one it reads: Unicode
#: whitespace and separators, control and format characters (BOM, zero-width space...).
BLANKS = _chars(lambda c: c.isspace() or unicodedata.category(c) in ("Cc", "Cf", "Zs"))
#: Every character that reads as ``= + - @`` once normalised (full width, small forms,
#: super- and subscripts), and the minus sign U+2212.
TRIGGERS = _chars(_trigger)


def _evaluated(cell: str) -> bool:
    """Whether a spreadsheet would run ``cell`` (the test's own reading of the rule)."""
    if cell[:1] in ("\t", "\r"):  # OWASP: tab and carriage return too
        return True
    rest = cell.lstrip(BLANKS)
    return rest != "" and rest[0] in TRIGGERS


#: What the guard must catch: any run of blanks, then a trigger, then anything.
hazards = st.builds(
    lambda blanks, trigger, rest: blanks + trigger + rest,
    st.text(alphabet=st.sampled_from(BLANKS), max_size=4),
    st.sampled_from(TRIGGERS),
    st.text(max_size=20),
)


def test_the_alphabets_hold_what_the_issue_names() -> None:
    assert set(" \u00a0\ufeff\u3000\u200b\t\r\n") <= set(BLANKS)
    assert set("=+-@\uff1d\uff0b\uff0d\uff20\ufe66\u2212") <= set(TRIGGERS)


@settings(max_examples=400, derandomize=True, deadline=None)
@given(hazards)
def test_a_formula_behind_blanks_or_in_full_width_gets_the_apostrophe(text: str) -> None:
    assert csv_safe(text) == "'" + text


@settings(max_examples=400, derandomize=True, deadline=None)
@given(st.one_of(st.text(max_size=30), hazards))
def test_the_guard_only_ever_adds_an_apostrophe_and_leaves_nothing_evaluated(text: str) -> None:
    safe = csv_safe(text)
    assert safe in (text, "'" + text)
    assert not _evaluated(safe)
    if not _evaluated(text):  # plain text (trade numbers, names) is left as it is
        assert safe == text


#: Descriptions a terminal may send that spreadsheets evaluated through the old guard.
DISGUISED = [
    ' =HYPERLINK("http://evil.example/","x")',
    "\u00a0=1+1",
    "\ufeff@SUM(1+1)",
    "\u3000+1+1",
    "\uff1d1+1",
    "\uff0bcmd",
    "\uff0d1+1",
    "\uff20SUM(A1)",
    "\t=1+1",
    "\r=1+1",
]


_OOXML_ESCAPE = re.compile(r"_x([0-9A-F]{4})_")


def test_the_exports_hand_disguised_formulas_over_as_text(host: RunningHost) -> None:
    world = make_world(host)
    for index, description in enumerate(DISGUISED):
        world.pay(f"CSVINJ-{index}", 100 + index, description=description)
    owner = logged_in(host, add_user(host, "owner", world.merchant_id))
    try:
        exported = owner.get("/portal/transactions/export.csv")
        assert exported.status_code == 200, exported.text[:300]
        rows = {
            r["out_trade_no"]: r
            for r in csv.DictReader(io.StringIO(exported.text.lstrip("\ufeff"), newline=""))
        }
        for index, description in enumerate(DISGUISED):
            cell = rows[f"CSVINJ-{index}"]["description"]
            assert cell == "'" + description, (description, cell)
        xlsx = owner.get("/portal/transactions/export.xlsx")
        assert xlsx.status_code == 200
        sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
        assert sheet is not None
        header = [cell.value for cell in sheet[1]]
        trade, text = header.index("Trade number"), header.index("Description")
        found = {}
        for row in sheet.iter_rows(min_row=2):
            assert all(cell.data_type != "f" for cell in row)  # no formula cell at all
            # OOXML writes control characters as _xHHHH_; openpyxl reads them back so.
            value = _OOXML_ESCAPE.sub(lambda m: chr(int(m[1], 16)), row[text].value or "")
            found[row[trade].value] = (value, row[text].data_type)
        for index, description in enumerate(DISGUISED):
            assert found[f"CSVINJ-{index}"] == (description, "s"), description
    finally:
        owner.close()
