#include "protocol/json_value.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "protocol/json_writer.hpp"

using tidewire::protocol::JsonValue;

namespace {
JsonValue parse_ok(std::string_view text) {
  JsonValue v;
  EXPECT_TRUE(JsonValue::parse(text, v)) << text;
  return v;
}
bool parses(std::string_view text) {
  JsonValue v;
  return JsonValue::parse(text, v);
}
std::string nested(std::size_t depth, char open, char close) {
  return std::string(depth, open) + std::string(depth, close);
}
std::string double_text(double d) {
  std::string out;
  tidewire::protocol::append_json_double(out, d);
  return out;
}
}  // namespace

TEST(JsonValue, ParseThenDumpIsCompactAndKeepsOrder) {
  const JsonValue v = parse_ok(
      " {\"z\": [1, 2.50, -3e2, true, false, null, \"s\"],\n \"a\": {\"b\": {}}, \"e\": [] }\t\r\n");
  EXPECT_TRUE(v.is_object());
  EXPECT_EQ(v.size(), 3u);
  EXPECT_EQ(v.dump(), R"({"z":[1,2.50,-3e2,true,false,null,"s"],"a":{"b":{}},"e":[]})");
  // Dump, parse again, dump again: the same text.
  EXPECT_EQ(parse_ok(v.dump()).dump(), v.dump());
  EXPECT_EQ(v.members()[0].key, "z");
  EXPECT_EQ(v.find("z")->elements().size(), 7u);
  EXPECT_EQ(parse_ok("\"x\"").as_string(), "x");
  EXPECT_TRUE(parse_ok(" null ").is_null());
}

