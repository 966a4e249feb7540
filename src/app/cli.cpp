#include "app/cli.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <torch/torch.h>

#include <iostream>

#include "app/adc_command.h"
#include "app/cost_report.h"
#include "app/fcc.h"
#include "app/config.h"
#include "app/experiment.h"
#include "app/layer_command.h"
#include "app/chip_comparison_command.h"
#include "app/fp_ops_command.h"
#include "app/training_cost_report.h"
#include "app/multiplier_command.h"
#include "app/report.h"
#include "app/report_html.h"
#include "app/sweep.h"
#include "core/error.h"
#include "io/atomic_file.h"
#include "nn/quant_layers.h"
#include "nn/runtime.h"

namespace bitline::app {
namespace {

constexpr const char* kEmbeddedSource = "<embedded default config>";

// Options shared by the commands that run an experiment.
struct ExperimentOptions {
  std::string config_path;
  std::vector<std::string> settings;  // --set key.path=value
  int threads = 0;                    // 0: keep experiment.threads
  std::string run_dir;
  bool no_progress = false;
  bool csnr = false;
};

void add_experiment_options(CLI::App& command, ExperimentOptions& options) {
  command.add_option("-c,--config", options.config_path, "experiment config (YAML); default: the embedded default");
  command.add_option("--set", options.settings, "override a config key, e.g. --set train.float.epochs=2 (repeatable)");
  command.add_option("-j,--threads", options.threads, "CPU threads (overrides experiment.threads)")
      ->check(CLI::Range(1, 1024));
  command.add_option("--run-dir", options.run_dir, "output directory (overrides experiment.run_dir)");
  command.add_flag("--no-progress", options.no_progress, "do not draw progress bars");
  command.add_flag("--csnr", options.csnr, "print each simulated layer's CSNR (also in results.json)");
}

struct LoadedConfig {
  Config config;
  std::string source;
};

LoadedConfig load_experiment_config(const ExperimentOptions& options) {
  const std::string source = options.config_path.empty() ? kEmbeddedSource : options.config_path;
  YAML::Node root = options.config_path.empty() ? YAML::Load(embedded_default_config_text())
                                                : resolve_config_file(options.config_path);
  if (root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  for (const auto& setting : options.settings) apply_config_setting(root, setting);
  LoadedConfig loaded{parse_config(dump_yaml(root), options.settings.empty() ? source : source + " with --set"), source};
  if (options.threads > 0) loaded.config.experiment.threads = options.threads;
  if (!options.run_dir.empty()) loaded.config.experiment.run_dir = options.run_dir;
  return loaded;
}

std::string prepare_runtime(const Config& config) {
  nn::set_threads(static_cast<int>(config.experiment.threads));
  const auto blas = nn::detect_blas();
  if (!blas.is_openblas) {
    fmt::print(stderr,
               "warning: LibTorch's BLAS (sgemm_) resolves to '{}', not OpenBLAS; fp32 matrix products will run "
               "about 30x slower. Install libopenblas0-openmp (scripts/install-deps.sh does).\n",
               blas.sgemm_library.empty() ? "nothing" : blas.sgemm_library);
  }
  return blas.sgemm_library;
}

int command_run(const ExperimentOptions& options, bool train, bool evaluate) {
  auto [config, source] = load_experiment_config(options);
  RunReport report;
  report.config = config;
  report.config_source = source;
  report.blas_library = prepare_runtime(config);
  report.threads = nn::threads();
  // Everything that can reject the config runs before anything is written: the model (its layer
  // overrides), the chips (can each hold the model?) and the dataset. Then the output locations,
  // so that an unusable one fails now, not after training.
  if (evaluate && !config.macros.empty()) {
    auto model = probed_model(config);
    for (const auto& macro : config.macros) probed_cost(*model, config, macro, source);
  } else {
    build_configured_model(config);
  }
  const auto data = nn::load_datasets(data_options(config.data));
  // Both checked before either is created, so that a refused one leaves nothing behind.
  io::prepare_output_directories({{config.experiment.run_dir, kRunDirectoryEntries, "experiment.run_dir"},
                                  {checkpoint_dir(config), kCheckpointDirectoryEntries, "experiment.checkpoint_dir"}});
  fmt::print("bitline {}: experiment '{}' ({}), model {} on {}, {} threads\n", kBitlineVersion, config.experiment.name, source,
             config.model.name, config.data.dataset, report.threads);
  RunOptions run_options;
  run_options.show_progress = !options.no_progress;
  run_options.train_if_needed = train;
  report.training = train_or_reuse(config, data, run_options);
  for (const auto* stage : {&report.training.float_stage, &report.training.qat_stage,
                            &report.training.fcc_penalty_stage, &report.training.fcc_stage}) {
    if (!*stage) continue;
    const auto& s = **stage;
    double seconds = 0;
    for (const auto& epoch : s.info.history) seconds += epoch.seconds;
    fmt::print("{} stage: {} ({} epoch{}, {:.1f} s of training{})\n", s.stage,
               s.reused ? "reused cached checkpoint " + s.checkpoint.string() : "trained, saved " + s.checkpoint.string(),
               s.info.epochs_done, s.info.epochs_done == 1 ? "" : "s", seconds,
               s.resumed_after_epoch > 0 ? fmt::format(", resumed after epoch {}", s.resumed_after_epoch) : "");
  }
  if (!evaluate) return 0;
  report.evaluations = evaluate_runs(config, data, report.training, run_options);
  std::cout << results_table(report);
  if (options.csnr) std::cout << csnr_table(report);
  for (const auto& path : write_results(report)) fmt::print("wrote {}\n", path.string());
  return 0;
}

int command_layers(const ExperimentOptions& options) {
  auto [config, source] = load_experiment_config(options);
  nn::set_threads(static_cast<int>(config.experiment.threads));
  const InputShape shape = input_shape(config.data);
  auto model = build_configured_model(config);
  {
    // One fp32 forward pass on a blank image records each layer's multiply-accumulates.
    torch::NoGradGuard no_grad;
    model->eval();
    model->forward(torch::zeros({1, shape.channels, shape.image_size, shape.image_size}));
  }
  fmt::print("{:<34} {:<8} {:>12} {:>8} {:>8} {}\n", "layer", "kind", "MACs/image", "W bits", "A bits", "mode");
  int64_t total = 0;
  for (auto& [name, layer] : nn::quant_layers(*model)) {
    const auto resolved = layer_spec(config.quantization, name, nn::LayerMode::Quantized);
    fmt::print("{:<34} {:<8} {:>12} {:>8} {:>8} {}\n", name, layer->kind(), layer->last_macs_per_sample(),
               layer->kind() == "matmul" ? std::string("-") : std::to_string(resolved.weight_bits),
               resolved.activation_bits, nn::to_string(resolved.mode));
    total += layer->last_macs_per_sample();
  }
  fmt::print("total MACs per image: {}\n", total);
  return 0;
}

// `bitline cost`: the model's energy, latency and area on each macro's chip. One fp32 forward pass
// on a random image records each layer's products (shapes, and signed inputs where the image
// makes them negative, for activation_sign auto).
int command_cost(const ExperimentOptions& options) {
  auto [config, source] = load_experiment_config(options);
  nn::set_threads(static_cast<int>(config.experiment.threads));
  if (config.macros.empty()) throw InputError(fmt::format("{}: key 'macros': `bitline cost` needs at least one macro", source));
  auto model = probed_model(config);
  io::prepare_output_directory(config.experiment.run_dir, kRunDirectoryEntries, "experiment.run_dir");
  for (const auto& macro : config.macros) {
    const auto cost = probed_cost(*model, config, macro, source);
    fmt::print("{} on macro '{}' ({}):\n{}", config.model.name, macro.name, source, cost_table(cost));
    const std::filesystem::path dir = config.experiment.run_dir;
    const auto json_path = dir / fmt::format("cost_{}.json", macro.name), csv_path = dir / fmt::format("cost_{}.csv", macro.name);
    io::write_file_atomically(json_path, cost_json(cost).dump(2) + "\n");
    io::write_file_atomically(csv_path, cost_csv(cost));
    fmt::print("wrote {} and {}\n", json_path.string(), csv_path.string());
    if (const auto training = training_cost_comparison(*model, config, macro)) {
      fmt::print("{}", training_cost_table(*training, fmt::format("macro '{}'", macro.name)));
      const auto training_path = dir / fmt::format("training_{}.json", macro.name);
      io::write_file_atomically(training_path, training_cost_json(*training).dump(2) + "\n");
      fmt::print("wrote {}\n", training_path.string());
    }
  }
  return 0;
}

int command_config(bool defaults, const std::string& check_path, bool embedded) {
  if (defaults) {
    std::cout << documented_defaults();
  } else if (!check_path.empty()) {
    const Config config = load_config(check_path);
    std::cout << "# " << check_path << ": valid. Resolved config:\n" << to_yaml(config);
  } else if (embedded) {
    std::cout << embedded_default_config_text();
  } else {
    throw InputError("bitline config: expected one of --defaults, --check FILE or --embedded");
  }
  return 0;
}

int command_macros() {
  for (const auto& type : macro_types()) fmt::print("{:<14} {}  [{}]\n", type.name, type.summary, type.docs);
  return 0;
}

int command_info() {
  const auto blas = nn::detect_blas();
  fmt::print("bitline {}\nLibTorch {}\nBLAS (sgemm_): {}{}\nOpenBLAS config: {}\nLibTorch threads: {}\n", kBitlineVersion,
             TORCH_VERSION, blas.sgemm_library, blas.is_openblas ? " (OpenBLAS)" : " (NOT OpenBLAS: slow)",
             blas.openblas_config.empty() ? "not loaded" : blas.openblas_config, nn::threads());
  return blas.is_openblas ? 0 : 1;
}

}  // namespace

int run_cli(int argc, char** argv) {
  CLI::App app{"bitline: accuracy and cost of compute-in-memory DNN accelerators", "bitline"};
  app.set_version_flag("--version", kBitlineVersion);
  app.require_subcommand(1);

  ExperimentOptions run_options, train_options, eval_options, layers_options, cost_options;
  auto* run = app.add_subcommand("run", "train (or reuse cached checkpoints), evaluate, report");
  add_experiment_options(*run, run_options);
  auto* train = app.add_subcommand("train", "train the fp32 and QAT stages; resumes unfinished checkpoints");
  add_experiment_options(*train, train_options);
  auto* eval = app.add_subcommand("eval", "evaluate the trained checkpoints of a config and report");
  add_experiment_options(*eval, eval_options);
  auto* layers = app.add_subcommand("layers", "list the model's quantizable layers (names for layer_overrides)");
  add_experiment_options(*layers, layers_options);
  auto* cost = app.add_subcommand("cost", "energy, latency and area of the model on each macro's chip (docs/cost.md)");
  add_experiment_options(*cost, cost_options);

  bool defaults = false, embedded = false;
  std::string check_path;
  auto* config = app.add_subcommand("config", "print the documented defaults, or check a config file");
  config->add_flag("--defaults", defaults, "print every key with its default, unit and range");
  config->add_option("--check", check_path, "validate a config file and print it resolved");
  config->add_flag("--embedded", embedded, "print the embedded default experiment (configs/default.yaml)");
  auto* info = app.add_subcommand("info", "show version, BLAS backend and threads");
  auto* macros = app.add_subcommand("macros", "list the macro types (macros[].type) with their docs pages");
  LayerCommandOptions layer_options;
  auto* layer = app.add_subcommand("layer", "run one conv2d or linear layer on .npy tensors (float, quantized or simulate)");
  layer->add_option("-c,--config", layer_options.config_path, "layer config (YAML): layer, quantization, macro")->required();
  layer->add_option("--input", layer_options.input_path, "input tensor (.npy): NCHW for conv2d, [N, ..., in] for linear")->required();
  layer->add_option("--weight", layer_options.weight_path, "weight tensor (.npy): OIHW for conv2d, [out, in] for linear")->required();
  layer->add_option("--bias", layer_options.bias_path, "bias tensor (.npy), [out]");
  layer->add_option("--output", layer_options.output_path, "output tensor (.npy, float32), written atomically")->required();
  layer->add_flag("--allow-non-finite", layer_options.allow_non_finite,
                  "run on tensors holding NaN or infinity (refused by default); quantized and simulate outputs are then "
                  "undefined");

  std::string adc_config_path, adc_config_positional;
  auto* adc = app.add_subcommand("adc", "characterize a column ADC model: transfer, INL/DNL, ENOB/SNDR, energy per conversion");
  auto* adc_config = adc->add_option("-c,--config", adc_config_path,
                                     "ADC config (YAML): adc, noise_sigma_lsb, characterize, output_dir");
  auto* adc_positional = adc->add_option("config", adc_config_positional, "the same, as `bitline adc FILE`");
  adc_config->excludes(adc_positional);
  adc->require_option(1);

  MultiplierCommandOptions multiplier_options;
  auto* multiplier = app.add_subcommand("multiplier", "characterize DAISM multiplier variants: error table, CSV, summary.json");
  multiplier->add_option("--format", multiplier_options.format, "operand format: bf16, fp16, fp32 or int8")
      ->capture_default_str();
  multiplier->add_option("--variants", multiplier_options.variants,
                         "comma-separated: exact, or, pc<k> (k-bit digits), top<k> (k exact top bits)")
      ->capture_default_str();
  multiplier->add_option("--kept-columns", multiplier_options.kept_columns,
                         "product MSB columns sensed (0: all 2n; 9 for bf16 = mantissa + 1)")
      ->capture_default_str();
  multiplier->add_option("--rounding", multiplier_options.rounding, "of the kept bits: toward_zero or nearest_even")
      ->capture_default_str();
  multiplier->add_option("--max-pairs", multiplier_options.max_pairs,
                         fmt::format("every operand pair up to this many, else a random sample of this many; at most {} "
                                     "({} with --no-csv)",
                                     kMaxMultiplierPairsWithCsv, kMaxMultiplierPairs))
      ->capture_default_str();
  multiplier->add_option("--seed", multiplier_options.seed, "of the sample, in [0, 2^63 - 1]")->capture_default_str();
  multiplier->add_option("--output-dir", multiplier_options.output_dir, "default runs/multiplier/<format>");
  multiplier->add_flag("!--no-csv", multiplier_options.csv, "write only summary.json, not a CSV per variant");

  FpOpsOptions fp_ops_options;
  auto* fp_ops = app.add_subcommand("fp-ops",
                                    "cost of one in-memory FP multiply and add on the SOT-MRAM engine and the MAGIC NOR "
                                    "baseline: expected primitive counts, cycles, energy (docs/mram_validation.md)");
  fp_ops->add_option("--format", fp_ops_options.format, "bf16, fp16, fp32 or eXmY (e.g. e5m2)")->capture_default_str();
  fp_ops->add_option("--rounding", fp_ops_options.rounding, "toward_zero or nearest_even")->capture_default_str();
  fp_ops->add_option("--samples", fp_ops_options.samples, fmt::format("operand pairs the programs run on, in [1, {}]", kMaxFpOpsSamples))
      ->capture_default_str();

  ChipComparisonOptions chip_options;
  auto* chip = app.add_subcommand("daism-chip",
                                  "a config's DAISM chip beside a bit-serial in-SRAM and an exact MAC-array baseline on the "
                                  "same SRAM (docs/daism_validation.md)");
  chip->add_option("-c,--config", chip_options.config_path, "experiment config with a daism macro and its hardware")
      ->required();
  chip->add_option("--macro", chip_options.macro, "the daism macro's name (default: the config's first daism macro)");
  chip->add_option("--gemm", chip_options.gemm, "m,n,k of the GEMM out[m,n] = x[m,k] w[n,k]^T (default: the reference conv)")
      ->capture_default_str();

  SweepCommandOptions sweep_options;
  auto* sweep = app.add_subcommand("sweep",
                                   "run a design-space sweep: the config's `sweep:` axes, one point per combination, "
                                   "locally or on Slurm; sweep.csv and sweep.json gathered as points finish (docs/sweeps.md)");
  sweep->add_option("-c,--config", sweep_options.config_path, "config with a `sweep:` section");
  sweep->add_option("--set", sweep_options.settings, "override a config key before the sweep expands (repeatable)");
  sweep->add_option("--jobs", sweep_options.jobs, "points run at once, each in its own process (local executor)")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  sweep->add_option("--threads", sweep_options.threads, "CPU threads per point (default: experiment.threads / jobs)")
      ->check(CLI::Range(1, 1024));
  sweep->add_flag("--cost-only", sweep_options.cost_only,
                  "price every point (energy, latency, TOPS/W, area) without training or evaluating");
  sweep->add_flag("--dry-run", sweep_options.dry_run, "list the points and stop");
  sweep->add_option("--executor", sweep_options.executor, "local (processes on this machine) or slurm (a job array)")
      ->capture_default_str();
  sweep->add_option("--partition", sweep_options.partition, "Slurm partition (default: sweep.slurm.partition)");
  sweep->add_option("--time", sweep_options.time, "Slurm time limit per point, e.g. 02:00:00 (default: sweep.slurm.time)");
  sweep->add_option("--cpus-per-task", sweep_options.cpus_per_task, "Slurm CPUs (and threads) per point")
      ->check(CLI::Range(1, 1024));
  sweep->add_option("--mem", sweep_options.memory, "Slurm memory per point, e.g. 8G");
  sweep->add_option("--max-parallel", sweep_options.max_parallel, "Slurm array tasks that run at once")->check(CLI::Range(1, 100000));
  sweep->add_option("--sbatch-arg", sweep_options.sbatch_args, "a further sbatch option, e.g. --sbatch-arg=--account=abc (repeatable)");
  sweep->add_option("--status", sweep_options.status_dir, "show the state of each point of the sweep in DIR and gather its table");
  sweep->add_option("--gather", sweep_options.gather_dir, "rewrite sweep.csv and sweep.json of the sweep in DIR from its finished points");
  sweep->add_flag("--no-progress", sweep_options.no_progress, "(accepted for symmetry with run; points never draw bars)");

  ReportCommandOptions report_options;
  auto* report = app.add_subcommand("report", "write report.html, a self-contained offline report with figures, for a run or a sweep directory");
  report->add_option("dir", report_options.dir, "a run directory (results.json) or a sweep directory (sweep.json)")->required();
  report->add_option("-o,--output", report_options.output, "output file (default: DIR/report.html)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    const int code = app.exit(error);
    return code == 0 ? 0 : 2;
  }

  try {
    if (run->parsed()) return command_run(run_options, /*train=*/true, /*evaluate=*/true);
    if (train->parsed()) return command_run(train_options, /*train=*/true, /*evaluate=*/false);
    if (eval->parsed()) return command_run(eval_options, /*train=*/false, /*evaluate=*/true);
    if (layers->parsed()) return command_layers(layers_options);
    if (cost->parsed()) return command_cost(cost_options);
    if (config->parsed()) return command_config(defaults, check_path, embedded);
    if (info->parsed()) return command_info();
    if (macros->parsed()) return command_macros();
    if (layer->parsed()) return run_layer_command(layer_options);
    if (multiplier->parsed()) return run_multiplier_command(multiplier_options);
    if (chip->parsed()) return run_chip_comparison_command(chip_options);
    if (fp_ops->parsed()) return run_fp_ops_command(fp_ops_options);
    if (sweep->parsed()) return run_sweep_command(sweep_options);
    if (report->parsed()) return run_report_command(report_options);
    if (adc->parsed()) return run_adc_command(adc_config_path.empty() ? adc_config_positional : adc_config_path);
  } catch (const InputError& error) {
    fmt::print(stderr, "error: {}\n", error.what());
    return 2;
  } catch (const std::exception& error) {
    fmt::print(stderr, "internal error: {}\n", error.what());
    return 1;
  }
  return 1;
}

}  // namespace bitline::app
