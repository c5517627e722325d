"""Checks the DOM Chromium rendered from an HTML report against the JSON of
the same run (see tests/browser_check.sh). Standard library only.

Usage: python3 tests/browser_content.py RESULTS.json DOM.html CONFIG
"""
import json
import math
import re
import sys
from html.parser import HTMLParser

MINUS = "\u2212"


def money(x):
    """The report's money format (src/output/mod.rs `money`)."""
    a = abs(x)
    if a >= 1e6:
        body = f"£{a / 1e6:.2f}m"
    elif a >= 1e4:
        body = f"£{a / 1e3:.0f}k"
    elif a >= 999.5:
        w = math.floor(a + 0.5)
        body = f"£{w // 1000},{w % 1000:03d}"
    else:
        body = f"£{a:.0f}"
    if x < 0 and any(c in "123456789" for c in body):
        return MINUS + body
    return body


def percent(p):
    return f"{p * 100:.1f}%"


def probability_with_error(o):
    lo, hi = o.get("probability_lo"), o.get("probability_hi")
    if lo is None or hi is None:
        return percent(o["probability"])
    p = o["probability"]
    half = max(p - lo, hi - p, 0.0)
    return f"{percent(p)} ±{half * 100:.1f}"


def year_label(y):
    return f"{y['fy']} ({y['months']} months)" if y["partial"] else y["fy"]


class Dom(HTMLParser):
    """Collects headline tables (rows of cell texts), paragraphs with the
    class budget-note, the horizon table's text and every SVG's text."""

    def __init__(self):
        super().__init__()
        self.tables = {}  # scenario id -> rows
        self.notes = []
        self.svgs = []
        self.horizon = ""
        self.stack = []
        self.table = None
        self.row = None
        self.cell = None
        self.note = None
        self.svg_depth = 0
        self.in_horizon = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        if tag == "table" and "headline" in classes:
            self.table = self.tables.setdefault(a.get("data-scenario"), [])
        if tag == "table" and "horizon" in classes:
            self.in_horizon = True
        if tag == "tr" and self.table is not None:
            self.row = []
        if tag in ("td", "th") and self.row is not None:
            self.cell = ""
        if tag == "br" and self.cell is not None:
            self.cell += " "
        if tag == "p" and "budget-note" in classes:
            self.note = ""
        if tag == "svg":
            if self.svg_depth == 0:
                self.svgs.append("")
            self.svg_depth += 1

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None:
            self.row.append(" ".join(self.cell.split()))
            self.cell = None
        if tag == "tr" and self.row is not None:
            self.table.append(self.row)
            self.row = None
        if tag == "table":
            self.table = None
            self.in_horizon = False
        if tag == "p" and self.note is not None:
            self.notes.append(" ".join(self.note.split()))
            self.note = None
        if tag == "svg":
            self.svg_depth -= 1

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data
        if self.note is not None:
            self.note += data
        if self.svg_depth > 0:
            self.svgs[-1] += data + " "
        if self.in_horizon:
            self.horizon += data


def whole(x):
    """A count as the reports print it: rounded half away from zero (Python's
    round and format round halves to even)."""
    r = math.floor(abs(x))
    r = r + 1 if abs(x) - r >= 0.5 else r
    return f"{'−' if x < 0 and r else ''}{r}"


def fail(msg):
    sys.exit(f"browser check ({sys.argv[3]}): {msg}")


def main():
    results = json.load(open(sys.argv[1], encoding="utf-8"))
    dom = Dom()
    dom.feed(open(sys.argv[2], encoding="utf-8").read())
    central = results["mode"] == "central"
    has_budget = any(y.get("budget") is not None for sc in results["scenarios"] for y in sc["years"])
    checked = 0
    for sc in results["scenarios"]:
        rows = dom.tables.get(sc["id"])
        if not rows:
            fail(f"no headline table for scenario {sc['id']}")
        children = any(l["kind"] == "placement" for l in sc["lines"].values())
        header, body = rows[0], rows[1:]
        if len(body) != len(sc["years"]):
            fail(f"{sc['id']}: {len(body)} rows in the headline table, {len(sc['years'])} years in the JSON")
        for y, row in zip(sc["years"], body):
            dash = "–"
            over = y.get("overspend")
            want = [
                year_label(y),
                money(y["budget"]) if y.get("budget") is not None else dash,
                money(y["cost"]["mean"]),
                money(y["cost"]["p10"]),
                money(y["cost"]["p50"]),
                money(y["cost"]["p90"]),
                probability_with_error(over) if over else dash,
                money(over["mean"]) if over else dash,
            ]
            if children:
                end = y["lac_end"]
                want.append(" / ".join(whole(end[k]) for k in ("p10", "p50", "p90")))
            if central:
                fail("the check covers risk runs only")
            if row != want:
                fail(f"{sc['id']} {y['fy']}: the table reads {row}, the JSON gives {want}")
            checked += 1
        if any("children" in h.lower() for h in header) != children:
            fail(f"{sc['id']}: a children column {'missing' if children else 'shown without children'}")
    notes = " ".join(dom.notes)
    if has_budget and ("has no budget" in notes or "against its budget" not in notes):
        fail(f"the config has a budget but the headline says: {notes!r}")
    if not has_budget and "The config has no budget" not in notes:
        fail(f"the config has no budget but the headline says: {notes!r}")
    for d in results["differences"]:
        if money(d["horizon"]["saving"]["mean"]) not in dom.horizon:
            fail(f"the whole-horizon saving of {d['from']} → {d['to']} is not in the headline")
        if percent(d["horizon"]["probability_pays_back"]) not in dom.horizon:
            fail(f"whether {d['to']} pays back is not in the headline")
    if not dom.svgs:
        fail("no charts")
    for text in dom.svgs:
        if "NaN" in text or "inf" in text.split():
            fail(f"a chart contains NaN or inf: {text[:200]!r}")
        if re.search(r"[-\u2212]£0(?![\d.,])", text):
            fail(f"a chart contains a signed zero: {text[:300]!r}")
    has_children = any(
        l["kind"] == "placement" for sc in results["scenarios"] for l in sc["lines"].values()
    )
    fans = [t for t in dom.svgs if t.lstrip().startswith("Children in care")]
    if not has_children and fans:
        fail("a money-only config draws children-in-care charts")
    if has_children and not fans:
        fail("no children-in-care chart")
    print(
        f"browser check ({sys.argv[3]}): {checked} headline rows equal the JSON, "
        f"{len(dom.svgs)} charts, budget sentence {'with' if has_budget else 'without'} a budget"
    )


main()
