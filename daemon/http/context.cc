#include "daemon/http/context.h"

#include <limits>

namespace driftd {

namespace {

std::string HistoryKey(std::string_view model, std::string_view window, std::string_view feature) {
  std::string key(model);
  key += '\0';
  key += window;
  key += '\0';
  key += feature;
  return key;
}

}  // namespace

std::shared_ptr<const MetricHistory> MetricHistory::Extend(const MetricHistory* prev,
                                                           const Evaluation& eval) {
  auto next = std::make_shared<MetricHistory>();
  for (const ModelEvaluation& m : eval.models) {
    for (const FeatureEvaluation& f : m.features) {
      std::string key = HistoryKey(m.model, eval.options.windows[f.window].name, f.name);
      std::vector<float> series;
      if (prev != nullptr) {
        if (auto it = prev->series_.find(key); it != prev->series_.end()) series = it->second;
      }
      if (series.size() >= kPoints) series.erase(series.begin());
      series.push_back(f.evaluable ? static_cast<float>(f.alert_value)
                                   : std::numeric_limits<float>::quiet_NaN());
      next->series_.emplace_hint(next->series_.end(), std::move(key), std::move(series));
    }
  }
  return next;
}

const std::vector<float>* MetricHistory::Series(std::string_view model, std::string_view window,
                                                std::string_view feature) const {
  auto it = series_.find(HistoryKey(model, window, feature));
  return it == series_.end() ? nullptr : &it->second;
}

void Published::Set(std::shared_ptr<const Evaluation> eval, std::string metrics_text,
                    std::shared_ptr<const MetricHistory> history) {
  auto text = std::make_shared<const std::string>(std::move(metrics_text));
  std::shared_ptr<const std::string> old_status[2];
  {
    std::lock_guard<std::mutex> lock(mu_);
    eval_ = std::move(eval);
    metrics_text_ = std::move(text);
    history_ = std::move(history);
    for (int bins = 0; bins < 2; ++bins) old_status[bins] = std::move(status_models_[bins]);
  }
  // The old renderings are freed here, outside the lock, unless a response still holds them.
}

std::shared_ptr<const Evaluation> Published::evaluation() const {
  std::lock_guard<std::mutex> lock(mu_);
  return eval_;
}

std::shared_ptr<const MetricHistory> Published::history() const {
  std::lock_guard<std::mutex> lock(mu_);
  return history_;
}

std::shared_ptr<const std::string> Published::metrics_text() const {
  std::lock_guard<std::mutex> lock(mu_);
  return metrics_text_;
}

std::shared_ptr<const std::string> Published::StatusModels(const Evaluation* eval,
                                                           bool bins) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (eval_.get() == eval) return status_models_[bins];
  // An older evaluation, still held by the caller: its rendering if a response still holds it.
  return last_eval_[bins].lock().get() == eval ? last_models_[bins].lock() : nullptr;
}

void Published::SetStatusModels(const std::shared_ptr<const Evaluation>& eval, bool bins,
                                std::shared_ptr<const std::string> text) {
  std::lock_guard<std::mutex> lock(mu_);
  last_eval_[bins] = eval;
  last_models_[bins] = text;
  if (eval_.get() == eval.get()) status_models_[bins] = std::move(text);
}

std::shared_ptr<const void> ResponseLimiter::TryAcquire() {
  size_t n = in_use_->load();
  do {
    if (n >= max_) return nullptr;
  } while (!in_use_->compare_exchange_weak(n, n + 1));
  // The lease is the counter itself, with a deleter that gives the slot back.
  return std::shared_ptr<const void>(in_use_.get(),
                                     [counter = in_use_](const void*) { --*counter; });
}

bool TakeLargeResponseSlot(HttpContext* ctx, HttpResponse* r) {
  if (ctx->status_responses == nullptr) return true;
  r->lease = ctx->status_responses->TryAcquire();
  if (r->lease) return true;
  ctx->metrics->transport(Transport::kHttp).Error(Reason::kTooManyRequests);
  return false;
}

HttpResponse BusyResponse(HttpResponse r) {
  r.headers.emplace_back("Retry-After", "1");
  return r;
}

prometheus::Family<prometheus::Counter>* HttpRequestsFamily(prometheus::Registry* registry) {
  return &prometheus::BuildCounter()
              .Name("driftd_http_requests_total")
              .Help("HTTP requests answered, by handler (the path, or \"other\") and status code.")
              .Register(*registry);
}

}  // namespace driftd
