// `driftd loadgen`: sends synthetic traffic drawn from a reference (optionally drifting after a
// while), or a recorded file, to a driftd over TCP, UDP or a Unix socket, at full speed or a set
// rate; then reads driftd's counters and reports records/s accepted and any loss.
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <span>
#include <sstream>
#include <thread>

#include "config/config.h"
#include "core/reference.h"
#include "daemon/cmd/commands.h"

namespace driftd {
namespace {

using Clock = std::chrono::steady_clock;

// Draws records from a reference: each feature's bin with the reference's frequency, from the
// full bin vector (missing, underflow, overflow and other included), then a value in that bin.
// Every record is a new draw, so a window of synthetic traffic is a sample of the reference: its
// divergences are sampling noise only. `drift` in [0, 1] moves numeric values up by that many
// tenths of the edges' span and sends categorical values to the last category with probability
// drift / 2. Not thread-safe.
class Sampler {
 public:
  Sampler(const Reference& ref, bool influx, uint64_t seed) : influx_(influx), rng_(seed) {
    model_json_ = "{\"model\":" + nlohmann::json(ref.model).dump() + ",\"features\":{";
    model_influx_ = EscapeInflux(ref.model, ", ");
    for (const ReferenceFeature& f : ref.features) {
      Feature out{&f.bins, {}, {}, {}, {}, {}};
      uint64_t total = 0;
      for (uint64_t c : f.counts) total += c;
      std::vector<double> w(f.counts.begin(), f.counts.end());
      if (total == 0) w.back() = 1;  // a reference that saw no value: always missing
      out.bin = std::discrete_distribution<uint32_t>(w.begin(), w.end());
      out.key_json = nlohmann::json(f.name).dump() + ":";
      out.key_influx = EscapeInflux(f.name, ", =") + "=";
      if (f.bins.kind() == FeatureKind::kCategorical) {
        std::vector<std::string> values = f.bins.categories();
        // `other` is a category the reference never saw.
        std::string other = "other";
        for (int i = 1; f.bins.CategoryBin(other) != f.bins.other_bin(); ++i) {
          other = "other-" + std::to_string(i);
        }
        values.push_back(other);
        for (const std::string& v : values) {
          out.value_json.push_back(nlohmann::json(v).dump());
          out.value_influx.push_back("\"" + EscapeInflux(v, "\"") + "\"");
        }
      }
      features_.push_back(std::move(out));
    }
  }

  // Appends one new record, NDJSON or line protocol, with its newline to *out.
  void Append(double drift, std::string* out) {
    // A line-protocol line needs at least one field: a record whose every value is missing goes
    // as NDJSON, which driftd tells apart per line.
    bool json = !influx_;
    if (!json) {
      values_.clear();
      for (Feature& f : features_) values_.push_back(f.bin(rng_));
      bool any = false;
      for (size_t i = 0; i < features_.size(); ++i) {
        any = any || values_[i] != features_[i].bins->missing_bin();
      }
      json = !any;
    }
    *out += json ? model_json_ : model_influx_ + " ";
    bool first = true;
    for (size_t i = 0; i < features_.size(); ++i) {
      Feature& f = features_[i];
      uint32_t bin = influx_ ? values_[i] : f.bin(rng_);
      const bool missing = bin == f.bins->missing_bin();
      if (missing && !json) continue;  // an absent field counts as missing
      if (!first) *out += ',';
      first = false;
      *out += json ? f.key_json : f.key_influx;
      if (missing) {
        *out += "null";
      } else if (f.bins->kind() == FeatureKind::kNumeric) {
        const std::span<const double> e = f.bins->edges();
        AppendNumber(NumericValue(*f.bins, bin) + drift * 0.1 * (e.back() - e.front()), out);
      } else {
        if (drift > 0 && f.value_json.size() > 1 && unit_(rng_) < drift * 0.5)
          bin = f.bins->other_bin() - 1;
        const size_t v = bin == f.bins->other_bin() ? f.value_json.size() - 1 : bin;
        *out += json ? f.value_json[v] : f.value_influx[v];
      }
    }
    *out += json ? "}}\n" : "\n";
  }

