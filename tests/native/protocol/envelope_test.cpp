#include "protocol/envelope.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using tidewire::protocol::Envelope;
using tidewire::protocol::for_each_message;
using tidewire::protocol::scan_envelope;
using tidewire::protocol::ScanStatus;

TEST(Envelope, ScansABroadcastWithoutTouchingThePayload) {
  const std::string msg =
      R"({"type":"channel_message","channel":"room:1","event":"chat","offset":42,"ts":1763768151123,)"
      R"("from":"alice","payload":{"text":"hi \"there\"","n":[1,{"a":"}"}]}})";
  Envelope e;
  ASSERT_EQ(scan_envelope(msg, e), ScanStatus::kOk);
  EXPECT_EQ(e.type, "channel_message");
  EXPECT_EQ(e.channel, "room:1");
  EXPECT_EQ(e.event, "chat");
  EXPECT_EQ(e.from, "alice");
  EXPECT_TRUE(e.has_offset);
  EXPECT_EQ(e.offset, 42u);
  EXPECT_TRUE(e.has_ts);
  EXPECT_DOUBLE_EQ(e.ts, 1763768151123.0);
  EXPECT_EQ(e.payload, R"({"text":"hi \"there\"","n":[1,{"a":"}"}]})");
  EXPECT_FALSE(e.has_escapes);
}

TEST(Envelope, FieldOrderIsFree) {
  Envelope e;
  ASSERT_EQ(scan_envelope(R"( { "payload" : [1,2] , "event":"e", "type" : "channel_message", "channel":"c" } )", e),
            ScanStatus::kOk);
  EXPECT_EQ(e.payload, "[1,2]");
  EXPECT_EQ(e.type, "channel_message");
  EXPECT_EQ(e.channel, "c");
}

TEST(Envelope, FlagsEscapedStrings) {
  Envelope e;
  ASSERT_EQ(scan_envelope(R"({"type":"channel_message","event":"a\"b","channel":"c","payload":1})", e),
            ScanStatus::kOk);
  EXPECT_TRUE(e.has_escapes);
}

TEST(Envelope, ScalarPayloadsAndFractionalTs) {
  Envelope e;
  ASSERT_EQ(scan_envelope(R"({"type":"pong","ts":123.5,"payload":true})", e), ScanStatus::kOk);
  EXPECT_DOUBLE_EQ(e.ts, 123.5);
  EXPECT_EQ(e.payload, "true");
}

TEST(Envelope, WrongTypedKnownFieldsAreSkippedNotMisread) {
  Envelope e;
  ASSERT_EQ(scan_envelope(R"({"type":"ack","ref":7,"offset":"x","channel":{"a":1}})", e), ScanStatus::kOk);
  EXPECT_EQ(e.ref, "");
  EXPECT_FALSE(e.has_offset);
  EXPECT_EQ(e.channel, "");
}

TEST(Envelope, RejectsMalformedInputWithoutReadingPastTheEnd) {
  const std::vector<std::string> bad = {
      "{",          R"({"type")",       R"({"type":)",         R"({"type":"x")",      R"({"type":"x",})",
      R"({"a":"\)", R"({"a":[1,2)",     R"({"a":1}x)",         R"({type:"x"})",       R"({"a" 1})",
      R"({"a":})",  std::string("{\"a\":\"\x01\"}"), R"({"payload":{"a":"}"})",
  };
  for (const auto& s : bad) {
    Envelope e;
    EXPECT_NE(scan_envelope(s, e), ScanStatus::kOk) << s;
  }
  Envelope e;
  EXPECT_EQ(scan_envelope("   ", e), ScanStatus::kEmpty);
  EXPECT_EQ(scan_envelope("[1]", e), ScanStatus::kNotObject);
  EXPECT_EQ(scan_envelope("{}", e), ScanStatus::kOk);
  // An offset that overflows uint64 is valid JSON but is not taken as an offset.
  ASSERT_EQ(scan_envelope(R"({"offset":99999999999999999999999})", e), ScanStatus::kOk);
  EXPECT_FALSE(e.has_offset);
}

