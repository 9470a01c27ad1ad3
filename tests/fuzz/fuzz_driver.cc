// A main() for libFuzzer entry points where libFuzzer is not available (GCC): runs the files named
// on the command line, then `--runs N` inputs made from a fixed seed (default 20000): random bytes,
// and mutations (byte flips, inserts, cuts, splices) of a few valid and hostile lines.
// Reproducible: the same seed gives the same inputs. Prints how many inputs ran; an input that
// fails aborts.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

const char* const kSeeds[] = {
    "{\"model\": \"m\", \"ts\": 1700000000.5, \"features\": {\"x\": 1.5, \"c\": \"a\", \"z\": "
    "null}}",
    "{\"name\": \"m\", \"fields\": {\"x\": 2}, \"tags\": {\"c\": \"b\"}, \"timestamp\": "
    "1700000000}",
    "m,c=a x=1.5,n=3i,u=4u,b=true,s=\"caf\xc3\xa9 \\\"q\\\"\" 1700000000000000000",
    "x \xff y",
    "m x=1 bad\xff value",
    "m x=1 \x1b[2J\r\x00\xc2\x85 \xf0\x9f\x98\x80 \xed\xa0\x80",
};

void Run(const std::string& input) {
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
}

}  // namespace

int main(int argc, char** argv) {
  long runs = 20000;
  size_t files = 0;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
      runs = std::strtol(argv[++i], nullptr, 10);
      continue;
    }
    std::ifstream in(argv[i], std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "cannot read %s\n", argv[i]);
      return 2;
    }
    Run(std::string(std::istreambuf_iterator<char>(in), {}));
    ++files;
  }
  std::mt19937_64 rng(20261121);
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  const size_t seeds = std::size(kSeeds);
  for (long r = 0; r < runs; ++r) {
    std::string s;
    if (r % 4 == 0) {
      s.resize(pick(600));
      for (char& c : s) c = static_cast<char>(rng());
    } else {
      s = kSeeds[pick(seeds)];
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
          case 3:
            s.insert(at, std::string(kSeeds[pick(seeds)]).substr(0, pick(300)));
            break;
          default:
            s.insert(at, pick(3) ? "\n" : std::string(pick(400), "a\xc3\xa9"[pick(3)]));
        }
      }
    }
    Run(s);
  }
  std::printf("%zu files and %ld generated inputs: no failure\n", files, runs);
  return 0;
}
