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

}  // namespace

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

void Log(spdlog::level::level_enum level, std::string_view msg,
         std::initializer_list<LogField> fields) {
  auto* logger = spdlog::default_logger_raw();
  if (!logger->should_log(level)) return;
  const auto name = spdlog::level::to_string_view(level);
  std::string line;
  if (g_format == LogFormat::kJson) {
    nlohmann::ordered_json j;
    j["ts"] = Timestamp();
    j["level"] = std::string(name.data(), name.size());
    j["msg"] = msg;
    for (const LogField& f : fields) {
      if (f.quoted) {
        j[f.key] = f.value;
      } else {
        j[f.key] = nlohmann::json::parse(f.value, nullptr, false);
      }
    }
    line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    line = Timestamp() + " " + std::string(name.data(), name.size()) + " " + std::string(msg);
    for (const LogField& f : fields) {
      const bool plain = f.value.find_first_of(" \"=") == std::string::npos && !f.value.empty();
      line += " " + f.key + "=" + (plain || !f.quoted ? f.value : nlohmann::json(f.value).dump());
    }
  }
  logger->log(level, line);
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
