#include "daemon/ingest/line_splitter.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace driftd {
namespace {

struct Collected {
  std::vector<std::string> lines;
  int too_long = 0;
  std::vector<std::string> heads;  // what on_too_long was given
};

void Feed(LineSplitter* s, std::string_view data, Collected* c) {
  s->Feed(
      data, [&](std::string_view line) { c->lines.emplace_back(line); },
      [&](std::string_view head) {
        ++c->too_long;
        c->heads.emplace_back(head);
      });
}

TEST(LineSplitterTest, LinesWithinAndAcrossFeeds) {
  LineSplitter s(100);
  Collected c;
  Feed(&s, "a\nbb\ncc", &c);
  Feed(&s, "c\n", &c);
  Feed(&s, "\nd", &c);
  EXPECT_EQ(c.lines, (std::vector<std::string>{"a", "bb", "ccc", ""}));
  EXPECT_EQ(s.rest(), "d");
  EXPECT_EQ(c.too_long, 0);
}

TEST(LineSplitterTest, ByteAtATime) {
  LineSplitter s(100);
  Collected c;
  const std::string data = "first line\nsecond\n";
  for (char ch : data) Feed(&s, std::string_view(&ch, 1), &c);
  EXPECT_EQ(c.lines, (std::vector<std::string>{"first line", "second"}));
  EXPECT_TRUE(s.rest().empty());
}

TEST(LineSplitterTest, OverlongLineIsReportedOnceAndSkippedToItsEnd) {
  LineSplitter s(8);
  Collected c;
  Feed(&s, "ok\n0123456789", &c);  // 10 bytes so far: too long
  Feed(&s, "more of the same line", &c);
  Feed(&s, " end\nafter\n", &c);
  EXPECT_EQ(c.lines, (std::vector<std::string>{"ok", "after"}));
  EXPECT_EQ(c.too_long, 1);
  EXPECT_EQ(c.heads, (std::vector<std::string>{"0123456789"}));  // for the log's sample
  // Exactly the limit is fine; one more is not.
  Collected d;
  Feed(&s, "12345678\n123456789\nx\n", &d);
  EXPECT_EQ(d.lines, (std::vector<std::string>{"12345678", "x"}));
  EXPECT_EQ(d.too_long, 1);
  EXPECT_EQ(d.heads, (std::vector<std::string>{"123456789"}));
}

TEST(LineSplitterTest, AnOverlongLineAcrossFeedsGivesItsHead) {
  LineSplitter s(8);
  Collected c;
  Feed(&s, "0123", &c);
  Feed(&s, "456789abcdefghijklmnop\nz\n", &c);
  EXPECT_EQ(c.lines, (std::vector<std::string>{"z"}));
  ASSERT_EQ(c.heads.size(), 1u);
  EXPECT_EQ(c.heads[0], "0123456789ab");  // what was buffered, plus at most max more bytes
}

TEST(LineSplitterTest, MemoryStaysBoundedWithoutNewlines) {
  LineSplitter s(1024);
  Collected c;
  const std::string chunk(4096, 'x');
  for (int i = 0; i < 1000; ++i) Feed(&s, chunk, &c);
  EXPECT_EQ(c.too_long, 1);
  EXPECT_TRUE(s.rest().empty());  // nothing of the overlong line is kept
}

// A long line's buffer is given back once the line ends, so an idle connection that once sent
// one holds no more than kKeptCapacity; short lines keep theirs for reuse.
TEST(LineSplitterTest, ALongLinesBufferIsGivenBack) {
  LineSplitter s(1 << 20);
  Collected c;
  const std::string long_line(60000, 'x');
  Feed(&s, long_line.substr(0, 100), &c);
  Feed(&s, long_line.substr(100), &c);
  EXPECT_GE(s.buffered_capacity(), long_line.size());
  Feed(&s, "\n", &c);
  ASSERT_EQ(c.lines.size(), 1u);
  EXPECT_EQ(c.lines[0].size(), long_line.size());
  EXPECT_LE(s.buffered_capacity(), LineSplitter::kKeptCapacity);
  Feed(&s, "ab", &c);
  Feed(&s, "c\n", &c);
  EXPECT_EQ(c.lines.back(), "abc");
  EXPECT_LE(s.buffered_capacity(), LineSplitter::kKeptCapacity);
}

TEST(LineSplitterTest, InLineWhileALineIsUnfinished) {
  LineSplitter s(8);
  Collected c;
  EXPECT_FALSE(s.in_line());
  Feed(&s, "abc", &c);
  EXPECT_TRUE(s.in_line());
  Feed(&s, "\n", &c);
  EXPECT_FALSE(s.in_line());
  Feed(&s, "0123456789", &c);  // overlong: skipped, nothing buffered, but the line goes on
  EXPECT_TRUE(s.rest().empty());
  EXPECT_TRUE(s.in_line());
  Feed(&s, "9\n", &c);
  EXPECT_FALSE(s.in_line());
  s.Reset();
  EXPECT_FALSE(s.in_line());
}

}  // namespace
}  // namespace driftd
