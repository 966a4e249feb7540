// main() of the benchmarks that run LibTorch layers: the allocator policy of the bitline executable
// (app/main.cpp), so both sides of each ratio run as they do there.
#include <benchmark/benchmark.h>

#include "nn/runtime.h"

int main(int argc, char** argv) {
  bitline::nn::retain_freed_memory();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
