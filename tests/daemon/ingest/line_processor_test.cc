#include "daemon/ingest/line_processor.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <string>
#include <vector>

namespace driftd {
namespace {

constexpr double kNow = 1'732'060'800;

// One model "m" with a numeric feature x (bins [0,1) [1,2]) and the metrics of one transport.
class LineProcessorTest : public ::testing::Test {
 protected:
  LineProcessorTest() : metrics_(&registry_) {
    std::vector<std::string> errors;
    auto ref = ParseReference(R"({"model": "m", "version": "1", "features": {
        "x": {"type": "numeric", "edges": [0, 1, 2], "counts": [5, 5]}}})",
                              "m.json", &errors);
    EXPECT_TRUE(ref);
    MonitorOptions o;
    o.windows = {{"w", {600, 10}}};
    o.min_samples = 1;
    monitor_ = std::make_unique<Monitor>(o, std::vector<Reference>{*ref}, kNow);
  }

  LineProcessor Processor(size_t max_line_bytes = 1024) {
    return LineProcessor(monitor_.get(), &metrics_.transport(Transport::kTcp), metrics_.values(),
                         &limiter_, max_line_bytes);
  }
  double Errors(Reason r) {
    return metrics_.transport(Transport::kTcp).errors[static_cast<size_t>(r)]->Value();
  }
  double Records(Format f) {
    return metrics_.transport(Transport::kTcp).records[static_cast<size_t>(f)]->Value();
  }
  uint64_t Samples() { return monitor_->Evaluate(kNow)->models[0].features[0].samples; }

  prometheus::Registry registry_;
  IngestMetrics metrics_;
  LogRateLimiter limiter_{0};  // nothing is logged
  std::unique_ptr<Monitor> monitor_;
};

TEST_F(LineProcessorTest, LinesAcrossFeedsAndFormats) {
  LineProcessor p = Processor();
  p.Feed("{\"model\": \"m\", \"features\": {\"x\": 0.5}}\nm x=1", kNow);
  p.Feed(".5\n", kNow);
  p.Flush();
  EXPECT_EQ(p.accepted(), 2u);
  EXPECT_EQ(Records(Format::kJson), 1);
  EXPECT_EQ(Records(Format::kLineProtocol), 1);
  EXPECT_EQ(metrics_.values()->Value(), 2);
  EXPECT_EQ(Samples(), 2u);
}

TEST_F(LineProcessorTest, HugeTimestampsAreFutureOrLateNeverAnOverflow) {
  LineProcessor p = Processor();
  p.Feed(
      "{\"model\": \"m\", \"features\": {\"x\": 0.5}, \"ts\": 1e300}\n"
      "{\"model\": \"m\", \"features\": {\"x\": 0.5}, \"ts\": 9.3e18}\n"
      "{\"model\": \"m\", \"features\": {\"x\": 0.5}, \"ts\": -1e300}\n"
      "m x=0.5 9223372036854775807\n"   // the largest int64 nanoseconds: year 2262
      "m x=0.5 -9223372036854775808\n"  // the smallest: 1677
      "{\"model\": \"m\", \"features\": {\"x\": 0.5}, \"ts\": 1e999}\n",  // not a double
      kNow);
  p.Flush();
  EXPECT_EQ(Errors(Reason::kFuture), 3);
  EXPECT_EQ(Errors(Reason::kLate), 2);
  EXPECT_EQ(Errors(Reason::kBadTimestamp), 1);
  EXPECT_EQ(p.accepted(), 0u);
  EXPECT_EQ(Samples(), 0u);
}

TEST_F(LineProcessorTest, AMessageEndsItsLastLineAStreamMayCutIt) {
  LineProcessor datagram = Processor();
  datagram.Feed("m x=0.5", kNow);
  datagram.EndMessage(kNow);
  datagram.Flush();  // releases the model's lock, which Evaluate() takes
  EXPECT_EQ(datagram.accepted(), 1u);

  LineProcessor stream = Processor();
  stream.Feed("m x=1.5\nm x=", kNow);  // the connection closes in the middle of a line
  stream.EndStream(kNow);
  stream.Flush();
  EXPECT_EQ(stream.accepted(), 1u);
  EXPECT_EQ(Errors(Reason::kTruncatedLine), 1);
  EXPECT_EQ(Errors(Reason::kMalformedLineProtocol), 0);

  LineProcessor complete = Processor();
  complete.Feed("m x=1.5", kNow);  // a last line without its newline, but whole
  complete.EndStream(kNow);
  complete.Flush();
  EXPECT_EQ(complete.accepted(), 1u);
  EXPECT_EQ(Samples(), 3u);
}

