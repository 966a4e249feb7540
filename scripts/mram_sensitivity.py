#!/usr/bin/env python3
"""SOT-MRAM FP PIM against the FloatPIM-style MAGIC NOR baseline (docs/mram_validation.md): runs
`bitline cost` on the default cnn (one training iteration of a batch of 128, FloatPIM's chip) for the
formats and roundings, then one device figure at a time, and prints the validation doc's tables
(markdown).

    python3 scripts/mram_sensitivity.py [--bitline build/bin/bitline] [--model cnn] [--work DIR]

Every figure comes from the engine's programs and the device figures given; the rows marked "fitted"
solve for the one figure that would reproduce a paper ratio, and say so.
"""
import argparse
import json
import os
import subprocess
import tempfile

CHIP = {"technology_node_nm": 28, "array_rows": 1024, "array_columns": 1024, "tiles": 32, "macros_per_tile": 256}
DEFAULT_DEVICE = {"read_energy_fj": 20, "write_energy_fj": 100, "cycle_ns": 1, "cell_area_f2": 60,
                  "nor_energy_fj": 6.4, "nor_cycle_ns": 1, "nor_cell_area_f2": 4}
PAPER = {"energy": 3.3, "latency": 1.8, "area": 2.5}


def flow(mapping):
    return "{" + ", ".join(f"{k}: {v}" for k, v in mapping.items()) + "}"


def training_cost(bitline, work, model, engine, device):
    run_dir = tempfile.mkdtemp(dir=work)
    config = os.path.join(run_dir, "config.yaml")
    keys = dict(engine)
    keys["device"] = flow(device)
    with open(config, "w") as f:
        f.write(f"experiment: {{name: mram_sensitivity, run_dir: {run_dir}/out}}\n")
        f.write(f"model: {{name: {model}}}\n")
        f.write("train: {batch_size: 128}\n")
        f.write("macros:\n")
        f.write(f"  - {{name: mram, type: sot_mram_fp, sot_mram_fp: {flow(keys)}, hardware: {flow(CHIP)}}}\n")
    subprocess.run([bitline, "cost", "--config", config], check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(run_dir, "out", "training_mram.json")) as f:
        return json.load(f)


def ratios(result):
    return result["baseline_over_engine"]


def row(label, result):
    e, b, r = result["cost"], result["baseline"]["cost"], ratios(result)
    return (f"| {label} | {e['energy_pj'] * 1e-6:.4g} | {b['energy_pj'] * 1e-6:.4g} | **{r['energy']:.3g}×** | "
            f"{e['latency_ns'] * 1e-6:.4g} | {b['latency_ns'] * 1e-6:.4g} | **{r['latency']:.3g}×** | "
            f"{e['area_mm2']:.4g} | {b['area_mm2']:.4g} | **{r['area']:.3g}×** |")


