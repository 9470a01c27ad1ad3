// Structured logging to stderr through spdlog: text ("ts level msg key=value ...") or JSON (one
// object per line with ts, level, msg and the fields). The daemon writes no log files of its own.
// Whatever a value holds (client bytes included), a log line is valid UTF-8 with no raw control
// character, and logging never throws.
#pragma once

#include <spdlog/spdlog.h>

#include <atomic>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace driftd {

enum class LogFormat { kText, kJson };

// One structured field; numbers are written unquoted in JSON.
struct LogField {
  LogField(std::string_view k, std::string_view v) : key(k), value(v), quoted(true) {}
  LogField(std::string_view k, const char* v) : key(k), value(v), quoted(true) {}
  LogField(std::string_view k, const std::string& v) : key(k), value(v), quoted(true) {}
  LogField(std::string_view k, double v);
  LogField(std::string_view k, uint64_t v) : key(k), value(std::to_string(v)), quoted(false) {}
  LogField(std::string_view k, int v) : key(k), value(std::to_string(v)), quoted(false) {}
  std::string key, value;
  bool quoted;
};

// Configures the process-wide logger. `level` is trace, debug, info, warn, error or off.
// Returns false (and changes nothing) on an unknown level.
bool SetupLogging(std::string_view level, LogFormat format);

// Logs `msg` with `fields` at `level`. Thread-safe; never throws on any bytes in msg or fields.
void Log(spdlog::level::level_enum level, std::string_view msg,
         std::initializer_list<LogField> fields = {});

// The line Log() writes for these arguments in `format` (without its newline). Never throws.
std::string FormatLogLine(spdlog::level::level_enum level, std::string_view msg,
                          std::initializer_list<LogField> fields, LogFormat format);

// How much of a rejected line a log entry quotes (cut with Utf8Prefix).
inline constexpr size_t kLogSampleBytes = 200;

// The longest prefix of `s` that is at most `max_bytes` long and does not end inside a UTF-8
// sequence: how a sample of client input is cut for a log line.
std::string_view Utf8Prefix(std::string_view s, size_t max_bytes);

// `s` as a text-format value: bare when it is non-empty printable ASCII without space, quote,
// equals sign or backslash; otherwise double-quoted, with `"` and `\` escaped, \n, \r, \t and
// other C0/C1 controls and DEL as escapes (\x1b, \u0085), and each byte that is not part of a
// valid UTF-8 sequence as \xNN. Valid printable UTF-8 is kept as it is.
std::string QuoteLogValue(std::string_view s);

// `s` as valid UTF-8 for a JSON log value: each invalid byte becomes the text \xNN. (The JSON line
// writes every control character, C0, DEL and C1, as a \u escape.)
std::string SanitizeUtf8(std::string_view s);

// Lets through at most `per_second` events a second; the rest are counted and reported with the
// next event let through (as "suppressed"). Thread-safe, lock-free.
class LogRateLimiter {
 public:
  explicit LogRateLimiter(int per_second) : per_second_(per_second) {}
  // True when the caller may log now; *suppressed is how many were dropped since the last one.
  bool Allow(uint64_t* suppressed);

 private:
  int per_second_;
  std::atomic<int64_t> second_{0};
  std::atomic<int> in_second_{0};
  std::atomic<uint64_t> suppressed_{0};
};

}  // namespace driftd
