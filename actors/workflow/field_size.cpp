#include "actors/workflow/field_size.hpp"

#include "dsl/expr/py_value.hpp"

namespace mistral::engine {

namespace {

// sys.getsizeof of a CPython 3.11 str: a header plus 1, 2 or 4 bytes per code
// point, chosen by the widest code point (PEP 393).
std::int64_t python_str_size(const std::string& utf8) {
  std::int64_t chars = 0;
  std::uint32_t widest = 0;
  for (std::size_t i = 0; i < utf8.size();) {
    unsigned char c = static_cast<unsigned char>(utf8[i]);
    std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : 4;
    std::uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
    for (std::size_t k = 1; k < len && i + k < utf8.size(); ++k)
      cp = (cp << 6) | (static_cast<unsigned char>(utf8[i + k]) & 0x3F);
    widest = std::max(widest, cp);
    ++chars;
    i += len;
  }
  if (widest < 0x80)
    return 49 + chars;
  if (widest < 0x100)
    return 73 + chars;
  if (widest < 0x10000)
    return 74 + 2 * chars;
  return 76 + 4 * chars;
}

} // namespace

std::int64_t python_size_kb(const json& value) {
  return python_str_size(expr::py_str(value)) / 1024;
}

std::optional<std::string> field_size_error(const std::string& field, const json& value,
                                            std::int64_t limit_kb) {
  // Python's `if value:`: None, empty and zero values are never checked.
  if (limit_kb < 0 || !expr::py_truthy(value))
    return std::nullopt;
  auto size = python_size_kb(value);
  if (size <= limit_kb)
    return std::nullopt;
  return "Field size limit exceeded [class=TaskExecution, field=" + field + ", size=" + std::to_string(size) +
         "KB, limit=" + std::to_string(limit_kb) + "KB]";
}

std::string cut_text(const std::string& utf8, std::int64_t length) {
  if (length < 0)
    return utf8;
  std::int64_t chars = 0;
  for (std::size_t i = 0; i < utf8.size(); ++i) {
    if ((static_cast<unsigned char>(utf8[i]) & 0xC0) == 0x80)
      continue; // a continuation byte
    if (chars == length)
      return utf8.substr(0, i) + "...";
    ++chars;
  }
  return utf8;
}

std::string cut_state_info(const std::string& utf8) {
  return cut_text(utf8, 65500);
}

std::string cut_text_by_kb(const std::string& utf8, std::int64_t limit_kb) {
  // get_number_of_chars_from_kilobytes: one byte per character.
  return cut_text(utf8, limit_kb * 1024);
}

} // namespace mistral::engine