TEST(Envelope, DeepNestingIsSkippedIteratively) {
  std::string deep = R"({"type":"x","payload":)" + std::string(100000, '[') + std::string(100000, ']') + "}";
  Envelope e;
  ASSERT_EQ(scan_envelope(deep, e), ScanStatus::kOk);
  EXPECT_EQ(e.payload.size(), 200000u);
}

TEST(Envelope, SplitsBatchedFrames) {
  std::vector<std::string> lines;
  for_each_message("{\"a\":1}\n\n{\"b\":2}\r\n{\"c\":3}", [&](std::string_view l) { lines.emplace_back(l); });
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], "{\"a\":1}");
  EXPECT_EQ(lines[1], "{\"b\":2}");
  EXPECT_EQ(lines[2], "{\"c\":3}");
}

TEST(EnvelopeFields, FindsTopLevelFieldsOnly) {
  using tidewire::protocol::find_field;
  const std::string_view m = R"({"type":"subscribed","nested":{"offset":9},"offset":12,"list":[1,{"epoch":"no"}],"epoch":"E1"})";
  EXPECT_EQ(find_field(m, "offset"), "12");  // not the nested one
  EXPECT_EQ(find_field(m, "epoch"), "\"E1\"");
  EXPECT_EQ(find_field(m, "nested"), "{\"offset\":9}");
  EXPECT_EQ(find_field(m, "missing"), "");
  EXPECT_EQ(find_field("[1,2]", "a"), "");
  EXPECT_EQ(find_field(R"({"a":1,)", "b"), "");   // malformed: cut off
  EXPECT_EQ(find_field(R"({"a" 1})", "a"), "");   // malformed: no colon
  EXPECT_EQ(find_field(R"({"\u0061":1})", "a"), "");  // escaped keys never match
}

TEST(EnvelopeFields, DecodesStringsNumbersAndBooleans) {
  using namespace tidewire::protocol;
  const std::string_view m =
      R"({"message":"say \"hi\" \u00e9 \ud83c\udf89","expiresAt":1700000000123,"ratio":-2.5e2,"recovered":true,"no":false,"bad":"\ud800"})";
  std::string s = "unchanged";
  ASSERT_TRUE(field_string(m, "message", s));
  EXPECT_EQ(s, "say \"hi\" \xc3\xa9 \xf0\x9f\x8e\x89");
  s = "unchanged";
  EXPECT_FALSE(field_string(m, "bad", s));  // a lone surrogate is not text
  EXPECT_FALSE(field_string(m, "expiresAt", s));
  EXPECT_FALSE(field_string(m, "missing", s));
  EXPECT_EQ(s, "unchanged");
  double d = 0;
  ASSERT_TRUE(field_number(m, "expiresAt", d));
  EXPECT_EQ(d, 1700000000123.0);
  ASSERT_TRUE(field_number(m, "ratio", d));
  EXPECT_EQ(d, -250.0);
  EXPECT_FALSE(field_number(m, "message", d));
  d = 7;
  EXPECT_FALSE(field_number(R"({"n":12abc})", "n", d));
  EXPECT_EQ(d, 7.0);  // a refused number leaves the target as it was
  EXPECT_TRUE(field_is_true(m, "recovered"));
  EXPECT_FALSE(field_is_true(m, "no"));
  EXPECT_FALSE(field_is_true(m, "missing"));
}

#include "protocol/names.hpp"

TEST(Names, Utf8Validation) {
  using tidewire::protocol::is_valid_utf8;
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain ascii"));
  EXPECT_TRUE(is_valid_utf8("é ☃ 🎉"));
  EXPECT_FALSE(is_valid_utf8("\xe2\x31"));          // truncated sequence
  EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));          // overlong
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xff"));
  EXPECT_FALSE(is_valid_utf8("ok\xe2\x82"));        // cut at the end
}
