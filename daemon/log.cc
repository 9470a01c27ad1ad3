#include "daemon/log.h"

#include <spdlog/sinks/stdout_sinks.h>

#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>

namespace driftd {
namespace {

LogFormat g_format = LogFormat::kText;

std::string Timestamp() {
  using namespace std::chrono;
  const auto now = system_clock::now();
  const std::time_t t = system_clock::to_time_t(now);
  const auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  const size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms));
  return buf;
}

// The length of the valid UTF-8 sequence at the start of `s`, or 0 when its first byte does not
// begin one (a stray continuation byte, an overlong form, a surrogate, a cut sequence, > U+10FFFF).
size_t Utf8SequenceLength(std::string_view s) {
  const auto b = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char c = b(0);
  if (c < 0x80) return 1;
  size_t n;
  unsigned char lo = 0x80, hi = 0xBF;  // the range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (s.size() < n || b(1) < lo || b(1) > hi) return 0;
  for (size_t i = 2; i < n; ++i) {
    if ((b(i) & 0xC0) != 0x80) return 0;
  }
  return n;
}

// Writes `s` to `out` as valid UTF-8, each invalid byte as the text \xNN; with `text`, also
// escapes what the text format must (quote, backslash, C0 and C1 controls, DEL). For JSON the
// serialiser escapes C0 controls, and EscapeJsonControls() DEL and C1.
void AppendEscaped(std::string_view s, bool text, std::string* out) {
  char buf[8];
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const size_t n = Utf8SequenceLength(s.substr(i));
    if (n == 0) {
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      *out += buf;
      ++i;
      continue;
    }
    if (text && n == 2 && c == 0xC2 && static_cast<unsigned char>(s[i + 1]) < 0xA0) {  // C1
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned char>(s[i + 1]));
      *out += buf;
    } else if (n > 1 || !text) {
      out->append(s.substr(i, n));
    } else if (c == '"' || c == '\\') {
      *out += '\\';
      *out += static_cast<char>(c);
    } else if (c == '\n') {
      *out += "\\n";
    } else if (c == '\r') {
      *out += "\\r";
    } else if (c == '\t') {
      *out += "\\t";
    } else if (c < 0x20 || c == 0x7F) {
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      *out += buf;
    } else {
      *out += static_cast<char>(c);
    }
    i += n;
  }
}

// nlohmann's serialiser leaves DEL and the C1 controls (U+0080..U+009F) raw: write them as JSON
// \u escapes. `json` is valid UTF-8, so 0xC2 is always a lead byte here.
std::string EscapeJsonControls(std::string json) {
  std::string out;
  char buf[8];
  for (size_t i = 0; i < json.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(json[i]);
    const bool c1 =
        c == 0xC2 && i + 1 < json.size() && static_cast<unsigned char>(json[i + 1]) < 0xA0;
    if (c != 0x7F && !c1) {
      if (!out.empty()) out += json[i];
      continue;
    }
    if (out.empty()) out.assign(json, 0, i);
    std::snprintf(buf, sizeof buf, "\\u%04x", c1 ? static_cast<unsigned char>(json[++i]) : c);
    out += buf;
  }
  return out.empty() ? json : out;
}

}  // namespace

std::string_view Utf8Prefix(std::string_view s, size_t max_bytes) {
  if (s.size() <= max_bytes) return s;
  size_t cut = max_bytes;
  // Back off over continuation bytes to the start of the character the cut falls in.
  for (size_t back = 0; back < 3 && cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80;
       ++back) {
    --cut;
  }
  // Keep that character only if it ends by max_bytes (the cut was between characters after all).
  if (cut < max_bytes && cut + Utf8SequenceLength(s.substr(cut)) <= max_bytes) cut = max_bytes;
  return s.substr(0, cut);
}

std::string QuoteLogValue(std::string_view s) {
  bool bare = !s.empty();
  for (char c : s) {
    if (c <= ' ' || c > '~' || c == '"' || c == '=' || c == '\\') {
      bare = false;
      break;
    }
  }
  if (bare) return std::string(s);
  std::string out = "\"";
  AppendEscaped(s, true, &out);
  out += '"';
  return out;
}

std::string SanitizeUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  AppendEscaped(s, false, &out);
  return out;
}

LogField::LogField(std::string_view k, double v) : key(k), quoted(false) {
  if (std::isfinite(v)) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    value = buf;
  } else {
    value = std::isnan(v) ? "NaN" : (v > 0 ? "+Inf" : "-Inf");
    quoted = true;
  }
}

bool SetupLogging(std::string_view level, LogFormat format) {
  const auto lvl = spdlog::level::from_str(std::string(level));
  if (lvl == spdlog::level::off && level != "off") return false;
  auto logger =
      std::make_shared<spdlog::logger>("driftd", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  logger->set_pattern("%v");  // the line is formatted here, so text and JSON share one path
  logger->set_level(lvl);
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
  g_format = format;
  return true;
}

std::string FormatLogLine(spdlog::level::level_enum level, std::string_view msg,
                          std::initializer_list<LogField> fields, LogFormat format) {
  const auto name = spdlog::level::to_string_view(level);
  std::string line;
  if (format == LogFormat::kJson) {
    nlohmann::ordered_json j;
    j["ts"] = Timestamp();
    j["level"] = std::string(name.data(), name.size());
    j["msg"] = SanitizeUtf8(msg);
    for (const LogField& f : fields) {
      if (f.quoted) {
        j[f.key] = SanitizeUtf8(f.value);
      } else {
        j[f.key] = nlohmann::json::parse(f.value, nullptr, false);
      }
    }
    line = EscapeJsonControls(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  } else {
    line = Timestamp() + " " + std::string(name.data(), name.size()) + " ";
    AppendEscaped(msg, true, &line);
    for (const LogField& f : fields) {
      line += " " + f.key + "=" + (f.quoted ? QuoteLogValue(f.value) : f.value);
    }
  }
  return line;
}

void Log(spdlog::level::level_enum level, std::string_view msg,
         std::initializer_list<LogField> fields) {
  auto* logger = spdlog::default_logger_raw();
  if (!logger->should_log(level)) return;
  logger->log(level, FormatLogLine(level, msg, fields, g_format));
}

bool LogRateLimiter::Allow(uint64_t* suppressed) {
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::steady_clock::now().time_since_epoch())
                          .count();
  int64_t second = second_.load(std::memory_order_relaxed);
  if (second != now && second_.compare_exchange_strong(second, now)) {
    in_second_.store(0, std::memory_order_relaxed);
  }
  if (in_second_.fetch_add(1, std::memory_order_relaxed) < per_second_) {
    *suppressed = suppressed_.exchange(0, std::memory_order_relaxed);
    return true;
  }
  suppressed_.fetch_add(1, std::memory_order_relaxed);
  return false;
}

}  // namespace driftd
