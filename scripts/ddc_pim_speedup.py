#!/usr/bin/env python3
"""DDC-PIM against digital_sram on the same chip (docs/ddc_pim_validation.md): runs `bitline cost`
for a model with FCC pairs on a few chips and prints the tables of the validation doc (markdown).

    python3 scripts/ddc_pim_speedup.py [--bitline build/bin/bitline] [--model mobilenetv2] [--work DIR]

Every figure comes from the cost model (docs/cost.md); nothing here is fitted.
"""
import argparse
import csv
import json
import os
import subprocess
import tempfile

# (name, hardware keys, ddc_pim keys): the default chip, smaller and larger ones, and a tall array
# where depthwise packing is limited by columns, not rows.
CHIPS = [
    ("default: 64 macros of 256x256", {}, {}),
    ("16 macros of 256x256", {"tiles": 4}, {}),
    ("256 macros of 256x256", {"tiles": 64}, {}),
    ("1024 macros of 256x256", {"tiles": 256}, {}),
    ("4096 macros of 256x256", {"tiles": 1024}, {}),
    ("64 macros of 512x128", {"array_rows": 512, "array_columns": 128}, {}),
    ("64 macros of 512x128, 4 depthwise blocks per column group", {"array_rows": 512, "array_columns": 128},
     {"depthwise_blocks_per_column_group": 4}),
]


def flow(mapping):
    return "{" + ", ".join(f"{k}: {v}" for k, v in mapping.items()) + "}"


def run_cost(bitline, work, model, width, hardware, ddc_keys, layers):
    run_dir = tempfile.mkdtemp(dir=work)
    config = os.path.join(run_dir, "config.yaml")
    with open(config, "w") as f:
        f.write(f"experiment: {{name: ddc_speedup, run_dir: {run_dir}/out}}\n")
        f.write(f"model: {{name: {model}, width_multiplier: {width}}}\n")
        f.write("macros:\n")
        f.write(f"  - {{name: digital, type: digital_sram, hardware: {flow(hardware)}}}\n")
        f.write(f"  - {{name: ddc, type: ddc_pim, ddc_pim: {flow(ddc_keys)}, hardware: {flow(hardware)}}}\n")
        f.write(f"train: {{fcc: {{epochs: 1, layers: [{', '.join(layers)}]}}}}\n")
    subprocess.run([bitline, "cost", "--config", config], check=True, stdout=subprocess.DEVNULL)
    out = os.path.join(run_dir, "out")
    costs = {m: json.load(open(os.path.join(out, f"cost_{m}.json"))) for m in ("digital", "ddc")}
    rows = {m: list(csv.DictReader(open(os.path.join(out, f"cost_{m}.csv")))) for m in ("digital", "ddc")}
    return costs, rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bitline", default="build/bin/bitline")
    parser.add_argument("--model", default="mobilenetv2")
    parser.add_argument("--width", default="1.0")
    parser.add_argument("--work", default=None)
    args = parser.parse_args()
    work = args.work or tempfile.mkdtemp(prefix="ddc_speedup_")
    print(f"### {args.model} (width {args.width}), 28x28 Fashion-MNIST inputs, W8A8\n")
    print("| chip | paired layers | weights resident (digital / ddc) | inferences/s digital | ddc | speedup | "
          "energy ratio ddc/digital | area ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for chip, hardware, ddc_keys in CHIPS:
        for layers in (["pointwise"], ["pointwise", "depthwise"], ["pointwise", "depthwise", "conv", "linear"]):
            costs, _ = run_cost(args.bitline, work, args.model, args.width, hardware, ddc_keys, layers)
            d, p = costs["digital"], costs["ddc"]
            print(f"| {chip} | {' + '.join(layers)} | {d['weights_resident']} / {p['weights_resident']} | "
                  f"{d['inferences_per_s']:.4g} | {p['inferences_per_s']:.4g} | "
                  f"{p['inferences_per_s'] / d['inferences_per_s']:.2f}x | "
                  f"{p['energy_per_inference_pj'] / d['energy_per_inference_pj']:.3f} | "
                  f"{p['area_mm2'] / d['area_mm2']:.3f} |")
    # Per layer, pointwise + depthwise paired: where the time goes, reloading weights per layer (16
    # macros) and with every weight resident (4096 macros: each layer's stage time, replicas included).
    for chip, hardware in (("16 macros of 256x256", {"tiles": 4}), ("4096 macros of 256x256", {"tiles": 1024})):
        _, rows = run_cost(args.bitline, work, args.model, args.width, hardware, {}, ["pointwise", "depthwise"])
        print(f"\n#### Per layer, {chip}, pointwise + depthwise paired\n")
        print("| layer | macros digital | ddc | replicas digital | ddc | cycles digital | ddc | speedup |")
        print("|---|---|---|---|---|---|---|---|")
        ddc = {r["layer"]: r for r in rows["ddc"]}
        for r in rows["digital"]:
            name = r["layer"]
            if name == "total":
                continue
            p = ddc[name]
            single = ddc.get(name + " (single channels)")
            # A depthwise layer's single channels are a workload of their own, after the pairs' (as the
            # cost model sums them).
            cycles = float(p["cycles"]) + (float(single["cycles"]) if single else 0.0)
            macros = int(p["macros"]) + (int(single["macros"]) if single else 0)
            print(f"| {name} | {r['macros']} | {macros} | {r['replicas']} | {p['replicas']} | {float(r['cycles']):.0f} | "
                  f"{cycles:.0f} | {float(r['cycles']) / cycles:.2f}x |")

if __name__ == "__main__":
    main()
