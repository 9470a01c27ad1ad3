// The parse-only ceiling of NDJSON ingest (issue 14): what parsing a file of records costs and
// nothing else. simdjson's On-Demand iterate_many walks every record, reads its "model" and every
// feature value (numbers as doubles, strings and booleans as what they are) and keeps a checksum so
// that nothing is optimised away; no windows, no counters, no sockets; one thread.
// scripts/bench-daemon prints driftd's records per CPU-second against this figure, measured on the
// same file in the same run.
//   parse_ceiling FILE [PASSES]   (default 5 passes over the file; the best pass is reported)
// One thread, as one driftd ingest thread parses. Debian's simdjson target defines
// SIMDJSON_THREADS_ENABLED, which makes iterate_many run stage 1 on a second thread and, even with
// parser.threaded off, compiles a document stream that costs about 15% more CPU per record
// (measured: 3.6-3.7 M against 4.2 M records per CPU-second). The library's compiled part is
// the same either way; only the header's inline stream code differs.
#undef SIMDJSON_THREADS_ENABLED
#include <simdjson.h>
#include <time.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <utility>

namespace {

double CpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

struct Pass {
  uint64_t records = 0, values = 0, errors = 0;
  double checksum = 0;
};

// One pass over `json`: every record's model and feature values touched.
Pass ParseAll(simdjson::ondemand::parser* parser, const simdjson::padded_string& json) {
  namespace od = simdjson::ondemand;
  Pass p;
  od::document_stream stream;
  if (parser->iterate_many(json, 1 << 20).get(stream)) {
    ++p.errors;
    return p;
  }
  for (auto doc_result : stream) {
    od::document_reference doc;
    od::object record;
    if (std::move(doc_result).get(doc) || doc.get_object().get(record)) {
      ++p.errors;
      continue;
    }
    bool ok = true;
    for (auto field : record) {
      std::string_view key;
      od::value value;
      if (field.unescaped_key().get(key) || field.value().get(value)) {
        ok = false;
        break;
      }
      if (key == "model") {
        std::string_view model;
        if (value.get_string().get(model)) ok = false;
        p.checksum += static_cast<double>(model.size());
      } else if (key == "features") {
        od::object features;
        if (value.get_object().get(features)) {
          ok = false;
          break;
        }
        for (auto feature : features) {
          std::string_view name;
          od::value v;
          od::json_type type;
          if (feature.unescaped_key().get(name) || feature.value().get(v) || v.type().get(type)) {
            ok = false;
            break;
          }
          p.checksum += static_cast<double>(name.size());
          if (type == od::json_type::number) {
            double d = 0;
            if (v.get_double().get(d)) ok = false;
            p.checksum += d;
          } else if (type == od::json_type::string) {
            std::string_view s;
            if (v.get_string().get(s)) ok = false;
            p.checksum += static_cast<double>(s.size());
          } else if (type == od::json_type::boolean) {
            bool b = false;
            if (v.get_bool().get(b)) ok = false;
            p.checksum += b;
          } else if (type != od::json_type::null) {
            ok = false;
          }
          ++p.values;
        }
      } else if (key == "ts") {
        double ts = 0;
        if (value.get_double().get(ts)) ok = false;
        p.checksum += ts;
      }
    }
    if (ok) {
      ++p.records;
    } else {
      ++p.errors;
    }
  }
  return p;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr, "usage: parse_ceiling FILE [PASSES]\n");
    return 64;
  }
  const int passes = argc == 3 ? std::max(1, std::atoi(argv[2])) : 5;
  simdjson::padded_string json;
  if (simdjson::padded_string::load(argv[1]).get(json)) {
    std::fprintf(stderr, "parse_ceiling: cannot read %s\n", argv[1]);
    return 1;
  }
  simdjson::ondemand::parser parser;
  double best = 1e300;
  Pass last;
  for (int i = 0; i < passes; ++i) {
    const double start = CpuSeconds();
    last = ParseAll(&parser, json);
    best = std::min(best, CpuSeconds() - start);
  }
  if (last.errors != 0 || last.records == 0) {
    std::fprintf(stderr, "parse_ceiling: %llu records, %llu errors\n",
                 static_cast<unsigned long long>(last.records),
                 static_cast<unsigned long long>(last.errors));
    return 1;
  }
  std::printf(
      "parse-only ceiling: %llu records (%llu values) in %.3f CPU-s: %.2f M records per "
      "CPU-second (best of %d passes; checksum %.6g)\n",
      static_cast<unsigned long long>(last.records), static_cast<unsigned long long>(last.values),
      best, static_cast<double>(last.records) / best / 1e6, passes, last.checksum);
  return 0;
}
