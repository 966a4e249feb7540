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
    runs = []
    for path in paths:
        with open(path) as f:
            runs.append((os.path.basename(os.path.dirname(os.path.abspath(path))), json.load(f)))
    # The ADC energy column appears when some evaluation's converter has an energy model.
    energy = any(row.get("adc_energy_per_conversion_pj") for _, results in runs for row in results["evaluations"])
    extra = " ADC energy / conversion pJ |" if energy else ""
    print("| run | evaluation | mode | macro | accuracy % | min layer CSNR dB | ADC conversions / image |" + extra + " eval time s |")
    print("|---|---|---|---|---|---|---|" + ("---|" if energy else "") + "---|")
    for run, results in runs:
        for row in results["evaluations"]:
            conversions = row.get("adc_conversions_per_image")
            per_conversion = row.get("adc_energy_per_conversion_pj")
            energy_cell = (f" {per_conversion:.3f} |" if per_conversion else " – |") if energy else ""
            print(f"| {run} | {row['name']} | {row['mode']} | {row.get('macro') or '–'} "
                  f"| {100 * row['accuracy']:.2f} | {min_csnr(row.get('layers'))} "
                  f"| {f'{conversions / 1e6:.2f} M' if conversions else '–'} |{energy_cell} {row['seconds']:.1f} |")


if __name__ == "__main__":
    main(sys.argv[1:])
