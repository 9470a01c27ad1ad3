#include "core/alert_policy.h"

#include <gtest/gtest.h>

namespace driftd {
namespace {

AlertPolicy Policy() {
  AlertPolicy p;
  p.warning = 0.1;
  p.critical = 0.2;
  p.max_p_value = 0.01;
  p.for_evaluations = 3;
  p.resolve_ratio = 0.8;
  return p;
}

FeatureAlertState::Input At(double value, double p = 0.0) { return {true, value, p}; }

TEST(FeatureAlertStateTest, EntersAfterForEvaluations) {
  FeatureAlertState s;
  const AlertPolicy p = Policy();
  EXPECT_TRUE(s.Update(p, At(0.15)));  // insufficient -> ok is a change
  EXPECT_EQ(s.level(), DriftLevel::kOk);
  EXPECT_FALSE(s.Update(p, At(0.15)));
  EXPECT_TRUE(s.Update(p, At(0.15)));  // third evaluation at warning
  EXPECT_EQ(s.level(), DriftLevel::kWarning);
  EXPECT_STREQ(s.Name(), "warning");
}

TEST(FeatureAlertStateTest, ABurstDoesNotAlert) {
  FeatureAlertState s;
  const AlertPolicy p = Policy();
  for (double v : {0.05, 0.5, 0.5, 0.05, 0.5, 0.05}) s.Update(p, At(v));
  EXPECT_EQ(s.level(), DriftLevel::kOk);
}

TEST(FeatureAlertStateTest, CriticalPassesThroughWarningCounts) {
  FeatureAlertState s;
  const AlertPolicy p = Policy();
  // Values between warning and critical, then above critical: warning after 3, critical after
  // 3 consecutive above critical.
  s.Update(p, At(0.5));
  s.Update(p, At(0.5));
  s.Update(p, At(0.5));
  EXPECT_EQ(s.level(), DriftLevel::kCritical);
}

TEST(FeatureAlertStateTest, HysteresisHoversWithoutFlapping) {
  FeatureAlertState s;
  const AlertPolicy p = Policy();
  for (int i = 0; i < 3; ++i) s.Update(p, At(0.21));
  ASSERT_EQ(s.level(), DriftLevel::kCritical);
  // Hovering just under the threshold (above 0.2 * 0.8 = 0.16) keeps it critical.
  for (int i = 0; i < 20; ++i) {
    EXPECT_FALSE(s.Update(p, At(i % 2 ? 0.19 : 0.21)));
    EXPECT_EQ(s.level(), DriftLevel::kCritical);
  }
  // Below 0.16 (but above the warning's resolve level 0.08) for 3 evaluations: down to warning.
  s.Update(p, At(0.12));
  s.Update(p, At(0.12));
  EXPECT_EQ(s.level(), DriftLevel::kCritical);
  EXPECT_TRUE(s.Update(p, At(0.12)));
  EXPECT_EQ(s.level(), DriftLevel::kWarning);
  // Below 0.08 for 3 evaluations: ok.
  s.Update(p, At(0.01));
  s.Update(p, At(0.01));
  EXPECT_TRUE(s.Update(p, At(0.01)));
  EXPECT_EQ(s.level(), DriftLevel::kOk);
}

TEST(FeatureAlertStateTest, NotSignificantIsNotDrift) {
  FeatureAlertState s;
  const AlertPolicy p = Policy();
  // A large divergence from a small window: p-value 0.2, so never drifting.
  for (int i = 0; i < 10; ++i) s.Update(p, At(0.9, 0.2));
  EXPECT_EQ(s.level(), DriftLevel::kOk);
  // Without the gate it is critical.
  AlertPolicy no_gate = p;
  no_gate.max_p_value.reset();
  FeatureAlertState t;
  for (int i = 0; i < 3; ++i) t.Update(no_gate, At(0.9, 0.2));
  EXPECT_EQ(t.level(), DriftLevel::kCritical);
}

TEST(FeatureAlertStateTest, InsufficientDataResets) {
  FeatureAlertState s;
  const AlertPolicy p = Policy();
  for (int i = 0; i < 3; ++i) s.Update(p, At(0.5));
  ASSERT_EQ(s.level(), DriftLevel::kCritical);
  EXPECT_TRUE(s.Update(p, {false, 0, 1}));
  EXPECT_FALSE(s.evaluable());
  EXPECT_STREQ(s.Name(), "insufficient_data");
  EXPECT_FALSE(s.Update(p, {false, 0, 1}));
}

// Two windows: the warning level is decided on one (the long window), the critical level on the
// other (the short one).
TEST(FeatureAlertStateTest, WarningAndCriticalFromTheirOwnWindows) {
  const AlertPolicy p = Policy();  // warning 0.1, critical 0.3, 3 evaluations
  FeatureAlertState s;
  // The short window spikes to a warning level but the long one is quiet: nothing.
  for (int i = 0; i < 5; ++i) s.Update(p, At(0.0), At(0.15));
  EXPECT_EQ(s.level(), DriftLevel::kOk);
  // The long window drifts to a warning level: warning, whatever the short one says.
  for (int i = 0; i < 3; ++i) s.Update(p, At(0.15), At(0.0));
  EXPECT_EQ(s.level(), DriftLevel::kWarning);
  // The short window reaches critical: critical, though the long one is only at warning.
  for (int i = 0; i < 3; ++i) s.Update(p, At(0.15), At(0.5));
  EXPECT_EQ(s.level(), DriftLevel::kCritical);
  // A long window at critical does not make a critical level on its own.
  FeatureAlertState t;
  for (int i = 0; i < 5; ++i) t.Update(p, At(0.5), At(0.0));
  EXPECT_EQ(t.level(), DriftLevel::kWarning);
  // Evaluable as soon as either window is.
  FeatureAlertState u;
  u.Update(p, {false, 0, 1}, At(0.0));
  EXPECT_TRUE(u.evaluable());
}

TEST(SummarizeTest, RetrainRules) {
  const AlertPolicy p = Policy();
  std::vector<FeatureAlertState> f(4);
  f[0].Update(p, At(0.0));                               // ok
  for (int i = 0; i < 3; ++i) f[1].Update(p, At(0.15));  // warning
  // f[2], f[3]: insufficient data, not part of the share
  RetrainPolicy share{0.5, std::nullopt};
  ModelAlertSummary s = Summarize(share, f);
  EXPECT_EQ(s.evaluable, 2u);
  EXPECT_EQ(s.drifted, 1u);
  EXPECT_EQ(s.critical, 0u);
  EXPECT_TRUE(s.retrain);  // 1 of 2 evaluable >= 0.5
  RetrainPolicy critical{std::nullopt, 1};
  EXPECT_FALSE(Summarize(critical, f).retrain);
  for (int i = 0; i < 3; ++i) f[1].Update(p, At(0.5));
  EXPECT_TRUE(Summarize(critical, f).retrain);
  RetrainPolicy higher_share{0.75, std::nullopt};
  EXPECT_FALSE(Summarize(higher_share, f).retrain);
  EXPECT_FALSE(Summarize(RetrainPolicy{0.5, 1}, std::vector<FeatureAlertState>(3)).retrain);
}

}  // namespace
}  // namespace driftd
