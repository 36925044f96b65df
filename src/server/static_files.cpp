#include "server/static_files.hpp"

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace tidewire::server {

namespace fs = std::filesystem;

namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// True when `path` is `root` itself or lies under it (both canonical).
bool is_within(const std::string& root, const std::string& path) {
  return path == root || (path.size() > root.size() && path.compare(0, root.size(), root) == 0 &&
                          (root.back() == '/' || path[root.size()] == '/'));
}

}  // namespace

std::string_view content_type_for(std::string_view name) {
  struct Entry {
    std::string_view ext, type;
  };
  static constexpr Entry kTypes[] = {
      {".html", "text/html; charset=utf-8"},      {".htm", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},  {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},        {".wasm", "application/wasm"},
      {".json", "application/json"},              {".map", "application/json"},
      {".svg", "image/svg+xml"},                  {".png", "image/png"},
      {".ico", "image/x-icon"},                   {".txt", "text/plain; charset=utf-8"},
      {".ts", "text/plain; charset=utf-8"},
  };
  for (const Entry& e : kTypes)
    if (ends_with(name, e.ext)) return e.type;
  return "application/octet-stream";
}

bool percent_decode(std::string_view in, std::string& out, bool plus_is_space) {
  out.clear();
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      const int hi = hex_value(in[i + 1]);
      const int lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      c = ' ';
    }
    if (c == '\0') return false;
    out.push_back(c);
  }
  return true;
}

std::optional<StaticFiles> StaticFiles::open(const std::string& root, std::string& error) {
  std::error_code ec;
  const fs::path canonical = fs::canonical(root, ec);
  if (ec || !fs::is_directory(canonical, ec)) {
    error = "static directory '" + root + "' does not exist or is not a directory";
    return std::nullopt;
  }
  return StaticFiles(canonical.string());
}

std::optional<std::string> StaticFiles::resolve(std::string_view url_path) const {
  std::string decoded;
  if (!percent_decode(url_path, decoded) || decoded.empty() || decoded.front() != '/') return std::nullopt;
  if (decoded.find('\\') != std::string::npos) return std::nullopt;

  // Rebuild the relative path segment by segment: "." and empty segments are dropped; "..", and any segment
  // starting with '.' (.git, .env), are refused rather than normalised.
  fs::path relative;
  std::size_t start = 1;
  while (start <= decoded.size()) {
    std::size_t end = decoded.find('/', start);
    if (end == std::string::npos) end = decoded.size();
    const std::string_view segment = std::string_view(decoded).substr(start, end - start);
    if (!segment.empty() && segment != ".") {
      if (segment.front() == '.') return std::nullopt;
      relative /= fs::path(std::string(segment));
    }
    start = end + 1;
  }

  std::error_code ec;
  fs::path candidate = fs::canonical(fs::path(root_) / relative, ec);  // follows symlinks: checked below
  if (ec || !is_within(root_, candidate.string())) return std::nullopt;
  if (fs::is_directory(candidate, ec)) {
    candidate = fs::canonical(candidate / "index.html", ec);
    if (ec || !is_within(root_, candidate.string())) return std::nullopt;
  }
  if (!fs::is_regular_file(candidate, ec) || ec) return std::nullopt;
  return candidate.string();
}

std::optional<StaticFile> StaticFiles::load(std::string_view url_path) const {
  const auto path = resolve(url_path);
  if (!path) return std::nullopt;
  std::error_code ec;
  const auto size = fs::file_size(*path, ec);
  if (ec || size > kMaxFileBytes) return std::nullopt;
  std::ifstream in(*path, std::ios::binary);
  if (!in) return std::nullopt;
  StaticFile f;
  f.path = *path;
  f.content_type = std::string(content_type_for(*path));
  f.body.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return f;
}

}  // namespace tidewire::server
