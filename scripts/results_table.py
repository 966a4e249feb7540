#!/usr/bin/env python3
"""Prints the evaluations of one or more bitline results.json files as a Markdown table.

Usage: scripts/results_table.py runs/<experiment>/results.json [...]
The docs' experiment tables are made with it, so they show exactly what a run wrote.
"""
import json
import math
import os
import sys


def min_csnr(layers):
    if not layers:
        return "–"
    values = [layer["csnr_db"] for layer in layers]
    finite = [v for v in values if v is not None and math.isfinite(v)]
    return f"{min(finite):.1f}" if finite else "exact"


def main(paths):
    if not paths:
        sys.exit(__doc__)
    print("| run | evaluation | mode | macro | accuracy % | min layer CSNR dB | ADC conversions / image | eval time s |")
    print("|---|---|---|---|---|---|---|---|")
    for path in paths:
        with open(path) as f:
            results = json.load(f)
        for row in results["evaluations"]:
            conversions = row.get("adc_conversions_per_image")
            print(f"| {os.path.basename(os.path.dirname(os.path.abspath(path)))} | {row['name']} | {row['mode']} | {row.get('macro') or '–'} "
                  f"| {100 * row['accuracy']:.2f} | {min_csnr(row.get('layers'))} "
                  f"| {f'{conversions / 1e6:.2f} M' if conversions else '–'} | {row['seconds']:.1f} |")


if __name__ == "__main__":
    main(sys.argv[1:])
