// A main() for libFuzzer entry points where libFuzzer is not available (GCC builds): runs every
// file named on the command line (a directory: every file in it, as a seed corpus), then
// `--runs N` inputs made from a fixed seed (default 20000): random bytes, and mutations (byte
// flips, inserts, cuts, splices, newlines and long runs) of the seed files. Reproducible: the same
// seeds give the same inputs. Each input is passed in a buffer of exactly its size, so that ASan
// catches a read one byte past it. Prints how many inputs ran; an input that fails aborts.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

void Run(const std::string& input) {
  const std::unique_ptr<uint8_t[]> exact(new uint8_t[input.size()]);
  std::memcpy(exact.get(), input.data(), input.size());
  LLVMFuzzerTestOneInput(exact.get(), input.size());
}

bool ReadFile(const std::filesystem::path& path, std::vector<std::string>* seeds) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", path.c_str());
    return false;
  }
  seeds->emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  long runs = 20000;
  std::vector<std::string> seeds;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
      runs = std::strtol(argv[++i], nullptr, 10);
      continue;
    }
    const std::filesystem::path path(argv[i]);
    if (std::filesystem::is_directory(path)) {
      std::vector<std::filesystem::path> files;
      for (const auto& entry : std::filesystem::directory_iterator(path)) {
        if (entry.is_regular_file()) files.push_back(entry.path());
      }
      std::sort(files.begin(), files.end());  // a fixed order: reproducible mutations
      for (const auto& f : files) {
        if (!ReadFile(f, &seeds)) return 2;
      }
    } else if (!ReadFile(path, &seeds)) {
      return 2;
    }
  }
  for (const std::string& s : seeds) Run(s);
  if (seeds.empty()) seeds.emplace_back();

  std::mt19937_64 rng(20261121);
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  for (long r = 0; r < runs; ++r) {
    std::string s;
    if (r % 4 == 0) {
      s.resize(pick(600));
      for (char& c : s) c = static_cast<char>(rng());
    } else {
      s = seeds[pick(seeds.size())];
      const size_t edits = 1 + pick(8);
      for (size_t e = 0; e < edits; ++e) {
        const size_t at = s.empty() ? 0 : pick(s.size());
        switch (pick(5)) {
          case 0:
            if (!s.empty()) s[at] = static_cast<char>(rng());
            break;
          case 1:
            s.insert(at, 1, static_cast<char>(rng()));
            break;
          case 2:
            s.erase(at, pick(8));
            break;
          case 3: {
            const std::string& other = seeds[pick(seeds.size())];
            const size_t from = other.empty() ? 0 : pick(other.size());
            s.insert(at, other.substr(from, pick(300)));
            break;
          }
          default:
            s.insert(at, pick(3) ? "\n" : std::string(pick(400), "a\xc3\xa9"[pick(3)]));
        }
      }
    }
    Run(s);
  }
  std::printf("%zu seed files and %ld generated inputs: no failure\n", seeds.size(), runs);
  return 0;
}