 private:
  struct Feature {
    const FeatureBins* bins;
    std::discrete_distribution<uint32_t> bin;
    std::string key_json, key_influx;
    // Categorical: the text of each category, then of a value that counts as `other`.
    std::vector<std::string> value_json, value_influx;
  };

  // `s` with a backslash before every character of `special` and every backslash.
  static std::string EscapeInflux(const std::string& s, std::string_view special) {
    std::string out;
    for (char c : s) {
      if (c == '\\' || special.find(c) != std::string_view::npos) out += '\\';
      out += c;
    }
    return out;
  }

  // Shortest text that reads back as exactly `v`, so the value lands in the bin it was drawn for.
  static void AppendNumber(double v, std::string* out) {
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out->append(buf, r.ptr);
  }

  // A value in numeric bin `bin` (interior, underflow or overflow): uniform within an interior
  // bin, within one span of the edges below or above them for underflow and overflow.
  double NumericValue(const FeatureBins& bins, uint32_t bin) {
    const std::span<const double> e = bins.edges();
    const double span = e.back() - e.front();
    for (;;) {
      const double u = unit_(rng_);
      double v;
      if (bin == bins.underflow_bin()) {
        v = e.front() - span * (1 - u);
      } else if (bin == bins.overflow_bin()) {
        v = e.back() + span * (1 - u);
      } else {
        v = e[bin] + (e[bin + 1] - e[bin]) * u;
      }
      // Rounding can put a value on the edge above its bin: draw again.
      if (bins.NumericBin(v) == bin) return v;
    }
  }

  bool influx_;
  std::mt19937_64 rng_;
  std::uniform_real_distribution<double> unit_{0, 1};
  std::string model_json_, model_influx_;
  std::vector<Feature> features_;
  std::vector<uint32_t> values_;  // the bins drawn for the line-protocol record being written
};

// A connected socket to "tcp://host:port", "udp://host:port" or "unix:///path"; -1 on error.
int Connect(const std::string& target, bool* datagram, std::string* error) {
  *datagram = target.rfind("udp://", 0) == 0;
  if (target.rfind("unix://", 0) == 0) {
    const std::string path = target.substr(7);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      *error = target + ": " + std::strerror(errno);
      close(fd);
      return -1;
    }
    return fd;
  }
  const bool tcp = target.rfind("tcp://", 0) == 0;
  if (!tcp && !*datagram) {
    *error = "target must be tcp://host:port, udp://host:port or unix:///path";
    return -1;
  }
  HostPort hp;
  if (!ParseHostPort(target.substr(6), &hp, error)) return -1;
  addrinfo hints{}, *res = nullptr;
  hints.ai_socktype = *datagram ? SOCK_DGRAM : SOCK_STREAM;
  if (getaddrinfo(hp.host.c_str(), std::to_string(hp.port).c_str(), &hints, &res) != 0 || !res) {
    *error = target + ": cannot resolve";
    return -1;
  }
  const int fd = socket(res->ai_family, res->ai_socktype, 0);
  const int rc = connect(fd, res->ai_addr, res->ai_addrlen);
  freeaddrinfo(res);
  if (rc != 0) {
    *error = target + ": " + std::strerror(errno);
    close(fd);
    return -1;
  }
  return fd;
}

bool SendAll(int fd, const char* p, size_t n) {
  while (n > 0) {
    const ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

// GET http://host:port/metrics and sum the samples of `metric` whose labels contain `match`.
bool ScrapeSum(const std::string& url, const std::string& metric, const std::string& match,
               double* sum) {
  if (url.rfind("http://", 0) != 0) return false;
  std::string rest = url.substr(7);
  const auto slash = rest.find('/');
  const std::string hostport = rest.substr(0, slash);
  const std::string path = slash == std::string::npos ? "/metrics" : rest.substr(slash);
  HostPort hp;
  std::string error;
  if (!ParseHostPort(hostport, &hp, &error)) return false;
  bool dgram;
  const int fd = Connect("tcp://" + hostport, &dgram, &error);
  if (fd < 0) return false;
  const std::string req = "GET " + path + " HTTP/1.0\r\nHost: " + hostport + "\r\n\r\n";
  SendAll(fd, req.data(), req.size());
  std::string body;
  char buf[65536];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof buf, 0)) > 0) body.append(buf, static_cast<size_t>(n));
  close(fd);
  *sum = 0;
  std::istringstream in(body);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(metric, 0) != 0) continue;
    const char next = line.size() > metric.size() ? line[metric.size()] : ' ';
    if (next != '{' && next != ' ') continue;
    if (!match.empty() && line.find(match) == std::string::npos) continue;
    double v = 0;
    const char* value = line.data() + line.rfind(' ') + 1;
    if (std::from_chars(value, line.data() + line.size(), v).ec == std::errc()) *sum += v;
  }
  return true;
}

}  // namespace

