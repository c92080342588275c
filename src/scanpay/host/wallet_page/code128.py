"""A small Code 128 encoder that draws SVG (pure: no I/O).

The wallet page shows the payment code as a barcode beside its QR code, as
wallet apps do, so a till's scanner gun can read it. Digits use code set C
(two digits per symbol, the shortest bars); anything else printable uses set B.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

__all__ = ["Code128Error", "encode", "modules", "svg"]

# Bar and space widths of symbols 0-105 (bar first), then the stop symbol with its
# final bar. ISO/IEC 15417, table 1.
_WIDTHS = (
    "212222",
    "222122",
    "222221",
    "121223",
    "121322",
    "131222",
    "122213",
    "122312",
    "132212",
    "221213",
    "221312",
    "231212",
    "112232",
    "122132",
    "122231",
    "113222",
    "123122",
    "123221",
    "223211",
    "221132",
    "221231",
    "213212",
    "223112",
    "312131",
    "311222",
    "321122",
    "321221",
    "312212",
    "322112",
    "322211",
    "212123",
    "212321",
    "232121",
    "111323",
    "131123",
    "131321",
    "112313",
    "132113",
    "132311",
    "211313",
    "231113",
    "231311",
    "112133",
    "112331",
    "132131",
    "113123",
    "113321",
    "133121",
    "313121",
    "211331",
    "231131",
    "213113",
    "213311",
    "213131",
    "311123",
    "311321",
    "331121",
    "312113",
    "312311",
    "332111",
    "314111",
    "221411",
    "431111",
    "111224",
    "111422",
    "121124",
    "121421",
    "141122",
    "141221",
    "112214",
    "112412",
    "122114",
    "122411",
    "142112",
    "142211",
    "241211",
    "221114",
    "413111",
    "241112",
    "134111",
    "111242",
    "121142",
    "121241",
    "114212",
    "124112",
    "124211",
    "411212",
    "421112",
    "421211",
    "212141",
    "214121",
    "412121",
    "111143",
    "111341",
    "131141",
    "114113",
    "114311",
    "411113",
    "411311",
    "113141",
    "114131",
    "311141",
    "411131",
    "211412",
    "211214",
    "211232",
)
_STOP = "2331112"
_START_B, _START_C, _CODE_B, _CODE_C = 104, 105, 100, 99
QUIET = 10
"""Modules of quiet zone on each side."""


class Code128Error(ValueError):
    """The text cannot be written in Code 128 sets B and C (not printable ASCII)."""


def encode(text: str) -> list[int]:
    """The symbol values for ``text``: start, data, check symbol (no stop).

    Runs of four or more digits (or a text of only digits, even length) go in
    set C, the rest in set B.
    """
    if not text:
        raise Code128Error("nothing to encode")
    if any(not (32 <= ord(ch) <= 126) for ch in text):
        raise Code128Error("Code 128 B/C carries printable ASCII only")
    values: list[int] = []
    i = 0
    current: str | None = None
    while i < len(text):
        run = 0
        while i + run < len(text) and text[i + run].isdigit():
            run += 1
        use_c = run >= 4 or (run == len(text) and run % 2 == 0 and run >= 2)
        if use_c:
            pairs = run - run % 2
            if current != "C":
                values.append(_START_C if current is None else _CODE_C)
                current = "C"
            for j in range(i, i + pairs, 2):
                values.append(int(text[j : j + 2]))
            i += pairs
            continue
        if current != "B":
            values.append(_START_B if current is None else _CODE_B)
            current = "B"
        values.append(ord(text[i]) - 32)
        i += 1
    check = (values[0] + sum(pos * v for pos, v in enumerate(values[1:], start=1))) % 103
    values.append(check)
    return values


def modules(text: str) -> str:
    """``text`` as a row of modules, ``1`` bar and ``0`` space, quiet zones included."""
    row = ["0" * QUIET]
    for widths in [_WIDTHS[v] for v in encode(text)] + [_STOP]:
        for k, width in enumerate(widths):
            row.append(("1" if k % 2 == 0 else "0") * int(width))
    row.append("0" * QUIET)
    return "".join(row)


def svg(text: str, *, module: int = 2, height: int = 70, label: bool = False) -> str:
    """An SVG drawing of the barcode (black bars on white), ``module`` px per module.

    ``label`` prints ``text`` under the bars; leave it off for a one-time code
    that should not be read over the customer's shoulder more easily than needed.
    """
    row = modules(text)
    text_height = 18 if label else 0
    width = len(row) * module
    bars = []
    x = 0
    while x < len(row):
        if row[x] == "1":
            start = x
            while x < len(row) and row[x] == "1":
                x += 1
            bars.append(
                f'<rect x="{start * module}" y="0" width="{(x - start) * module}" '
                f'height="{height}"/>'
            )
        else:
            x += 1
    caption = (
        f'<text x="{width / 2}" y="{height + 15}" text-anchor="middle" '
        f'font-family="monospace" font-size="14">{escape(text)}</text>'
        if label
        else ""
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + text_height}" '
        f'viewBox="0 0 {width} {height + text_height}" shape-rendering="crispEdges">'
        f'<rect width="100%" height="100%" fill="#fff"/><g fill="#000">{"".join(bars)}</g>'
        f"{caption}</svg>"
    )
