#include "daemon/http/context.h"

#include <gtest/gtest.h>

namespace driftd {
namespace {

std::shared_ptr<const std::string> Text(const char* s) {
  return std::make_shared<const std::string>(s);
}

TEST(PublishedTest, TheLatestRenderingIsKeptUntilTheNextEvaluation) {
  Published published;
  auto first = std::make_shared<const Evaluation>();
  published.Set(first, "");
  EXPECT_EQ(published.StatusModels(first.get(), false), nullptr);
  published.SetStatusModels(first, false, Text("without bins"));
  // Kept by the publisher alone, and per bins flag.
  ASSERT_NE(published.StatusModels(first.get(), false), nullptr);
  EXPECT_EQ(*published.StatusModels(first.get(), false), "without bins");
  EXPECT_EQ(published.StatusModels(first.get(), true), nullptr);

  published.Set(std::make_shared<const Evaluation>(), "");
  // Nothing holds the old rendering any more: gone with the evaluation it was made of.
  EXPECT_EQ(published.StatusModels(first.get(), false), nullptr);
}

TEST(PublishedTest, AnOlderEvaluationsRenderingIsSharedWhileAResponseHoldsIt) {
  // Requests queued behind a slow rendering of an evaluation that is no longer the latest: the
  // first one renders, the others take its rendering instead of rendering it again.
  Published published;
  auto old_eval = std::make_shared<const Evaluation>();
  published.Set(old_eval, "");
  published.Set(std::make_shared<const Evaluation>(), "");
  auto held = Text("old document");
  published.SetStatusModels(old_eval, true, held);
  EXPECT_EQ(published.StatusModels(old_eval.get(), true), held);
  EXPECT_EQ(published.StatusModels(old_eval.get(), false), nullptr);
  // Not taken for the latest evaluation's.
  EXPECT_EQ(published.StatusModels(published.evaluation().get(), true), nullptr);
  // Once the responses are written, the old document is not kept alive by the cache.
  std::weak_ptr<const std::string> watch = held;
  held.reset();
  EXPECT_TRUE(watch.expired());
  EXPECT_EQ(published.StatusModels(old_eval.get(), true), nullptr);
}

}  // namespace
}  // namespace driftd
