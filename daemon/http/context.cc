#include "daemon/http/context.h"

namespace driftd {

void Published::Set(std::shared_ptr<const Evaluation> eval, std::string metrics_text) {
  auto text = std::make_shared<const std::string>(std::move(metrics_text));
  std::lock_guard<std::mutex> lock(mu_);
  eval_ = std::move(eval);
  metrics_text_ = std::move(text);
}

std::shared_ptr<const Evaluation> Published::evaluation() const {
  std::lock_guard<std::mutex> lock(mu_);
  return eval_;
}

std::shared_ptr<const std::string> Published::metrics_text() const {
  std::lock_guard<std::mutex> lock(mu_);
  return metrics_text_;
}

}  // namespace driftd
