// The CIFAR-10 binary batch reader: record layout and label range.
#include "fuzz_support.h"
#include "io/cifar.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  return bitline::fuzz::accept_input_errors([&] {
    auto set = bitline::io::empty_cifar10_set();
    bitline::io::append_cifar10_batch(bitline::fuzz::as_text(data, size), "data_batch_1.bin", set);
  });
}
