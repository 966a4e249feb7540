// Runs a harness over files, as libFuzzer does when given file paths, without fuzzing: each
// argument is a file or a directory of files. Used by the ordinary and sanitizer builds to replay
// the committed seeds and the regression inputs of past findings as a unit test. A path that is
// missing, or a directory with no files, fails the run: a wrong seeds path must not pass replaying
// nothing.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size);
extern "C" __attribute__((weak)) int LLVMFuzzerInitialize(int* argc, char*** argv);

namespace {

int replay(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

}  // namespace

int main(int argc, char** argv) {
  if (LLVMFuzzerInitialize != nullptr) LLVMFuzzerInitialize(&argc, &argv);
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s FILE_OR_DIRECTORY...\n", argv[0]);
    return 2;
  }
  int files = 0;
  for (int i = 1; i < argc; ++i) {
    const std::filesystem::path path = argv[i];
    std::vector<std::filesystem::path> inputs;
    if (std::filesystem::is_directory(path)) {
      for (const auto& entry : std::filesystem::directory_iterator(path)) {
        if (entry.is_regular_file()) inputs.push_back(entry.path());
      }
      if (inputs.empty()) {
        std::fprintf(stderr, "%s: a directory with no input files\n", argv[i]);
        return 1;
      }
    } else if (std::filesystem::is_regular_file(path)) {
      inputs.push_back(path);
    } else {
      std::fprintf(stderr, "%s: no such input file or directory\n", argv[i]);
      return 1;
    }
    for (const auto& input : inputs) {
      replay(input);
      ++files;
    }
  }
  std::printf("replayed %d inputs without a finding\n", files);
  return 0;
}
