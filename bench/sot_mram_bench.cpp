// The SOT-MRAM FP engine's products against LibTorch fp32 on the same shapes, both measured in this
// run (docs/performance.md). Run: build/bench/sot_mram_bench --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "core/sot_mram/macro.h"
#include "nn/model.h"
#include "nn/quant_layers.h"
#include "nn/runtime.h"
#include "macro_bench.h"

namespace {

// bf16 with truncation (the datapath's default), every product and the update on the engine.
std::shared_ptr<const bitline::core::MacroSpec> engine_bf16() {
  return std::make_shared<bitline::core::sot_mram::SotMramFpSpec>(bitline::core::sot_mram::Spec{});
}

// DESIGN.md's reference layer's forward pass. Variant 0 = fp32 (LibTorch), 1 = on the engine in bf16
// with truncation (the layer: im2col, the operands rounded to bf16, the SIMD GEMM, and the CSNR's
// exact product).
void BM_SotMramReferenceConv(benchmark::State& state) {
  bitline::bench::reference_conv_forward(state, state.range(0) == 1 ? engine_bf16() : nullptr,
                                         static_cast<int>(state.range(1)), "SOT-MRAM bf16, truncation");
}
BENCHMARK(BM_SotMramReferenceConv)
    ->ArgsProduct({{0, 1}, {1, 2}})
    ->ArgNames({"variant", "threads"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// The engine's product alone on the reference layer's im2col shape, in bf16 (float lanes) and fp32
// (double lanes).
void BM_SotMramGemm(benchmark::State& state) {
  bitline::nn::set_threads(2);
  bitline::core::sot_mram::Spec spec;
  if (state.range(0) == 1) spec.engine.format = {8, 23};
  bitline::bench::reference_conv_product(state, *bitline::core::sot_mram::SotMramFpSpec(spec).for_format(spec.engine.format));
  state.SetLabel(state.range(0) == 1 ? "fp32 (double lanes)" : "bf16 (float lanes)");
}
BENCHMARK(BM_SotMramGemm)->Arg(0)->Arg(1)->ArgName("format")->Unit(benchmark::kMillisecond)->UseRealTime();

// A training step of the default cnn. Variant 0 = fp32, 1 = every layer's three products and its weight
// update on the engine in bf16 (the other parameters, batch norm and biases, by the fp32 optimizer).
void BM_SotMramTrainingStep(benchmark::State& state) {
  bitline::bench::cnn_training_step(state, state.range(0) == 1 ? engine_bf16() : nullptr,
                                    static_cast<int>(state.range(1)), "SOT-MRAM bf16: 3 products + update");
}
BENCHMARK(BM_SotMramTrainingStep)
    ->ArgsProduct({{0, 1}, {1, 2}})
    ->ArgNames({"variant", "threads"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
