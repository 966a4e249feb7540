// DAISM products against LibTorch fp32 on the same shapes, both measured in this run
// (docs/performance.md). Run: build/bench/daism_bench --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "core/daism/macro.h"
#include "nn/model.h"
#include "nn/quant_layers.h"
#include "nn/runtime.h"
#include "macro_bench.h"

namespace {

// PC2 on bf16 (the paper's target), fp32 accumulation, all three training products.
std::shared_ptr<const bitline::core::MacroSpec> daism_pc2() {
  bitline::core::daism::Spec spec;
  spec.multiplier.operand_bits = spec.format.operand_bits();
  spec.multiplier.variant = bitline::core::daism::Variant::PrecomputedDigits;
  spec.multiplier.k = 2;
  spec.training = {true, true, true, false};
  return std::make_shared<bitline::core::daism::DaismSpec>(spec);
}

// DESIGN.md's reference layer's forward pass. Variant 0 = fp32, 1 = on DAISM PC2 bf16.
void BM_DaismReferenceConv(benchmark::State& state) {
  bitline::bench::reference_conv_forward(state, state.range(0) == 1 ? daism_pc2() : nullptr,
                                         static_cast<int>(state.range(1)), "DAISM PC2 bf16");
}
BENCHMARK(BM_DaismReferenceConv)
    ->ArgsProduct({{0, 1}, {1, 2}})
    ->ArgNames({"variant", "threads"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// The macro's product alone on the reference layer's im2col shape.
void BM_DaismGemm(benchmark::State& state) {
  bitline::nn::set_threads(static_cast<int>(state.range(0)));
  bitline::bench::reference_conv_product(state, *daism_pc2()->for_format({8, 23}));
}
BENCHMARK(BM_DaismGemm)->Arg(1)->Arg(2)->ArgName("threads")->Unit(benchmark::kMillisecond)->UseRealTime();

// A training step of the default cnn. Variant 0 = fp32, 1 = DAISM PC2 bf16 in all three products of
// every layer.
void BM_DaismTrainingStep(benchmark::State& state) {
  bitline::bench::cnn_training_step(state, state.range(0) == 1 ? daism_pc2() : nullptr,
                                    static_cast<int>(state.range(1)), "DAISM PC2 bf16, 3 products");
}
BENCHMARK(BM_DaismTrainingStep)
    ->ArgsProduct({{0, 1}, {1, 2}})
    ->ArgNames({"variant", "threads"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