TEST(JsonValue, EscapesDecodeToUtf8AndDumpBack) {
  const JsonValue v = parse_ok(R"("q\" b\\ s\/ \b\f\n\r\t \u00e9 \u20AC \ud83d\ude00")");
  EXPECT_EQ(v.as_string(), "q\" b\\ s/ \b\f\n\r\t \xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
  EXPECT_EQ(v.dump(), "\"q\\\" b\\\\ s/ \\u0008\\u000c\\n\\r\\t \xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"");
  EXPECT_EQ(parse_ok(v.dump()).as_string(), v.as_string());
  EXPECT_EQ(parse_ok(R"("\u0000")").as_string(), std::string(1, '\0'));
  // Raw UTF-8 is kept as is.
  EXPECT_EQ(parse_ok("\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xF4\x8F\xBF\xBF\"").as_string(),
            "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xF4\x8F\xBF\xBF");
  // Keys are strings like any other.
  EXPECT_NE(parse_ok(R"({"\u00e9":1})").find("\xC3\xA9"), nullptr);
}

TEST(JsonValue, RejectsWhatRfc8259Rejects) {
  const char* bad[] = {
      "", "   ", "[1,]", R"({"a":1,})", "[,1]", "{,}", "[1 2]", R"({"a" 1})", R"({1:2})", R"({"a"})",
      "01", "-01", "00", "1.", ".5", "+1", "1e", "1e+", "-", "--1", "0x10", "NaN", "Infinity", "-Infinity",
      "tru", "nul", "True", "[1] x", "{} {}", "\"abc", "[", "{", "]", "[[]", R"({"a":1)",
      R"("\x")", R"("\u12")", R"("\u12g4")", R"("\ud800")", R"("\udc00")", R"("\ud800\u0041")",
      R"("\ud800\ud800")", R"("\ud800x")", "\"\x01\"", "\"\x1f\"", "\"a\tb\"", "\"a\nb\"",
      "\"\xff\"", "\"\x80\"", "\"\xC0\x80\"", "\"\xC1\xBF\"", "\"\xE0\x80\x80\"", "\"\xED\xA0\x80\"",
      "\"\xF0\x80\x80\x80\"", "\"\xF4\x90\x80\x80\"", "\"\xF5\x80\x80\x80\"", "\"\xC3\"", "\"\xE2\x82\"",
      "\"\xE2\x82x\"", "{\"\xff\":1}",
  };
  for (const char* text : bad) EXPECT_FALSE(parses(text)) << text;
  EXPECT_FALSE(parses(std::string_view("[1]\0", 4)));
  EXPECT_FALSE(parses(std::string_view("\"a\0b\"", 5)));
}

TEST(JsonValue, NestingDeeperThan256IsRejectedWithoutRecursion) {
  EXPECT_TRUE(parses(nested(JsonValue::kMaxDepth, '[', ']')));
  EXPECT_FALSE(parses(nested(JsonValue::kMaxDepth + 1, '[', ']')));
  EXPECT_FALSE(parses(nested(100000, '[', ']')));
  std::string objects;
  for (std::size_t i = 0; i < JsonValue::kMaxDepth; ++i) objects += "{\"a\":";
  EXPECT_TRUE(parses(objects + "1" + std::string(JsonValue::kMaxDepth, '}')));
  EXPECT_FALSE(parses("[" + objects + "1" + std::string(JsonValue::kMaxDepth, '}') + "]"));
}

TEST(JsonValue, ANumberKeepsItsTextAndConvertsExactlyWhereItCan) {
  const JsonValue big = parse_ok("9007199254740993");
  EXPECT_TRUE(big.is_integer());
  EXPECT_EQ(big.as_int(), 9007199254740993);
  EXPECT_EQ(big.as_number(), 9007199254740992.0);  // the nearest double
  EXPECT_EQ(big.dump(), "9007199254740993");       // but the text round-trips
  EXPECT_EQ(parse_ok("1763768151123").as_int(), 1763768151123);
  EXPECT_EQ(parse_ok("-42").as_int(), -42);
  EXPECT_EQ(parse_ok("0").as_int(), 0);
  EXPECT_EQ(parse_ok("9223372036854775807").as_int(), std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(parse_ok("-9223372036854775808").as_int(), std::numeric_limits<std::int64_t>::min());
  EXPECT_FALSE(parse_ok("9223372036854775808").is_integer());
  EXPECT_EQ(parse_ok("9223372036854775808").as_number(), 9223372036854775808.0);
  EXPECT_FALSE(parse_ok("123456789012345678901234567890").is_integer());
  EXPECT_DOUBLE_EQ(parse_ok("123456789012345678901234567890").as_number(), 1.2345678901234568e29);

  EXPECT_EQ(parse_ok("1.5").as_number(), 1.5);
  EXPECT_EQ(parse_ok("-0.25").as_number(), -0.25);
  EXPECT_EQ(parse_ok("1e3").as_number(), 1000.0);
  EXPECT_FALSE(parse_ok("1e3").is_integer());
  EXPECT_EQ(parse_ok("1e3").as_int(), 0);
  EXPECT_EQ(parse_ok("1E-2").as_number(), 0.01);
  EXPECT_EQ(parse_ok("1E-2").dump(), "1E-2");
  EXPECT_EQ(parse_ok("0.1").as_number(), 0.1);
  EXPECT_EQ(parse_ok("3.14159").as_number(), 3.14159);
  EXPECT_EQ(parse_ok("12.25e+1").as_number(), 122.5);
  EXPECT_EQ(parse_ok("0.000001").as_number(), 1e-6);
  EXPECT_EQ(parse_ok("1700000000000.5").as_number(), 1700000000000.5);
  EXPECT_TRUE(std::signbit(parse_ok("-0").as_number()));
  EXPECT_EQ(parse_ok("0e999999").as_number(), 0.0);
  EXPECT_EQ(parse_ok("1e-400").as_number(), 0.0);
  // Beyond the double range: clamped, and the text is kept.
  EXPECT_EQ(parse_ok("1e400").as_number(), std::numeric_limits<double>::max());
  EXPECT_EQ(parse_ok("-1e99999999999").as_number(), -std::numeric_limits<double>::max());
  EXPECT_EQ(parse_ok("1e400").dump(), "1e400");
  // Outside the exact range: close (a few ulps at most).
  EXPECT_DOUBLE_EQ(parse_ok("1.7976931348623157e308").as_number(), 1.7976931348623157e308);
  EXPECT_DOUBLE_EQ(parse_ok("6.02214076e23").as_number(), 6.02214076e23);
  EXPECT_DOUBLE_EQ(parse_ok("1.602176634e-19").as_number(), 1.602176634e-19);
  EXPECT_DOUBLE_EQ(parse_ok("0.1234567890123456789").as_number(), 0.1234567890123456789);
}

TEST(JsonValue, ObjectsKeepInsertionOrderAndTheLastDuplicateWins) {
  JsonValue o;
  o.set("b", JsonValue::integer(1));
  o.set("a", JsonValue::string("x"));
  o.set("b", JsonValue::boolean(true));  // replaced in place
  EXPECT_TRUE(o.is_object());
  EXPECT_EQ(o.dump(), R"({"b":true,"a":"x"})");
  EXPECT_TRUE(o.find("b")->as_bool());
  EXPECT_EQ(o.find("c"), nullptr);
  EXPECT_TRUE(o.erase("b"));
  EXPECT_FALSE(o.erase("b"));
  EXPECT_EQ(o.dump(), R"({"a":"x"})");
  o.find("a")->set("k", JsonValue());  // a string becomes an object
  EXPECT_EQ(o.dump(), R"({"a":{"k":null}})");

  const JsonValue dup = parse_ok(R"({"k":1,"other":0,"k":2})");
  EXPECT_EQ(dup.find("k")->as_int(), 2);
  EXPECT_EQ(dup.size(), 3u);
  EXPECT_EQ(dup.number_or("k", 0), 2);
  JsonValue copy = dup;
  EXPECT_TRUE(copy.erase("k"));
  EXPECT_EQ(copy.dump(), R"({"other":0})");

  EXPECT_EQ(dup.string_or("k", "fallback"), "fallback");  // not a string
  EXPECT_EQ(parse_ok(R"({"s":"v"})").string_or("s", "fallback"), "v");
  EXPECT_EQ(parse_ok("[1]").number_or("s", 7), 7);
  EXPECT_EQ(parse_ok("[1]").find("s"), nullptr);
}

TEST(JsonValue, ArraysAndAccessorsOnTheWrongKind) {
  JsonValue a;
  a.push_back(JsonValue::integer(1));
  a.push_back(JsonValue::string("two"));
  a.push_back(JsonValue::array());
  EXPECT_TRUE(a.is_array());
  EXPECT_EQ(a.size(), 3u);
  EXPECT_EQ(a.dump(), R"([1,"two",[]])");

  const JsonValue s = JsonValue::string("x");
  EXPECT_TRUE(s.elements().empty());
  EXPECT_TRUE(s.members().empty());
  EXPECT_EQ(s.size(), 0u);
  EXPECT_EQ(s.as_number(), 0);
  EXPECT_EQ(s.as_int(), 0);
  EXPECT_FALSE(s.as_bool());
  EXPECT_EQ(JsonValue::integer(3).as_string(), "");
  EXPECT_FALSE(JsonValue().as_bool());
  EXPECT_EQ(JsonValue().dump(), "null");
  EXPECT_EQ(JsonValue::object().dump(), "{}");
  EXPECT_EQ(JsonValue::array().dump(), "[]");
  EXPECT_EQ(JsonValue::string("a\"b").dump(), R"("a\"b")");
  EXPECT_EQ(parse_ok("true").kind(), JsonValue::Kind::kBool);
}

TEST(JsonValue, NumbersMadeInCodeDumpAsIntegersOrWithSixDecimals) {
  EXPECT_EQ(JsonValue::number(42).dump(), "42");
  EXPECT_TRUE(JsonValue::number(42).is_integer());
  EXPECT_EQ(JsonValue::number(42).as_int(), 42);
  EXPECT_EQ(JsonValue::number(0.1).dump(), "0.1");
  EXPECT_FALSE(JsonValue::number(0.1).is_integer());
  EXPECT_EQ(JsonValue::number(-2.5).dump(), "-2.5");
  EXPECT_EQ(JsonValue::number(1700000000000.0).dump(), "1700000000000");
  EXPECT_EQ(JsonValue::number(std::numeric_limits<double>::quiet_NaN()).dump(), "0");
  EXPECT_EQ(JsonValue::integer(-7).dump(), "-7");
  EXPECT_EQ(JsonValue::integer(std::numeric_limits<std::int64_t>::min()).dump(), "-9223372036854775808");
}

TEST(JsonWriter, DoublesWithoutPrintf) {
  EXPECT_EQ(double_text(0), "0");
  EXPECT_EQ(double_text(-0.0), "0");
  EXPECT_EQ(double_text(12.25), "12.25");
  EXPECT_EQ(double_text(-12.25), "-12.25");
  EXPECT_EQ(double_text(1.0 / 3), "0.333333");
  EXPECT_EQ(double_text(2.0 / 3), "0.666667");
  EXPECT_EQ(double_text(0.9999999), "1");
  EXPECT_EQ(double_text(1e-7), "0");
  EXPECT_EQ(double_text(-1e-7), "0");
  EXPECT_EQ(double_text(0.000001), "0.000001");
  EXPECT_EQ(double_text(1763768151123.25), "1763768151123.25");
  EXPECT_EQ(double_text(9007199254740992.0), "9007199254740992");
  EXPECT_EQ(double_text(-9007199254740993.0), "-9007199254740992");
  EXPECT_EQ(double_text(1e19), "1e19");
  EXPECT_EQ(double_text(-1e19), "-1e19");
  EXPECT_EQ(double_text(std::numeric_limits<double>::infinity()), "0");
  // Every output is JSON that reads back as a close number.
  for (double d : {1e300, -1e300, 1.7976931348623157e308, 123456789012345678901.0, 9.5e18, 1e22, 3e200}) {
    JsonValue v;
    ASSERT_TRUE(JsonValue::parse(double_text(d), v)) << double_text(d);
    EXPECT_NEAR(v.as_number() / d, 1.0, 1e-12) << double_text(d);
  }
  std::string out;
  tidewire::protocol::append_json_int(out, std::numeric_limits<std::int64_t>::min());
  out.push_back(' ');
  tidewire::protocol::append_json_uint(out, std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(out, "-9223372036854775808 18446744073709551615");
}