HEADER = ("| case | MRAM energy uJ | NOR energy uJ | energy ratio | MRAM latency ms | NOR latency ms | latency ratio "
          "| MRAM area mm² | NOR area mm² | area ratio |\n|---|---|---|---|---|---|---|---|---|---|")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bitline", default="build/bin/bitline")
    parser.add_argument("--model", default="cnn")
    parser.add_argument("--work", default=None, help="scratch directory (default: a new temporary one)")
    args = parser.parse_args()
    work = args.work or tempfile.mkdtemp(prefix="mram_sensitivity_")
    cost = lambda engine, device=DEFAULT_DEVICE: training_cost(args.bitline, work, args.model, engine, device)

    print(f"### Formats and rounding ({args.model}, batch 128, default device figures)\n")
    print(HEADER)
    for fmt in ("bf16", "fp16", "fp32"):
        for rounding in ("toward_zero", "nearest_even"):
            print(row(f"{fmt}, {rounding}", cost({"format": fmt, "rounding": rounding})))
    print(f"| paper (ISCAS 2020 abstract) | | | {PAPER['energy']}× | | | {PAPER['latency']}× | | | {PAPER['area']}× |")

    print(f"\n### One device figure at a time (bf16, truncation; the others at their defaults)\n")
    print(HEADER)
    bf16 = {"format": "bf16", "rounding": "toward_zero"}
    sweeps = [("write_energy_fj", [10, 30, 60, 300]), ("read_energy_fj", [2, 5, 50]), ("cycle_ns", [0.4, 2, 10]),
              ("cell_area_f2", [20, 40, 120]), ("nor_energy_fj", [20, 100]), ("nor_cycle_ns", [3]),
              ("nor_cell_area_f2", [10])]
    print(row("defaults", cost(bf16)))
    for key, values in sweeps:
        for value in values:
            device = dict(DEFAULT_DEVICE, **{key: value})
            print(row(f"{key} = {value}", cost(bf16, device)))

    # Fitted: the one figure that reproduces each paper ratio, the others at their defaults. Energy and
    # latency ratios are linear in 1 / (the MRAM's write energy share) and 1 / cycle_ns; area in 1 / cell area.
    base = cost(bf16)
    e = base["cost"]["phases"]
    total_primitives = {}
    for phase in e.values():
        for name, count in phase["primitives"].items():
            total_primitives[name] = total_primitives.get(name, 0) + count
    # MRAM energy = reads * read_fj + writes * write_fj, by the primitives' definitions (docs/macros/sot_mram_fp.md).
    reads = (total_primitives["full_add"] + total_primitives["copy"] + total_primitives["shift"] +
             total_primitives["search"] + total_primitives["read"])
    writes = 2 * total_primitives["full_add"] + total_primitives["copy"] + total_primitives["shift"] + total_primitives["write"]
    nor_energy_pj = base["baseline"]["cost"]["energy_pj"]
    mram_energy_pj = (reads * DEFAULT_DEVICE["read_energy_fj"] + writes * DEFAULT_DEVICE["write_energy_fj"]) * 1e-3
    assert abs(mram_energy_pj - base["cost"]["energy_pj"]) < 1e-6 * mram_energy_pj, "the energy is not reads and writes"
    scale = nor_energy_pj / PAPER["energy"] / mram_energy_pj  # read and write energies scaled together
    fitted_cycle_ns = DEFAULT_DEVICE["cycle_ns"] * ratios(base)["latency"] / PAPER["latency"]
    fitted_cell_f2 = DEFAULT_DEVICE["cell_area_f2"] * ratios(base)["area"] / PAPER["area"]
    print(f"\n### Fitted to the paper's ratios (one figure each, the others at their defaults) — FITTED, not derived\n")
    print("| paper ratio | figure | fitted value | default |\n|---|---|---|---|")
    print(f"| energy {PAPER['energy']}× | read_energy_fj and write_energy_fj, scaled together | "
          f"{DEFAULT_DEVICE['read_energy_fj'] * scale:.3g} fJ and {DEFAULT_DEVICE['write_energy_fj'] * scale:.3g} fJ | "
          f"{DEFAULT_DEVICE['read_energy_fj']} fJ and {DEFAULT_DEVICE['write_energy_fj']} fJ |")
    print(f"| latency {PAPER['latency']}× | cycle_ns | {fitted_cycle_ns:.3g} ns | {DEFAULT_DEVICE['cycle_ns']} ns |")
    print(f"| area {PAPER['area']}× | cell_area_f2 | {fitted_cell_f2:.3g} F² | {DEFAULT_DEVICE['cell_area_f2']} F² |")
    check = cost(bf16, dict(DEFAULT_DEVICE, read_energy_fj=DEFAULT_DEVICE["read_energy_fj"] * scale,
                            write_energy_fj=DEFAULT_DEVICE["write_energy_fj"] * scale, cycle_ns=fitted_cycle_ns,
                            cell_area_f2=fitted_cell_f2))
    print(f"\nWith all three fitted: {ratios(check)['energy']:.3g}× energy, {ratios(check)['latency']:.3g}× "
          f"latency, {ratios(check)['area']:.3g}× area (the check of the fit).")

    print(f"\n### Primitive counts of one training iteration (bf16, truncation; expected counts)\n")
    print("| primitive | count |\n|---|---|")
    for name, count in total_primitives.items():
        print(f"| {name} | {count:.4g} |")


if __name__ == "__main__":
    main()
