#include "protocol/compact_batch.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "protocol/binary_frame.hpp"

using namespace tidewire::protocol;

namespace {

std::string frame_of(const std::vector<std::string>& records) {
  std::string f(1, static_cast<char>(BinaryKind::kCompactBatch));
  for (const auto& r : records) f += r;
  return f;
}

CompactMessage message(std::string_view channel, std::string_view event, std::string_view from,
                       std::string_view payload) {
  CompactMessage m;
  m.channel = channel;
  m.event = event;
  m.from = from;
  m.payload = payload;
  return m;
}

std::string message_record(const CompactMessage& m) {
  std::string out;
  EXPECT_TRUE(encode_compact_message(out, m));
  return out;
}

// The frame as JS sees it after one TextDecoder call: UTF-16 code units.
std::u16string as_utf16(const std::string& utf8) {
  std::u16string out;
  for (std::size_t i = 0; i < utf8.size();) {
    const auto b = static_cast<unsigned char>(utf8[i]);
    std::uint32_t cp = b;
    std::size_t n = 1;
    if (b >= 0xf0) { cp = b & 0x07; n = 4; }
    else if (b >= 0xe0) { cp = b & 0x0f; n = 3; }
    else if (b >= 0xc0) { cp = b & 0x1f; n = 2; }
    for (std::size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(utf8[i + k]) & 0x3f);
    if (cp >= 0x10000) {
      cp -= 0x10000;
      out.push_back(static_cast<char16_t>(0xd800 + (cp >> 10)));
      out.push_back(static_cast<char16_t>(0xdc00 + (cp & 0x3ff)));
    } else {
      out.push_back(static_cast<char16_t>(cp));
    }
    i += n;
  }
  return out;
}

}  // namespace

TEST(CompactBatch, MessagesAndJsonRecordsRoundTripInOrder) {
  CompactMessage m;
  m.channel = "room:1";
  m.event = "chat";
  m.epoch = "e1";
  m.offset = 1ull << 40;
  m.ts_ms = 1700000000123ull;
  m.from = "bob";
  m.payload = R"({"text":"hi"})";
  std::string json;
  encode_compact_json(json, R"({"type":"subscribed","channel":"room:1"})");
  const std::string frame = frame_of({json, message_record(m)});

  CompactReader reader(frame);
  CompactRecord r;
  ASSERT_EQ(reader.next(r), CompactReader::Status::kRecord);
  EXPECT_EQ(r.tag, compact::kJson);
  EXPECT_EQ(r.json, R"({"type":"subscribed","channel":"room:1"})");
  ASSERT_EQ(reader.next(r), CompactReader::Status::kRecord);
  EXPECT_EQ(r.tag, compact::kMessage);
  EXPECT_EQ(r.message.channel, "room:1");
  EXPECT_EQ(r.message.event, "chat");
  EXPECT_EQ(r.message.epoch, "e1");
  EXPECT_EQ(r.message.offset, 1ull << 40);
  EXPECT_EQ(r.message.ts_ms, 1700000000123ull);
  EXPECT_EQ(r.message.from, "bob");
  EXPECT_EQ(r.message.payload, R"({"text":"hi"})");
  EXPECT_EQ(reader.next(r), CompactReader::Status::kEnd);
}

TEST(CompactBatch, HeadersAreAsciiSoTheFrameIsValidUtf8) {
  CompactMessage m;
  m.channel = "c";
  m.event = "e";
  m.offset = ~0ull;
  m.ts_ms = 1ull << 63;
  m.payload = "1";
  for (char c : message_record(m)) EXPECT_LT(static_cast<unsigned char>(c), 0x80);
}

TEST(CompactBatch, PayloadIndexPointsIntoTheFrameDecodedOnceAsUtf16) {
  CompactMessage a = message("rööm", "é", "ünï😀", R"({"t":"😀 ä"})");
  a.epoch = "x";
  CompactMessage b = a;
  b.from = "z";
  b.payload = R"("plain")";
  std::string json;
  encode_compact_json(json, R"({"type":"reply","data":"ß"})");
  const std::string frame = frame_of({message_record(a), json, message_record(b)});
  const std::u16string text = as_utf16(frame);

  CompactReader reader(frame);
  CompactRecord r;
  std::vector<std::u16string> payloads, senders;
  while (reader.next(r) == CompactReader::Status::kRecord) {
    if (r.tag != compact::kMessage) continue;
    payloads.push_back(text.substr(r.payload_index, r.message.payload_units));
    senders.push_back(text.substr(r.payload_index - r.message.from_units, r.message.from_units));
  }
  ASSERT_EQ(payloads.size(), 2u);
  EXPECT_EQ(payloads[0], as_utf16(R"({"t":"😀 ä"})"));
  EXPECT_EQ(senders[0], as_utf16("ünï😀"));
  EXPECT_EQ(payloads[1], u"\"plain\"");
  EXPECT_EQ(senders[1], u"z");
}

TEST(CompactBatch, HeadPlusPayloadIsTheWholeRecord) {
  const CompactMessage m = message("c", "e", "u", "[1,2]");
  std::string head;
  ASSERT_TRUE(encode_compact_head(head, m));
  EXPECT_EQ(head + "[1,2]", message_record(m));
}

TEST(CompactBatch, TruncatedOrCorruptFramesAreMalformedNeverOverread) {
  const CompactMessage m = message("room", "ev", "someone", R"({"a":1})");
  const std::string frame = frame_of({message_record(m)});
  for (std::size_t n = 2; n < frame.size(); ++n) {
    CompactReader reader(std::string_view(frame.data(), n));
    CompactRecord r;
    EXPECT_EQ(reader.next(r), CompactReader::Status::kMalformed) << n;
  }
  for (const std::string bad : {std::string("\x02x\x01\x01" "a", 5), std::string("\x02m\x7f", 3),
                                std::string("\x02j\x01\x02" "a", 5), std::string("\x02j\x80", 3),
                                // payloadUnits (2) over the body's units (1): the payload would start before the record
                                std::string("\x02m\x0a\x01\0\0\0\0\0\0\0\x02" "ab", 16)}) {
    CompactReader reader(bad);
    CompactRecord r;
    EXPECT_EQ(reader.next(r), CompactReader::Status::kMalformed);
  }
}

TEST(CompactBatch, Utf16UnitsCountSurrogatePairs) {
  EXPECT_EQ(utf16_units("abc"), 3u);
  EXPECT_EQ(utf16_units("é"), 1u);
  EXPECT_EQ(utf16_units("€"), 1u);
  EXPECT_EQ(utf16_units("😀"), 2u);
}
