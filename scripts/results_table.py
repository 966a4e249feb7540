#!/usr/bin/env python3
"""Prints the evaluations of one or more bitline results.json files as a Markdown table.

Usage: scripts/results_table.py [--cost | --training] runs/<experiment>/results.json [...]
The docs' experiment tables are made with it, so they show exactly what a run wrote. --cost shows
each evaluation's weights (trained stage) and what the model costs on the macro's chip (energy and
cycles per image, layer by layer, TOPS/W) instead of the ADC columns. --training shows the training
stages epoch by epoch (training loss and accuracy, seconds) and, for evaluations on a floating-point
PIM engine, one training iteration's energy and latency beside the baseline.
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


def training_tables(runs):
    print("| run | stage | epoch | training loss | training accuracy % | seconds |")
    print("|---|---|---|---|---|---|")
    for run, results in runs:
        for stage in results["training"]:
            # A stage a run reused from the cache shows the history of the run that trained it.
            cached = " (cached)" if stage.get("reused_cached_checkpoint") else ""
            for epoch in stage["history"]:
                print(f"| {run} | {stage['stage']}{cached} | {epoch['epoch']} | {epoch['train_loss']:.4f} "
                      f"| {100 * epoch['train_accuracy']:.2f} | {epoch['seconds']:.1f} |")
    print()
    print("| run | evaluation | weights | precision | test accuracy % | min layer CSNR dB | engine energy / iteration µJ "
          "| baseline µJ | baseline / engine | engine latency / iteration ms | baseline ms | baseline / engine |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for run, results in runs:
        for row in results["evaluations"]:
            iteration = row.get("training_iteration")
            if iteration and "baseline" in iteration:
                engine, baseline, ratio = iteration["cost"], iteration["baseline"]["cost"], iteration["baseline_over_engine"]
                cells = (f"{engine['energy_pj'] * 1e-6:.4g} | {baseline['energy_pj'] * 1e-6:.4g} | {ratio['energy']:.3g}× "
                         f"| {engine['latency_ns'] * 1e-6:.4g} | {baseline['latency_ns'] * 1e-6:.4g} | {ratio['latency']:.3g}×")
            else:
                cells = "– | – | – | – | – | –"
            print(f"| {run} | {row['name']} | {row['model_stage']} | {row['precision']} | {100 * row['accuracy']:.2f} "
                  f"| {min_csnr(row.get('layers'))} | {cells} |")


def main(arguments):
    with_cost = "--cost" in arguments
    with_training = "--training" in arguments
    paths = [a for a in arguments if a not in ("--cost", "--training")]
    if not paths:
        sys.exit(__doc__)
    runs = []
    for path in paths:
        with open(path) as f:
            runs.append((os.path.basename(os.path.dirname(os.path.abspath(path))), json.load(f)))
    if with_cost:
        cost_table(runs)
        return
    if with_training:
        training_tables(runs)
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