TEST_F(LineProcessorTest, EachRejectionHasItsReasonAndMessage) {
  LineProcessor p = Processor(64);
  p.Feed("{\"model\": \"nope\", \"features\": {\"x\": 1}}\n", kNow);
  EXPECT_EQ(p.last_error(), "unknown model \"nope\"");
  p.Feed("m x=1 " + std::to_string(static_cast<int64_t>((kNow - 10000) * 1e9)) + "\n", kNow);
  EXPECT_EQ(p.last_error(), "timestamp older than the window");
  p.Feed("m x=1 " + std::to_string(static_cast<int64_t>((kNow + 3600) * 1e9)) + "\n", kNow);
  EXPECT_EQ(p.last_error(), "timestamp more than one slice ahead of driftd's clock");
  p.Feed("m x=1 " + std::string(80, 'y') + "\nm x=0.5\n", kNow);  // over 64 bytes, then good
  EXPECT_EQ(p.last_error().rfind("line_too_long: ", 0), 0u) << p.last_error();
  p.Feed("{\"model\": \"m\"\n", kNow);
  EXPECT_EQ(p.last_error().rfind("malformed_json: ", 0), 0u) << p.last_error();
  p.Flush();
  EXPECT_EQ(p.accepted(), 1u);
  EXPECT_EQ(p.rejected(), 5u);
  for (Reason r : {Reason::kUnknownModel, Reason::kLate, Reason::kFuture, Reason::kLineTooLong,
                   Reason::kMalformedJson}) {
    EXPECT_EQ(Errors(r), 1) << ReasonLabel(r);
  }
}

// Processors of one thread may share one decoder: each line is decoded and applied within the
// call, so interleaving two streams' reads loses and mixes nothing.
TEST_F(LineProcessorTest, ProcessorsSharingAScratchStayApart) {
  DecodeScratch scratch;
  LineProcessor a(monitor_.get(), &metrics_.transport(Transport::kTcp), metrics_.values(),
                  &limiter_, 1024, &scratch);
  LineProcessor b(monitor_.get(), &metrics_.transport(Transport::kTcp), metrics_.values(),
                  &limiter_, 1024, &scratch);
  // Each read is flushed before the next one, as the listeners do (a batch holds its model).
  auto read = [](LineProcessor& p, std::string_view bytes) {
    p.Feed(bytes, kNow);
    p.Flush();
  };
  read(a, "{\"model\": \"m\", \"features\": {\"x\":");
  read(b, "m x=1.5\nm x=");
  read(a, " 0.5}}\nnosuch x=1\n");
  read(b, "0.25\n");
  EXPECT_EQ(a.accepted(), 1u);
  EXPECT_EQ(a.rejected(), 1u);
  EXPECT_EQ(a.last_error(), "unknown model \"nosuch\"");
  EXPECT_EQ(b.accepted(), 2u);
  EXPECT_EQ(Records(Format::kJson), 1);
  EXPECT_EQ(Records(Format::kLineProtocol), 3);  // "nosuch x=1" is a record, of no model
  EXPECT_EQ(Samples(), 3u);
}

TEST_F(LineProcessorTest, DropPartialLine) {
  LineProcessor p = Processor();
  EXPECT_FALSE(p.DropPartialLine());
  p.Feed("m x=0.5\nm x=", kNow);
  EXPECT_TRUE(p.DropPartialLine());
  p.EndStream(kNow);
  p.Flush();
  EXPECT_EQ(Errors(Reason::kTruncatedLine), 0);
  EXPECT_EQ(p.accepted(), 1u);
}

}  // namespace
}  // namespace driftd