ParseOutcome ParseLoadgenArgs(const std::vector<std::string>& args, LoadgenArgs* out) {
  auto app = NewCommandLine(
      "loadgen",
      "Sends traffic to a driftd and reports throughput. Synthetic records are drawn\n"
      "from a reference file's histograms, each one anew, with missing, out-of-range and\n"
      "unseen values at the reference's rates; --drift-after makes them drift.");
  CLI::App* a = app.get();
  AddText(a, "target", &out->target, "tcp://host:port, udp://host:port or unix:///path", "URL")
      ->required();
  AddText(a, "reference", &out->reference, "reference file to draw synthetic records from", "FILE");
  AddText(a, "input", &out->input, "file of records (NDJSON or line protocol) to send instead",
          "FILE");
  AddChoice(a, "format", &out->format, {"ndjson", "influx"}, "synthetic record format");
  AddUInt(a, "records", &out->records, "records to send (0: until --duration ends)");
  AddNumber(a, "duration", &out->duration, "seconds to keep sending (0: until --records are sent)",
            0);
  AddNumber(a, "rate", &out->rate, "records per second (0: as fast as possible)", 0);
  AddNumber(a, "drift-after", &out->drift_after,
            "seconds after which synthetic records drift (-1: never)", -1);
  AddNumber(a, "drift", &out->drift, "drift strength from 0 to 1", 0, 1);
  AddText(a, "metrics-url", &out->metrics_url,
          "driftd's /metrics URL, to report accepted records and loss", "URL");
  AddText(a, "write", &out->write, "write the synthetic records to this file instead of sending",
          "FILE");
  AddUInt(a, "seed", &out->seed, "random seed");
  ParseOutcome outcome = ParseArgs(a, args);
  if (outcome.kind != ParseOutcome::Kind::kRun) return outcome;
  if (out->input.empty() == out->reference.empty()) {
    return UsageErrorOutcome("give either --reference or --input");
  }
  const std::string& target = out->target;
  if (target.rfind("unix://", 0) != 0) {
    HostPort hp;
    if ((target.rfind("tcp://", 0) != 0 && target.rfind("udp://", 0) != 0) ||
        !ParseHostPort(target.substr(6), &hp, nullptr)) {
      return UsageErrorOutcome(
          "--target: expected tcp://host:port, udp://host:port or unix:///path, got \"" + target +
          "\"");
    }
  }
  if (!out->metrics_url.empty() && out->metrics_url.rfind("http://", 0) != 0) {
    return UsageErrorOutcome("--metrics-url: expected http://host:port/metrics, got \"" +
                             out->metrics_url + "\"");
  }
  return outcome;
}

