#include "client/control_message.hpp"

#include <nlohmann/json.hpp>

namespace tidewire::client {
namespace {

using Json = nlohmann::json;

// Keeps the top-level scalars the engine reads; nested values are skipped.
class ControlReader {
 public:
  explicit ControlReader(ControlMessage& out) : out_(out) {}

  bool null() { return done(); }
  bool boolean(bool v) {
    if (top() && key_ == "recovered") out_.recovered = v;
    return done();
  }
  bool number_integer(Json::number_integer_t v) { return number(static_cast<double>(v)); }
  bool number_unsigned(Json::number_unsigned_t v) { return number(static_cast<double>(v)); }
  bool number_float(Json::number_float_t v, const Json::string_t&) { return number(v); }
  bool string(Json::string_t& v) {
    if (top()) {
      if (key_ == "message") {
        out_.message = std::move(v);
        out_.has_message = true;
      } else if (key_ == "reason") {
        out_.reason = std::move(v);
        out_.has_reason = true;
      } else if (key_ == "epoch") {
        out_.epoch = std::move(v);
      } else if (key_ == "connectionId") {
        out_.connection_id = std::move(v);
      } else if (key_ == "userId") {
        out_.user_id = std::move(v);
      }
    }
    return done();
  }
  bool binary(Json::binary_t&) { return done(); }
  bool start_object(std::size_t) {
    if (depth_ == 0) object_ = true;
    ++depth_;
    return true;
  }
  bool key(Json::string_t& k) {
    if (depth_ == 1) key_ = std::move(k);
    return true;
  }
  bool end_object() { return close(); }
  bool start_array(std::size_t) {
    ++depth_;
    return true;
  }
  bool end_array() { return close(); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) { return false; }

 private:
  bool top() const { return depth_ == 1; }
  bool number(double v) {
    if (top()) {
      if (key_ == "offset") out_.offset = v;
      else if (key_ == "expiresAt") out_.expires_at = v;
      else if (key_ == "version") out_.version = v;
    }
    return done();
  }
  bool done() { return depth_ > 0; }  // a bare scalar is not a message
  bool close() {
    --depth_;
    return true;
  }

  ControlMessage& out_;
  std::string key_;
  int depth_ = 0;
  bool object_ = false;

 public:
  bool was_object() const { return object_; }
};

}  // namespace

bool read_control_message(std::string_view line, ControlMessage& out) {
  ControlReader reader(out);
  return Json::sax_parse(line, &reader) && reader.was_object();
}

}  // namespace tidewire::client
