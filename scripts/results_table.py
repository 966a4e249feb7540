#!/usr/bin/env python3
"""Prints the evaluations of one or more bitline results.json files as a Markdown table.

Usage: scripts/results_table.py [--cost] runs/<experiment>/results.json [...]
The docs' experiment tables are made with it, so they show exactly what a run wrote. --cost shows
each evaluation's weights (trained stage) and what the model costs on the macro's chip (energy and
cycles per image, layer by layer, TOPS/W) instead of the ADC columns.
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


def cost_table(runs):
    print("| run | evaluation | weights | macro | accuracy % | min layer CSNR dB | energy / image µJ | cycles / image | TOPS/W |")
    print("|---|---|---|---|---|---|---|---|---|")
    for run, results in runs:
        for row in results["evaluations"]:
            cost = row.get("cost")
            cells = (f"{cost['energy_per_inference_pj'] * 1e-6:.2f} | {sum(layer['cycles'] for layer in cost['layers']):.0f} "
                     f"| {cost['tops_per_w']:.3f}") if cost else "– | – | –"
            print(f"| {run} | {row['name']} | {row['model_stage']} | {row.get('macro') or '–'} "
                  f"| {100 * row['accuracy']:.2f} | {min_csnr(row.get('layers'))} | {cells} |")


def main(arguments):
    with_cost = "--cost" in arguments
    paths = [a for a in arguments if a != "--cost"]
    if not paths:
        sys.exit(__doc__)
    runs = []
    for path in paths:
        with open(path) as f:
            runs.append((os.path.basename(os.path.dirname(os.path.abspath(path))), json.load(f)))
    if with_cost:
        cost_table(runs)
        return
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
