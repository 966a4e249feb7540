#include "app/cli.h"
#include "nn/runtime.h"

int main(int argc, char** argv) {
  bitline::nn::retain_freed_memory();
  return bitline::app::run_cli(argc, argv);
}
