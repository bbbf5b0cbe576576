#include "config/wrap.hpp"

#include <algorithm>
#include <cctype>

namespace mistral::config {

namespace {

bool is_ws(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

// Python's [^\d\W]: letters and '_' (non-ASCII bytes count as letters).
bool is_letter(char c) {
  auto u = static_cast<unsigned char>(c);
  return u >= 0x80 || std::isalpha(u) || c == '_';
}

bool is_word(char c) {
  return is_letter(c) || std::isdigit(static_cast<unsigned char>(c));
}

// textwrap's word_punct: [\w!"'&.,?]
bool is_word_punct(char c) {
  return is_word(c) || c == '!' || c == '"' || c == '\'' || c == '&' || c == '.' || c == ',' || c == '?';
}

/// Python's len(): code points, not bytes.
std::size_t length(std::string_view s) {
  return static_cast<std::size_t>(
    std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

/// An em-dash (two or more '-' followed by a word character) starting at i.
bool em_dash_at(std::string_view t, std::size_t i) {
  std::size_t j = i;
  while (j < t.size() && t[j] == '-')
    ++j;
  return j - i >= 2 && j < t.size() && is_word(t[j]);
}

/// A hyphen at i after which textwrap may break (its wordsep_re).
bool breakable_hyphen(std::string_view t, std::size_t i) {
  auto at = [&](std::size_t k) { return k < t.size() ? t[k] : '\0'; };
  bool before = (i >= 2 && is_letter(t[i - 2]) && is_letter(t[i - 1])) ||
                (i >= 3 && is_letter(t[i - 3]) && t[i - 2] == '-' && is_letter(t[i - 1]));
  bool after = is_letter(at(i + 1)) && (is_letter(at(i + 2)) || (at(i + 2) == '-' && is_letter(at(i + 3))));
  return before && after;
}

/// textwrap's _split with break_on_hyphens: whitespace runs, em-dashes and
/// words, a hyphenated word split after its hyphens.
std::vector<std::string_view> split_chunks(std::string_view t) {
  std::vector<std::string_view> chunks;
  std::size_t p = 0;
  while (p < t.size()) {
    std::size_t q = p;
    if (is_ws(t[p])) {
      while (q < t.size() && is_ws(t[q]))
        ++q;
    } else if (p > 0 && is_word_punct(t[p - 1]) && em_dash_at(t, p)) {
      while (q < t.size() && t[q] == '-')
        ++q;
    } else {
      for (q = p + 1; q < t.size(); ++q) {
        if (t[q] == '-' && breakable_hyphen(t, q)) {
          ++q;
          break;
        }
        if (is_ws(t[q]) || (is_word_punct(t[q - 1]) && em_dash_at(t, q)))
          break;
      }
    }
    chunks.push_back(t.substr(p, q - p));
    p = q;
  }
  return chunks;
}

bool blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), is_ws);
}

std::string expand_tabs(std::string_view text) {
  std::string out;
  std::size_t col = 0;
  for (char c : text) {
    if (c == '\t') {
      auto n = 8 - col % 8;
      out.append(n, ' ');
      col += n;
    } else {
      out += c;
      col = (c == '\n' || c == '\r') ? 0 : col + 1;
    }
  }
  return out;
}

} // namespace

std::vector<std::string> wrap(std::string_view text, std::size_t width, const std::string& indent) {
  auto expanded = expand_tabs(text);
  auto chunks = split_chunks(expanded);
  std::vector<std::string> lines;
  const std::size_t room = width > indent.size() ? width - indent.size() : 1;
  std::size_t next = 0;
  while (next < chunks.size()) {
    if (!lines.empty() && blank(chunks[next]))
      ++next; // a line does not start with whitespace, except the first
    std::vector<std::string_view> line;
    std::size_t len = 0;
    while (next < chunks.size() && len + length(chunks[next]) <= room) {
      len += length(chunks[next]);
      line.push_back(chunks[next++]);
    }
    // A word longer than a line is not broken: it gets a line of its own.
    if (next < chunks.size() && length(chunks[next]) > room && line.empty())
      line.push_back(chunks[next++]);
    if (!line.empty() && blank(line.back()))
      line.pop_back();
    if (!line.empty()) {
      std::string out = indent;
      for (auto c : line)
        out += c;
      lines.push_back(std::move(out));
    }
  }
  return lines;
}

} // namespace mistral::config
