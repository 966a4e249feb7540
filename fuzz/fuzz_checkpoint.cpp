// The checkpoint loader after its checksum: LibTorch's archive reader and bitline's consistency
// checks, restoring a small model and its SGD state as `bitline train` resumes one. The input is
// the archive (what follows the checked file's header line), as a file with a valid checksum but
// crafted contents would hold.
//
// BITLINE_FUZZ_WRITE_SEEDS=DIR: writes seed archives (from save_checkpoint) into DIR and exits.
#include <torch/torch.h>

#include <cstdlib>

#include "fuzz_support.h"
#include "io/checked_file.h"
#include "nn/checkpoint.h"

namespace {

struct SmallNet : torch::nn::Module {
  SmallNet() {
    torch::manual_seed(0);
    fc = register_module("fc", torch::nn::Linear(4, 3));
    norm = register_module("norm", torch::nn::BatchNorm1d(3));
  }
  torch::Tensor forward(const torch::Tensor& x) { return norm(fc(x)); }
  torch::nn::Linear fc{nullptr};
  torch::nn::BatchNorm1d norm{nullptr};
};

void write_seeds(const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  const auto file = dir / "checkpoint.tmp";
  for (const bool trained : {false, true}) {
    SmallNet net;
    torch::optim::SGD optimizer(net.parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
    bitline::nn::CheckpointInfo info;
    info.stage = "float";
    info.config_hash = "0123456789abcdef";
    info.config_yaml = "model: {name: mlp}\n";
    info.epochs_total = 2;
    if (trained) {
      optimizer.zero_grad();
      net.forward(torch::randn({8, 4})).sum().backward();
      optimizer.step();
      info.epochs_done = 1;
      info.history = {{1, 0.5, 0.75, 2.0, 0.1}};
    }
    bitline::nn::save_checkpoint(file, net, &optimizer, info);
    const auto payload = bitline::io::read_checked_file(file, {"checkpoint", 2});
    std::ofstream(dir / (trained ? "after_one_epoch" : "untrained"), std::ios::binary) << payload;
  }
  std::filesystem::remove(file);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  torch::set_num_threads(1);
  if (const char* dir = std::getenv("BITLINE_FUZZ_WRITE_SEEDS")) {
    write_seeds(dir);
    std::exit(0);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  SmallNet net;
  torch::optim::SGD optimizer(net.parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
  return bitline::fuzz::accept_input_errors([&] {
    bitline::nn::restore_checkpoint(std::string(bitline::fuzz::as_text(data, size)), "fuzz.ckpt", net, &optimizer);
  });
}