int LoadgenCommand(const std::vector<std::string>& args) {
  LoadgenArgs flags;
  if (auto status = ExitStatus(ParseLoadgenArgs(args, &flags), "loadgen")) return *status;
  const std::string& format = flags.format;
  const uint64_t records = flags.records;
  const double duration = flags.duration;
  const double rate = flags.rate;
  const double drift_after = flags.drift_after;
  const double drift = flags.drift;
  std::string error;

  // The records to send, in blocks: a recorded file once, or synthetic blocks generated ahead.
  std::vector<std::string> lines;
  std::optional<Reference> ref;
  if (!flags.input.empty()) {
    std::ifstream in(flags.input);
    if (!in) {
      std::cerr << "driftd loadgen: " << flags.input << ": cannot open file\n";
      return 1;
    }
    std::string line;
    while (std::getline(in, line)) lines.push_back(line + "\n");
  } else {
    std::vector<std::string> errors;
    ref = LoadReferenceFile(flags.reference, &errors);
    if (!ref) {
      for (const auto& e : errors) std::cerr << "driftd loadgen: " << e << "\n";
      return 1;
    }
  }
  std::optional<Sampler> sampler;
  if (ref) sampler.emplace(*ref, format == "influx", flags.seed);
  // Records go out in batches of at most this many.
  constexpr uint64_t kBatch = 4096;

  if (!flags.write.empty()) {
    std::ofstream out(flags.write, std::ios::binary | std::ios::trunc);
    std::string s;
    for (uint64_t i = 0; i < records; ++i) {
      s.clear();
      sampler ? sampler->Append(0, &s) : void(s = lines[i % lines.size()]);
      out << s;
    }
    std::cerr << "wrote " << records << " records to " << flags.write << "\n";
    return out ? 0 : 1;
  }

  bool datagram = false;
  const int fd = Connect(flags.target, &datagram, &error);
  if (fd < 0) {
    std::cerr << "driftd loadgen: " << error << "\n";
    return 1;
  }
  double before = 0;
  const std::string url = flags.metrics_url;
  if (!url.empty()) ScrapeSum(url, "driftd_ingest_records_total", "", &before);

  const auto start = Clock::now();
  uint64_t sent = 0;
  bool drifting = false;
  std::string data;
  for (;;) {
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    if (records && sent >= records) break;
    if (duration > 0 && elapsed >= duration) break;
    if (!drifting && drift_after >= 0 && elapsed >= drift_after) {
      drifting = true;
      std::cerr << "loadgen: drifting now (after " << drift_after << " s)\n";
    }
    // How many to send now: a whole batch at full speed, or what the rate allows.
    uint64_t batch = kBatch;
    if (rate > 0) {
      const double due = elapsed * rate - static_cast<double>(sent);
      if (due < 1) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        continue;
      }
      batch = std::min<uint64_t>(kBatch, static_cast<uint64_t>(due));
    }
    if (records) batch = std::min<uint64_t>(batch, records - sent);
    // Every synthetic record is drawn now, never resent: a window of them must be a sample of
    // the reference, not a few records repeated.
    data.clear();
    for (uint64_t i = 0; i < batch; ++i) {
      if (sampler) {
        sampler->Append(drifting ? drift : 0, &data);
      } else {
        data += lines[(sent + i) % lines.size()];
      }
    }
    if (datagram) {
      // Datagrams of whole lines, at most ~60 KB each.
      size_t pos = 0;
      while (pos < data.size()) {
        size_t end = std::min(data.size(), pos + 60000);
        if (end < data.size()) end = data.rfind('\n', end - 1) + 1;
        if (send(fd, data.data() + pos, end - pos, 0) < 0 && errno != ENOBUFS) break;
        pos = end;
      }
    } else if (!SendAll(fd, data.data(), data.size())) {
      std::cerr << "driftd loadgen: send: " << std::strerror(errno) << "\n";
      close(fd);
      return 1;
    }
    sent += batch;
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  close(fd);
  std::printf("sent %llu records in %.3f s: %.0f records/s\n",
              static_cast<unsigned long long>(sent), seconds, sent / seconds);
  if (!url.empty()) {
    // Wait until driftd's count stops moving (it processes what is still in the socket buffers);
    // the end-to-end time runs until the last change seen.
    double after = before, last = -1;
    auto done = Clock::now();
    while (after != last && Clock::now() - done < std::chrono::seconds(30)) {
      last = after;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      ScrapeSum(url, "driftd_ingest_records_total", "", &after);
      if (after != last) done = Clock::now();
    }
    const double accepted = after - before;
    const double end_to_end =
        std::max(seconds, std::chrono::duration<double>(done - start).count());
    std::printf(
        "driftd counted %.0f records: %.0f records/s end to end (within 0.2 s), lost %.0f "
        "(%.4f%%)\n",
        accepted, accepted / end_to_end, static_cast<double>(sent) - accepted,
        100.0 * (static_cast<double>(sent) - accepted) / std::max<double>(1, sent));
    return static_cast<double>(sent) == accepted || datagram ? 0 : 3;
  }
  return 0;
}

}  // namespace driftd
