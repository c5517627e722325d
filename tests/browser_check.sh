#!/usr/bin/env bash
# Browser check of the HTML report: renders reports in headless Chromium
# (Debian's `chromium` package, installed here when it is missing; needs root
# and Debian's package mirror) and checks what a reader sees.
#
# 1. The built-in example renders to a PNG that is not blank.
# 2. For three configs — the example (budget, children), BCP 2023 (money
#    only, with a budget) and a small test config stripped of its budget — the rendered
#    DOM (`--dump-dom`, after Chromium has laid the page out) is compared
#    with the JSON of the same run: every cell of every headline table equals
#    the JSON's figure as the report formats it, the budget sentence matches
#    whether the config has a budget, the whole-horizon saving is shown for
#    every comparison, a money-only config draws no children-in-care chart,
#    and no chart contains "NaN" or a signed zero ("-£0", "−£0").
#
# Usage: bash tests/browser_check.sh   (CARECAST_BIN may name a built binary;
# KEEP_PNG=FILE keeps the screenshot for a person to look at.)
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/bin/chromium ]; then
    apt-get update
    apt-get install -y chromium
fi
command -v python3 >/dev/null 2>&1 || { apt-get update && apt-get install -y python3; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ -z "${CARECAST_BIN:-}" ]; then
    cargo build --quiet --bin carecast
    CARECAST_BIN=target/debug/carecast
fi
"$CARECAST_BIN" run --runs 500 --seed 7 --quiet --html "$work/report.html"

status=0
timeout 300 /usr/bin/chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$work/profile" --screenshot="$work/report.png" --window-size=1240,1754 \
    "file://$work/report.html" >"$work/chromium.log" 2>&1 || status=$?
if [ "$status" -ne 0 ]; then
    echo "browser check: chromium exited with status $status" >&2
    cat "$work/chromium.log" >&2
    exit 1
fi
if [ ! -s "$work/report.png" ]; then
    echo "browser check: chromium wrote no screenshot" >&2
    cat "$work/chromium.log" >&2
    exit 1
fi
if [ -n "${KEEP_PNG:-}" ]; then
    cp "$work/report.png" "$KEEP_PNG"
fi

# Decode the PNG with the standard library only and look at its pixels.
python3 - "$work/report.png" <<'PY'
import struct, sys, zlib
from collections import Counter

data = open(sys.argv[1], "rb").read()
if data[:8] != b"\x89PNG\r\n\x1a\n":
    sys.exit("browser check: the screenshot is not a PNG")
pos, idat = 8, b""
while pos < len(data):
    (length,) = struct.unpack(">I", data[pos:pos + 4])
    kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
    pos += 12 + length
    if kind == b"IHDR":
        width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
    elif kind == b"IDAT":
        idat += body
if depth != 8 or colour not in (2, 6) or interlace:
    sys.exit(f"browser check: unexpected PNG format (depth {depth}, colour type {colour})")
bpp = 3 if colour == 2 else 4
raw, stride = zlib.decompress(idat), width * bpp
prev, rows, i = bytearray(stride), [], 0
for _ in range(height):
    kind, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
    i += 1 + stride
    for x in range(stride):
        a = line[x - bpp] if x >= bpp else 0
        b = prev[x]
        c = prev[x - bpp] if x >= bpp else 0
        if kind == 1:
            line[x] = (line[x] + a) & 255
        elif kind == 2:
            line[x] = (line[x] + b) & 255
        elif kind == 3:
            line[x] = (line[x] + (a + b) // 2) & 255
        elif kind == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    rows.append(bytes(line))
    prev = line

def pixels(lines):
    for r in lines:
        for x in range(0, stride, bpp):
            yield r[x:x + 3]

counts = Counter(pixels(rows))
top_colour, top = counts.most_common(1)[0]
share = top / (width * height)
lower = Counter(pixels(rows[height // 2:]))
lower_ink = 1 - lower[top_colour] / (width * (height - height // 2))
print(f"browser check: {width}x{height} px, {len(counts)} colours, "
      f"background {share:.1%}, ink in the lower half {lower_ink:.1%}")
if len(counts) < 16 or share > 0.97:
    sys.exit("browser check: the page is blank (nearly every pixel one colour)")
if lower_ink < 0.02:
    sys.exit("browser check: the lower half of the page is empty (charts missing?)")
PY

chromium_dom() {
    timeout 300 /usr/bin/chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$work/profile-dom" --dump-dom "file://$1" 2>"$work/chromium-dom.log"
}

# The test config without its [budget] table (its last): a run with no budget.
sed '/^\[budget\]/,$d' tests/configs/immigration_death.toml >"$work/no_budget.toml"

for config in configs/example.toml configs/bcp-2023.toml "$work/no_budget.toml"; do
    name=$(basename "$config" .toml)
    "$CARECAST_BIN" run "$config" --runs 300 --seed 11 --quiet \
        --json "$work/$name.json" --html "$work/$name.html"
    if ! chromium_dom "$work/$name.html" >"$work/$name.dom.html"; then
        echo "browser check: chromium could not render $config" >&2
        cat "$work/chromium-dom.log" >&2
        exit 1
    fi
    python3 tests/browser_content.py "$work/$name.json" "$work/$name.dom.html" "$config"
done

echo "browser check: ok"
