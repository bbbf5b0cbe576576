#include "dsl/expr/jinja_parser.hpp"

#include "dsl/expr/jinja_builtins.hpp"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <set>

namespace mistral::expr::jinja {

namespace {

// ---------------------------------------------------------------- tokens

enum class tok : std::uint8_t {
  data,
  var_begin,
  var_end,
  block_begin,
  block_end,
  name,
  string,
  integer,
  floating,
  op,
  eof
};

struct token {
  tok type = tok::eof;
  std::string text; ///< data text, name, string value, operator symbol
  int_t ival = 0;
  double fval = 0;
  int line = 1;
};

/// Nesting limit of the parser: deeper input is a syntax error, not a
/// stack overflow.
constexpr int max_parse_depth = 400;

[[noreturn]] void syntax_error(const std::string& msg, int line) {
  raise("TemplateSyntaxError", msg + " (line " + std::to_string(line) + ")");
}

std::string describe(const token& t) {
  switch (t.type) {
    case tok::name: return t.text;
    case tok::op: return t.text;
    case tok::data: return "template data / text";
    case tok::var_begin: return "begin of print statement";
    case tok::var_end: return "end of print statement";
    case tok::block_begin: return "begin of statement block";
    case tok::block_end: return "end of statement block";
    case tok::string: return "string";
    case tok::integer: return "integer";
    case tok::floating: return "float";
    case tok::eof: return "end of template";
  }
  return "?";
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/// Python's unicode-escape decoding of a string literal's body.
std::string unescape(const std::string& s, int line) {
  std::string out;
  auto put_cp = [&](unsigned long cp) {
    if (cp > 0x10FFFF)
      syntax_error("illegal Unicode character", line);
    if (cp < 0x80)
      out += static_cast<char>(cp);
    else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  };
  auto hex_escape = [&](std::size_t& n, int digits) {
    if (n + digits > s.size())
      syntax_error("truncated \\xXX escape", line);
    unsigned long cp = 0;
    for (int k = 0; k < digits; ++k) {
      char h = s[n + k];
      if (!std::isxdigit(static_cast<unsigned char>(h)))
        syntax_error("truncated escape", line);
      cp = cp * 16 + (std::isdigit(static_cast<unsigned char>(h)) ? h - '0' : (std::tolower(h) - 'a' + 10));
    }
    n += digits;
    put_cp(cp);
  };
  for (std::size_t n = 0; n < s.size();) {
    char c = s[n++];
    if (c != '\\' || n >= s.size()) {
      out += c;
      continue;
    }
    char e = s[n++];
    switch (e) {
      case '\n': break;
      case '\\': out += '\\'; break;
      case '\'': out += '\''; break;
      case '"': out += '"'; break;
      case 'a': out += '\a'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'v': out += '\v'; break;
      case 'x': hex_escape(n, 2); break;
      case 'u': hex_escape(n, 4); break;
      case 'U': hex_escape(n, 8); break;
      default:
        if (e >= '0' && e <= '7') {
          unsigned long cp = static_cast<unsigned long>(e - '0');
          for (int k = 0; k < 2 && n < s.size() && s[n] >= '0' && s[n] <= '7'; ++k)
            cp = cp * 8 + static_cast<unsigned long>(s[n++] - '0');
          put_cp(cp);
        } else {
          out += '\\';
          out += e;
        }
    }
  }
  return out;
}

// ---------------------------------------------------------------- lexer

class lexer {
public:
  explicit lexer(std::string_view source) {
    // Newlines are normalised and one trailing newline dropped, as
    // Lexer.tokeniter does with keep_trailing_newline off.
    src_.reserve(source.size());
    for (std::size_t n = 0; n < source.size(); ++n) {
      if (source[n] == '\r') {
        src_ += '\n';
        if (n + 1 < source.size() && source[n + 1] == '\n')
          ++n;
      } else {
        src_ += source[n];
      }
    }
    if (!src_.empty() && src_.back() == '\n')
      src_.pop_back();
  }

  std::vector<token> template_tokens() {
    while (pos_ < src_.size())
      root_step();
    push(tok::eof);
    return std::move(out_);
  }

  std::vector<token> expression_tokens() {
    tag_tokens(false, true);
    push(tok::eof);
    return std::move(out_);
  }

private:
  std::string src_;
  std::size_t pos_ = 0;
  int line_ = 1;
  bool line_starting_ = true;
  std::vector<token> out_;
  std::vector<char> balance_;

  bool at(std::size_t p, std::string_view s) const { return src_.compare(p, s.size(), s) == 0; }

  void push(tok t, std::string text = {}) {
    token k;
    k.type = t;
    k.text = std::move(text);
    k.line = line_;
    out_.push_back(std::move(k));
  }

  void count_lines(std::size_t from, std::size_t to) {
    for (std::size_t n = from; n < to && n < src_.size(); ++n)
      if (src_[n] == '\n')
        ++line_;
  }

  std::size_t skip_ws(std::size_t p) const {
    while (p < src_.size() && is_space(src_[p]))
      ++p;
    return p;
  }

  /// Matches `{%(-|+|)\s*raw\s*(-%}\s*|%})` at p; returns the end or npos.
  std::size_t match_raw_begin(std::size_t p) const {
    if (!at(p, "{%"))
      return std::string::npos;
    p += 2;
    if (p < src_.size() && (src_[p] == '-' || src_[p] == '+'))
      ++p;
    p = skip_ws(p);
    if (!at(p, "raw"))
      return std::string::npos;
    p = skip_ws(p + 3);
    if (at(p, "-%}"))
      return skip_ws(p + 3);
    if (at(p, "%}"))
      return p + 2;
    return std::string::npos;
  }

  /// Text before a tag, with `-` stripping and lstrip_blocks applied.
  std::string strip_before(std::string text, char sign, bool variable) {
    if (sign == '-') {
      std::size_t e = text.size();
      while (e > 0 && is_space(text[e - 1]))
        --e;
      text.resize(e);
    } else if (sign != '+' && !variable) {
      std::size_t nl = text.rfind('\n');
      std::size_t l_pos = nl == std::string::npos ? 0 : nl + 1;
      if ((l_pos > 0 || line_starting_) && l_pos < text.size()) {
        bool ws = true;
        for (std::size_t n = l_pos; n < text.size(); ++n)
          ws = ws && is_space(text[n]);
        if (ws)
          text.resize(l_pos);
      }
    }
    return text;
  }

  void emit_data(std::string text, std::size_t from, std::size_t to) {
    if (!text.empty())
      push(tok::data, std::move(text));
    count_lines(from, to);
  }

  void root_step() {
    std::size_t o = pos_;
    char kind = 0;
    std::size_t raw_end = std::string::npos;
    for (; o + 1 < src_.size(); ++o) {
      if (src_[o] != '{')
        continue;
      char c = src_[o + 1];
      if (c == '%' && (raw_end = match_raw_begin(o)) != std::string::npos) {
        kind = 'r';
        break;
      }
      if (c == '{' || c == '%' || c == '#') {
        kind = c;
        break;
      }
    }
    if (!kind) {
      emit_data(src_.substr(pos_), pos_, src_.size());
      pos_ = src_.size();
      return;
    }
    char sign = 0;
    if (o + 2 < src_.size() && (src_[o + 2] == '-' || src_[o + 2] == '+'))
      sign = src_[o + 2];
    emit_data(strip_before(src_.substr(pos_, o - pos_), sign, kind == '{'), pos_, o);
    line_starting_ = false;
    if (kind == 'r') {
      count_lines(o, raw_end);
      line_starting_ = src_[raw_end - 1] == '\n';
      pos_ = raw_end;
      raw_body();
      return;
    }
    pos_ = o + 2 + (sign ? 1 : 0);
    if (kind == '#')
      comment();
    else
      tag_tokens(kind == '%', false);
  }

  void comment() {
    for (std::size_t p = pos_; p < src_.size(); ++p) {
      std::size_t end = std::string::npos;
      if (at(p, "+#}"))
        end = p + 3;
      else if (at(p, "-#}"))
        end = skip_ws(p + 3);
      else if (at(p, "#}"))
        end = p + 2 + (at(p + 2, "\n") ? 1 : 0);
      if (end == std::string::npos)
        continue;
      count_lines(pos_, end);
      line_starting_ = src_[end - 1] == '\n';
      pos_ = end;
      return;
    }
    // the failure rule needs one character: an opener at the very end is ignored
    if (pos_ >= src_.size())
      return;
    syntax_error("Missing end of comment tag", line_);
  }

  void raw_body() {
    for (std::size_t p = pos_; p < src_.size(); ++p) {
      if (!at(p, "{%"))
        continue;
      std::size_t q = p + 2;
      char sign = 0;
      if (q < src_.size() && (src_[q] == '-' || src_[q] == '+'))
        sign = src_[q++];
      q = skip_ws(q);
      if (!at(q, "endraw"))
        continue;
      q = skip_ws(q + 6);
      std::size_t end = std::string::npos;
      if (at(q, "+%}"))
        end = q + 3;
      else if (at(q, "-%}"))
        end = skip_ws(q + 3);
      else if (at(q, "%}"))
        end = q + 2 + (at(q + 2, "\n") ? 1 : 0);
      if (end == std::string::npos)
        continue;
      emit_data(strip_before(src_.substr(pos_, p - pos_), sign, false), pos_, p);
      count_lines(p, end);
      line_starting_ = src_[end - 1] == '\n';
      pos_ = end;
      return;
    }
    if (pos_ >= src_.size())
      return;
    syntax_error("Missing end of raw directive", line_);
  }

  /// Matches the end of a tag at pos_; returns the end or npos.
  std::size_t match_tag_end(bool block) const {
    if (block) {
      if (at(pos_, "+%}"))
        return pos_ + 3;
      if (at(pos_, "-%}"))
        return skip_ws(pos_ + 3);
      if (at(pos_, "%}"))
        return pos_ + 2 + (at(pos_ + 2, "\n") ? 1 : 0);
    } else {
      if (at(pos_, "-}}"))
        return skip_ws(pos_ + 3);
      if (at(pos_, "}}"))
        return pos_ + 2;
    }
    return std::string::npos;
  }

  void tag_tokens(bool block, bool expression_only) {
    if (!expression_only)
      push(block ? tok::block_begin : tok::var_begin);
    while (pos_ < src_.size()) {
      if (!expression_only && balance_.empty()) {
        std::size_t end = match_tag_end(block);
        if (end != std::string::npos) {
          push(block ? tok::block_end : tok::var_end);
          count_lines(pos_, end);
          line_starting_ = src_[end - 1] == '\n';
          pos_ = end;
          return;
        }
      }
      if (is_space(src_[pos_])) {
        std::size_t e = skip_ws(pos_);
        count_lines(pos_, e);
        pos_ = e;
        continue;
      }
      if (!lex_number() && !lex_name() && !lex_string() && !lex_operator()) {
        std::string c(1, src_[pos_]);
        std::string shown = c == "'" ? "\"'\"" : "'" + c + "'";
        syntax_error("unexpected char " + shown + " at " + std::to_string(pos_), line_);
      }
    }
  }

  /// Digits with single `_` separators from p; returns the end (p if none).
  std::size_t digits(std::size_t p, int base = 10) const {
    auto ok = [&](char c) {
      if (base == 10)
        return std::isdigit(static_cast<unsigned char>(c)) != 0;
      if (base == 16)
        return std::isxdigit(static_cast<unsigned char>(c)) != 0;
      if (base == 8)
        return c >= '0' && c <= '7';
      return c == '0' || c == '1';
    };
    std::size_t q = p;
    while (q < src_.size()) {
      if (ok(src_[q]))
        ++q;
      else if (src_[q] == '_' && q > p && q + 1 < src_.size() && ok(src_[q + 1]))
        ++q;
      else
        break;
    }
    return q;
  }

  static std::string no_underscores(std::string s) {
    std::string r;
    for (char c : s)
      if (c != '_')
        r += c;
    return r;
  }

  bool lex_number() {
    char c = src_[pos_];
    if (!std::isdigit(static_cast<unsigned char>(c)))
      return false;
    // float first, as the lexer's rule order has it
    if (pos_ == 0 || src_[pos_ - 1] != '.') {
      std::size_t ip = digits(pos_);
      std::size_t end = std::string::npos;
      std::size_t q = ip;
      if (q < src_.size() && src_[q] == '.') {
        std::size_t f = digits(q + 1);
        if (f > q + 1)
          q = f;
      }
      if (q < src_.size() && (src_[q] == 'e' || src_[q] == 'E')) {
        std::size_t x = q + 1;
        if (x < src_.size() && (src_[x] == '+' || src_[x] == '-'))
          ++x;
        std::size_t xe = digits(x);
        if (xe > x)
          end = xe;
      }
      if (end == std::string::npos && ip < src_.size() && src_[ip] == '.') {
        std::size_t f = digits(ip + 1);
        if (f > ip + 1)
          end = f;
      }
      if (end != std::string::npos) {
        std::string text = no_underscores(src_.substr(pos_, end - pos_));
        push(tok::floating, text);
        out_.back().fval = std::strtod(text.c_str(), nullptr);
        pos_ = end;
        return true;
      }
    }
    std::size_t end = pos_;
    int base = 10;
    if (c == '0' && pos_ + 2 < src_.size() + 1 && pos_ + 1 < src_.size()) {
      char p = static_cast<char>(std::tolower(src_[pos_ + 1]));
      base = p == 'b' ? 2 : p == 'o' ? 8 : p == 'x' ? 16 : 10;
    }
    std::size_t body = pos_;
    if (base != 10) {
      // 0x(_?[\da-f])+ : an underscore may follow the prefix
      std::size_t q = pos_ + 2;
      if (q < src_.size() && src_[q] == '_')
        ++q;
      std::size_t e = digits(q, base);
      if (e > q) {
        end = e;
        body = pos_ + 2;
      } else {
        base = 10;
      }
    }
    if (base == 10) {
      if (c == '0') {
        end = pos_ + 1;
        while (end < src_.size() &&
               (src_[end] == '0' || (src_[end] == '_' && end + 1 < src_.size() && src_[end + 1] == '0')))
          ++end;
      } else {
        end = digits(pos_);
      }
    }
    std::string text = no_underscores(src_.substr(body, end - body));
    int_t v = 0;
    for (char d : text) {
      int dv = std::isdigit(static_cast<unsigned char>(d)) ? d - '0' : std::tolower(d) - 'a' + 10;
      if (v > (static_cast<int_t>(1) << 120))
        syntax_error("integer literal too large", line_);
      v = v * base + dv;
    }
    push(tok::integer, text);
    out_.back().ival = v;
    pos_ = end;
    return true;
  }

  bool lex_name() {
    char c = src_[pos_];
    if (!(std::isalpha(static_cast<unsigned char>(c)) || c == '_'))
      return false;
    std::size_t e = pos_;
    while (e < src_.size() && (std::isalnum(static_cast<unsigned char>(src_[e])) || src_[e] == '_'))
      ++e;
    push(tok::name, src_.substr(pos_, e - pos_));
    pos_ = e;
    return true;
  }

  bool lex_string() {
    char q = src_[pos_];
    if (q != '\'' && q != '"')
      return false;
    std::size_t p = pos_ + 1;
    while (p < src_.size() && src_[p] != q)
      p += src_[p] == '\\' ? 2 : 1;
    if (p >= src_.size())
      return false;
    int start_line = line_;
    std::string body = src_.substr(pos_ + 1, p - pos_ - 1);
    push(tok::string, unescape(body, start_line));
    count_lines(pos_, p);
    pos_ = p + 1;
    return true;
  }

  bool lex_operator() {
    static const char* ops[] = {"**", "//", "==", "!=", ">=", "<=", "+", "-", "/", "*", "%", "~", "[",
                                "]",  "(",  ")",  "{",  "}",  ">",  "<", "=", ".", ":", "|", ",", ";"};
    for (const char* o : ops) {
      if (!at(pos_, o))
        continue;
      std::string s = o;
      if (s == "{" || s == "(" || s == "[") {
        balance_.push_back(s == "{" ? '}' : s == "(" ? ')' : ']');
      } else if (s == "}" || s == ")" || s == "]") {
        if (balance_.empty())
          syntax_error("unexpected '" + s + "'", line_);
        char want = balance_.back();
        balance_.pop_back();
        if (want != s[0])
          syntax_error("unexpected '" + s + "', expected '" + std::string(1, want) + "'", line_);
      }
      push(tok::op, s);
      pos_ += s.size();
      return true;
    }
    return false;
  }
};

// ---------------------------------------------------------------- parser

const std::set<std::string> statement_keywords = {"for",    "if",    "block",   "extends",
                                                  "print",  "macro", "include", "from",
                                                  "import", "set",   "with",    "autoescape"};

class parser {
public:
  explicit parser(std::vector<token> tokens) : t_(std::move(tokens)) {}

  node_list parse_template() { return subparse({}); }

  node_ptr parse_whole_expression() {
    auto e = parse_expression();
    if (cur().type != tok::eof)
      syntax_error("chunk after expression", cur().line);
    return e;
  }

private:
  std::vector<token> t_;
  std::size_t p_ = 0;
  int depth_ = 0;
  std::vector<std::vector<std::string>> end_stack_;
  std::vector<std::string> tag_stack_;

  struct depth_guard {
    parser& p;
    explicit depth_guard(parser& q) : p(q) {
      if (++p.depth_ > max_parse_depth)
        syntax_error("expression nested too deeply", p.cur().line);
    }
    ~depth_guard() { --p.depth_; }
  };

  /// Counts the levels a left-deep chain (a + b + c, x.y.z, x | f | g) adds
  /// to the tree, so that the tree's height stays bounded as well.
  struct chain_guard {
    parser& p;
    int n = 0;
    explicit chain_guard(parser& q) : p(q) {}
    void step() {
      ++n;
      if (++p.depth_ > max_parse_depth)
        syntax_error("expression nested too deeply", p.cur().line);
    }
    ~chain_guard() { p.depth_ -= n; }
  };

  const token& cur() const { return t_[p_]; }
  const token& look() const { return t_[p_ + 1 < t_.size() ? p_ + 1 : p_]; }
  const token& next() {
    const token& t = t_[p_];
    if (p_ + 1 < t_.size())
      ++p_;
    return t;
  }
  bool is_op(const char* s) const { return cur().type == tok::op && cur().text == s; }
  bool is_name(const char* s) const { return cur().type == tok::name && cur().text == s; }
  bool skip_op(const char* s) {
    if (!is_op(s))
      return false;
    next();
    return true;
  }
  bool skip_name(const char* s) {
    if (!is_name(s))
      return false;
    next();
    return true;
  }

  [[noreturn]] void fail_expected(const std::string& what) {
    if (cur().type == tok::eof)
      syntax_error("unexpected end of template, expected '" + what + "'.", cur().line);
    syntax_error("expected token '" + what + "', got '" + describe(cur()) + "'", cur().line);
  }
  void expect_op(const char* s) {
    if (!skip_op(s))
      fail_expected(s);
  }
  void expect_type(tok t, const char* what) {
    if (cur().type != t)
      fail_expected(what);
    next();
  }
  std::string expect_name() {
    if (cur().type != tok::name)
      fail_expected("name");
    return next().text;
  }
  void expect_name(const char* s) {
    if (!skip_name(s))
      fail_expected(s);
  }

  static node_ptr make(nk k, int line) {
    auto n = std::make_unique<node>();
    n->kind = k;
    n->line = line;
    return n;
  }

  // ---- templates

  [[noreturn]] void fail_unknown_tag(const std::string* name) {
    std::string msg = name ? "Encountered unknown tag '" + *name + "'." : "Unexpected end of template.";
    if (!end_stack_.empty()) {
      std::set<std::string> expected;
      for (auto& v : end_stack_)
        for (auto& e : v)
          expected.insert(e);
      std::string looking;
      for (auto& e : end_stack_.back())
        looking += (looking.empty() ? "" : " or ") + ("'" + e + "'");
      if (name && expected.count(*name))
        msg += " You probably made a nesting mistake. Jinja is expecting this tag, but currently "
               "looking for " +
               looking + ".";
      else
        msg += " Jinja was looking for the following tags: " + looking + ".";
    }
    if (!tag_stack_.empty())
      msg += " The innermost block that needs to be closed is '" + tag_stack_.back() + "'.";
    syntax_error(msg, cur().line);
  }

  bool at_end_token(const std::vector<std::string>& ends) const {
    if (cur().type != tok::name)
      return false;
    for (auto& e : ends)
      if (cur().text == e)
        return true;
    return false;
  }

  node_list subparse(const std::vector<std::string>& ends) {
    node_list body;
    node_ptr out;
    auto flush = [&] {
      if (out)
        body.push_back(std::move(out));
    };
    auto add = [&](node_ptr n) {
      if (!out)
        out = make(nk::output, n->line);
      out->kids.push_back(std::move(n));
    };
    if (!ends.empty())
      end_stack_.push_back(ends);
    while (cur().type != tok::eof) {
      const token& t = cur();
      if (t.type == tok::data) {
        auto d = make(nk::data, t.line);
        d->name = t.text;
        add(std::move(d));
        next();
      } else if (t.type == tok::var_begin) {
        next();
        add(parse_tuple(false, true, {}, false));
        expect_type(tok::var_end, "end of print statement");
      } else if (t.type == tok::block_begin) {
        flush();
        next();
        if (!ends.empty() && at_end_token(ends)) {
          end_stack_.pop_back();
          return body;
        }
        parse_statement(body);
        expect_type(tok::block_end, "end of statement block");
      } else {
        syntax_error("internal parsing error", t.line);
      }
    }
    flush();
    if (!ends.empty())
      end_stack_.pop_back();
    return body;
  }

  node_list parse_statements(const std::vector<std::string>& ends, bool drop_needle) {
    skip_op(":");
    expect_type(tok::block_end, "end of statement block");
    auto body = subparse(ends);
    if (cur().type == tok::eof) {
      end_stack_.push_back(ends);
      fail_unknown_tag(nullptr);
    }
    if (drop_needle)
      next();
    return body;
  }

  void parse_statement(node_list& body) {
    depth_guard g(*this);
    const token& t = cur();
    if (t.type != tok::name)
      syntax_error("tag name expected", t.line);
    std::string tag = t.text;
    bool known = statement_keywords.count(tag) || tag == "call" || tag == "filter";
    if (!known)
      fail_unknown_tag(&tag);
    tag_stack_.push_back(tag);
    node_ptr n;
    if (tag == "for")
      n = parse_for();
    else if (tag == "if")
      n = parse_if();
    else if (tag == "set")
      n = parse_set();
    else if (tag == "with")
      n = parse_with();
    else if (tag == "macro")
      n = parse_macro();
    else if (tag == "call")
      n = parse_call_block();
    else if (tag == "filter")
      n = parse_filter_block();
    else if (tag == "print")
      n = parse_print();
    else if (tag == "block")
      n = parse_block();
    else if (tag == "autoescape") {
      int line = next().line;
      n = make(nk::scope, line);
      n->a = parse_expression();
      n->body = parse_statements({"endautoescape"}, true);
    } else {
      // extends, include, import, from parse, but need a template loader
      // that Mistral's environment does not have
      n = make(nk::no_loader, t.line);
      next();
      if (tag != "import" && tag != "from")
        n->a = parse_expression();
      while (cur().type != tok::block_end && cur().type != tok::eof)
        next();
    }
    tag_stack_.pop_back();
    body.push_back(std::move(n));
  }

  node_ptr parse_for() {
    auto n = make(nk::for_, next().line);
    n->a = parse_assign_target(true, false, {"in"});
    expect_name("in");
    n->b = parse_tuple(false, false, {"recursive"}, false);
    if (skip_name("if"))
      n->c = parse_expression();
    n->flag = skip_name("recursive");
    n->body = parse_statements({"endfor", "else"}, false);
    mark_special_names(*n);
    if (next().text == "endfor")
      return n;
    n->else_ = parse_statements({"endfor"}, true);
    return n;
  }

  node_ptr parse_if() {
    auto n = make(nk::if_, next().line);
    node* current = n.get();
    while (true) {
      current->a = parse_tuple(false, false, {}, false);
      current->body = parse_statements({"elif", "else", "endif"}, false);
      const token& t = next();
      if (t.text == "elif") {
        auto e = make(nk::if_, cur().line);
        node* raw = e.get();
        current->else_.push_back(std::move(e));
        current = raw;
        continue;
      }
      if (t.text == "else")
        current->else_ = parse_statements({"endif"}, true);
      break;
    }
    return n;
  }

  node_ptr parse_set() {
    int line = next().line;
    auto target = parse_assign_target(true, false, {}, true);
    if (skip_op("=")) {
      auto n = make(nk::assign, line);
      n->a = std::move(target);
      n->b = parse_tuple(false, true, {}, false);
      return n;
    }
    auto n = make(nk::assign_block, line);
    n->a = std::move(target);
    n->c = parse_filter(nullptr, false);
    n->body = parse_statements({"endset"}, true);
    return n;
  }

  node_ptr parse_with() {
    auto n = make(nk::with, next().line);
    while (cur().type != tok::block_end) {
      if (!n->kids.empty())
        expect_op(",");
      n->kids.push_back(parse_assign_target(true, false, {}));
      expect_op("=");
      n->vals.push_back(parse_expression());
    }
    n->body = parse_statements({"endwith"}, true);
    return n;
  }

  void parse_signature(node& n) {
    expect_op("(");
    while (!is_op(")")) {
      if (!n.kids.empty())
        expect_op(",");
      n.kids.push_back(parse_assign_target(true, true, {}));
      if (skip_op("="))
        n.vals.push_back(parse_expression());
      else if (!n.vals.empty())
        syntax_error("non-default argument follows default argument", cur().line);
    }
    expect_op(")");
  }

  node_ptr parse_macro() {
    auto n = make(nk::macro, next().line);
    n->name = parse_assign_target(true, true, {})->name;
    parse_signature(*n);
    n->body = parse_statements({"endmacro"}, true);
    mark_special_names(*n);
    return n;
  }

  node_ptr parse_call_block() {
    auto n = make(nk::call_block, next().line);
    if (is_op("("))
      parse_signature(*n);
    n->a = parse_expression();
    if (n->a->kind != nk::call)
      syntax_error("expected call", n->line);
    n->body = parse_statements({"endcall"}, true);
    mark_special_names(*n);
    return n;
  }

  /// Records in `ops` whether a macro body reads varargs, kwargs or caller
  /// (Jinja only accepts extra arguments when it does), or whether a loop
  /// body reads `loop` (only then is the loop object built).
  static void mark_special_names(node& m) {
    bool seen[4] = {false, false, false, false};
    static const char* names[4] = {"varargs", "kwargs", "caller", "loop"};
    std::vector<const node*> todo;
    for (auto& b : m.body)
      todo.push_back(b.get());
    while (!todo.empty()) {
      const node* x = todo.back();
      todo.pop_back();
      if (!x)
        continue;
      if (x->kind == nk::name)
        for (int k = 0; k < 4; ++k)
          seen[k] = seen[k] || x->name == names[k];
      for (const node_ptr* p : {&x->a, &x->b, &x->c, &x->d})
        todo.push_back(p->get());
      for (auto* l : {&x->kids, &x->vals, &x->body, &x->else_})
        for (auto& c : *l)
          todo.push_back(c.get());
      for (auto& kw : x->kwargs)
        todo.push_back(kw.second.get());
    }
    for (int k = 0; k < 4; ++k)
      if (seen[k])
        m.ops.push_back(names[k]);
  }

  node_ptr parse_filter_block() {
    auto n = make(nk::filter_block, next().line);
    n->c = parse_filter(nullptr, true);
    n->body = parse_statements({"endfilter"}, true);
    return n;
  }

  node_ptr parse_print() {
    auto n = make(nk::output, next().line);
    while (cur().type != tok::block_end) {
      if (!n->kids.empty())
        expect_op(",");
      n->kids.push_back(parse_expression());
    }
    return n;
  }

  node_ptr parse_block() {
    auto n = make(nk::scope, next().line);
    expect_name();
    skip_name("scoped");
    skip_name("required");
    n->body = parse_statements({"endblock"}, true);
    if (cur().type == tok::name)
      next(); // optional block name after endblock
    return n;
  }

  node_ptr parse_assign_target(bool with_tuple, bool name_only, const std::vector<std::string>& extra_end,
                               bool with_namespace = false) {
    node_ptr target;
    if (with_namespace && look().type == tok::op && look().text == ".") {
      int line = cur().line;
      std::string ns = expect_name();
      next();
      target = make(nk::nsref, line);
      target->name = ns;
      target->attr = expect_name();
      return target;
    }
    if (name_only) {
      int line = cur().line;
      target = make(nk::name, line);
      target->name = expect_name();
    } else {
      target = with_tuple ? parse_tuple(true, true, extra_end, false) : parse_primary();
    }
    if (!can_assign(*target)) {
      std::string kind = target->kind == nk::constant ? "const"
                         : target->kind == nk::tuple  ? "tuple"
                                                      : "expr";
      syntax_error("can't assign to '" + kind + "'", target->line);
    }
    return target;
  }

  static bool can_assign(const node& n) {
    if (n.kind == nk::name)
      return true;
    if (n.kind == nk::tuple) {
      for (auto& k : n.kids)
        if (!can_assign(*k))
          return false;
      return true;
    }
    return false;
  }

  // ---- expressions

  node_ptr parse_expression(bool with_condexpr = true) {
    depth_guard g(*this);
    return with_condexpr ? parse_condexpr() : parse_or();
  }

  node_ptr parse_condexpr() {
    int line = cur().line;
    auto expr1 = parse_or();
    chain_guard chain(*this);
    while (skip_name("if")) {
      chain.step();
      auto n = make(nk::condexpr, line);
      n->a = parse_or();
      n->b = std::move(expr1);
      if (skip_name("else"))
        n->c = parse_condexpr();
      expr1 = std::move(n);
      line = cur().line;
    }
    return expr1;
  }

  node_ptr parse_or() {
    auto left = parse_and();
    chain_guard chain(*this);
    while (is_name("or")) {
      chain.step();
      auto n = make(nk::or_, next().line);
      n->a = std::move(left);
      n->b = parse_and();
      left = std::move(n);
    }
    return left;
  }

  node_ptr parse_and() {
    auto left = parse_not();
    chain_guard chain(*this);
    while (is_name("and")) {
      chain.step();
      auto n = make(nk::and_, next().line);
      n->a = std::move(left);
      n->b = parse_not();
      left = std::move(n);
    }
    return left;
  }

  node_ptr parse_not() {
    if (is_name("not")) {
      depth_guard g(*this);
      auto n = make(nk::not_, next().line);
      n->a = parse_not();
      return n;
    }
    return parse_compare();
  }

  node_ptr parse_compare() {
    int line = cur().line;
    auto expr = parse_math1();
    node_ptr cmp;
    while (true) {
      std::string op;
      if (cur().type == tok::op && (cur().text == "==" || cur().text == "!=" || cur().text == "<" ||
                                    cur().text == "<=" || cur().text == ">" || cur().text == ">=")) {
        op = next().text;
      } else if (skip_name("in")) {
        op = "in";
      } else if (is_name("not") && look().type == tok::name && look().text == "in") {
        next();
        next();
        op = "notin";
      } else {
        break;
      }
      if (!cmp) {
        cmp = make(nk::compare, line);
        cmp->a = std::move(expr);
      }
      cmp->ops.push_back(op);
      cmp->kids.push_back(parse_math1());
    }
    return cmp ? std::move(cmp) : std::move(expr);
  }

  node_ptr binop(node_ptr l, const std::string& op, node_ptr r, int line) {
    auto n = make(nk::binop, line);
    n->name = op;
    n->a = std::move(l);
    n->b = std::move(r);
    return n;
  }

  node_ptr parse_math1() {
    auto left = parse_concat();
    chain_guard chain(*this);
    while (is_op("+") || is_op("-")) {
      chain.step();
      const token& t = next();
      std::string op = t.text;
      left = binop(std::move(left), op, parse_concat(), t.line);
    }
    return left;
  }

  node_ptr parse_concat() {
    int line = cur().line;
    auto first = parse_math2();
    if (!is_op("~"))
      return first;
    auto n = make(nk::concat, line);
    n->kids.push_back(std::move(first));
    while (skip_op("~"))
      n->kids.push_back(parse_math2());
    return n;
  }

  node_ptr parse_math2() {
    auto left = parse_pow();
    chain_guard chain(*this);
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
      chain.step();
      const token& t = next();
      std::string op = t.text;
      left = binop(std::move(left), op, parse_pow(), t.line);
    }
    return left;
  }

  node_ptr parse_pow() {
    auto left = parse_unary(true);
    chain_guard chain(*this);
    while (is_op("**")) {
      chain.step();
      int line = next().line;
      left = binop(std::move(left), "**", parse_unary(true), line);
    }
    return left;
  }

  node_ptr parse_unary(bool with_filter) {
    depth_guard g(*this);
    node_ptr n;
    if (is_op("-") || is_op("+")) {
      const token& t = next();
      n = make(t.text == "-" ? nk::neg : nk::pos, t.line);
      n->a = parse_unary(false);
    } else {
      n = parse_primary();
    }
    n = parse_postfix(std::move(n));
    if (with_filter)
      n = parse_filter_expr(std::move(n));
    return n;
  }

  node_ptr parse_primary() {
    const token& t = cur();
    node_ptr n;
    if (t.type == tok::name) {
      if (t.text == "true" || t.text == "false" || t.text == "True" || t.text == "False") {
        n = make(nk::constant, t.line);
        n->constant = value::boolean(t.text == "true" || t.text == "True");
      } else if (t.text == "none" || t.text == "None") {
        n = make(nk::constant, t.line);
      } else {
        n = make(nk::name, t.line);
        n->name = t.text;
      }
      next();
    } else if (t.type == tok::string) {
      n = make(nk::constant, t.line);
      std::string s;
      while (cur().type == tok::string)
        s += next().text;
      n->constant = value::string(std::move(s));
    } else if (t.type == tok::integer || t.type == tok::floating) {
      n = make(nk::constant, t.line);
      n->constant = t.type == tok::integer ? value::integer(t.ival) : value::floating(t.fval);
      if (t.type == tok::floating && std::isinf(t.fval)) {
        // Jinja's generated code spells an overflowing literal `inf`: a name
        n->kind = nk::name;
        n->name = "inf";
      }
      next();
    } else if (is_op("(")) {
      next();
      n = parse_tuple(false, true, {}, true);
      expect_op(")");
    } else if (is_op("[")) {
      n = parse_list();
    } else if (is_op("{")) {
      n = parse_dict();
    } else {
      syntax_error("unexpected '" + describe(t) + "'", t.line);
    }
    return n;
  }

  bool is_tuple_end(const std::vector<std::string>& extra) const {
    if (cur().type == tok::var_end || cur().type == tok::block_end || is_op(")"))
      return true;
    return at_end_token(extra);
  }

  node_ptr parse_tuple(bool simplified, bool with_condexpr, const std::vector<std::string>& extra,
                       bool explicit_parentheses) {
    depth_guard g(*this);
    int line = cur().line;
    node_list args;
    bool is_tuple = false;
    while (true) {
      if (!args.empty())
        expect_op(",");
      if (is_tuple_end(extra))
        break;
      if (simplified)
        args.push_back(parse_primary());
      else
        args.push_back(parse_expression(with_condexpr));
      if (is_op(","))
        is_tuple = true;
      else
        break;
      line = cur().line;
    }
    if (!is_tuple) {
      if (!args.empty())
        return std::move(args.front());
      if (!explicit_parentheses)
        syntax_error("Expected an expression, got '" + describe(cur()) + "'", cur().line);
    }
    auto n = make(nk::tuple, line);
    n->kids = std::move(args);
    return n;
  }

  node_ptr parse_list() {
    auto n = make(nk::list, next().line);
    while (!is_op("]")) {
      if (!n->kids.empty())
        expect_op(",");
      if (is_op("]"))
        break;
      n->kids.push_back(parse_expression());
    }
    expect_op("]");
    return n;
  }

  node_ptr parse_dict() {
    auto n = make(nk::dict, next().line);
    while (!is_op("}")) {
      if (!n->kids.empty())
        expect_op(",");
      if (is_op("}"))
        break;
      n->kids.push_back(parse_expression());
      expect_op(":");
      n->vals.push_back(parse_expression());
    }
    expect_op("}");
    return n;
  }

  node_ptr parse_postfix(node_ptr n) {
    chain_guard chain(*this);
    while (true) {
      chain.step();
      if (is_op(".") || is_op("["))
        n = parse_subscript(std::move(n));
      else if (is_op("("))
        n = parse_call(std::move(n));
      else
        break;
    }
    return n;
  }

  node_ptr parse_filter_expr(node_ptr n) {
    chain_guard chain(*this);
    while (true) {
      chain.step();
      if (is_op("|"))
        n = parse_filter(std::move(n), false);
      else if (is_name("is"))
        n = parse_test(std::move(n));
      else if (is_op("("))
        n = parse_call(std::move(n));
      else
        break;
    }
    return n;
  }

  node_ptr parse_subscript(node_ptr n) {
    depth_guard g(*this);
    const token& t = next();
    if (t.text == ".") {
      const token& a = next();
      if (a.type == tok::name) {
        auto r = make(nk::getattr, t.line);
        r->a = std::move(n);
        r->name = a.text;
        return r;
      }
      if (a.type != tok::integer)
        syntax_error("expected name or number", a.line);
      auto r = make(nk::getitem, t.line);
      r->a = std::move(n);
      r->b = make(nk::constant, a.line);
      r->b->constant = value::integer(a.ival);
      return r;
    }
    node_list args;
    while (!is_op("]")) {
      if (!args.empty())
        expect_op(",");
      args.push_back(parse_subscribed());
    }
    expect_op("]");
    auto r = make(nk::getitem, t.line);
    r->a = std::move(n);
    if (args.size() == 1) {
      r->b = std::move(args.front());
    } else {
      r->b = make(nk::tuple, t.line);
      r->b->kids = std::move(args);
    }
    return r;
  }

  node_ptr parse_subscribed() {
    int line = cur().line;
    node_ptr start;
    if (skip_op(":")) {
    } else {
      auto e = parse_expression();
      if (!is_op(":"))
        return e;
      next();
      start = std::move(e);
    }
    auto s = make(nk::slice, line);
    s->a = std::move(start);
    if (!is_op(":") && !is_op("]") && !is_op(","))
      s->b = parse_expression();
    if (skip_op(":")) {
      if (!is_op("]") && !is_op(","))
        s->c = parse_expression();
    }
    return s;
  }

  void parse_call_args(node& n) {
    int line = cur().line;
    expect_op("(");
    bool require_comma = false;
    auto ensure = [&](bool ok) {
      if (!ok)
        syntax_error("invalid syntax for function call expression", line);
    };
    while (!is_op(")")) {
      if (require_comma) {
        expect_op(",");
        if (is_op(")"))
          break;
      }
      if (is_op("*")) {
        ensure(!n.c && !n.d);
        next();
        n.c = parse_expression();
      } else if (is_op("**")) {
        ensure(!n.d);
        next();
        n.d = parse_expression();
      } else if (cur().type == tok::name && look().type == tok::op && look().text == "=") {
        ensure(!n.d);
        std::string key = next().text;
        next();
        n.kwargs.emplace_back(key, parse_expression());
      } else {
        ensure(!n.c && !n.d && n.kwargs.empty());
        n.kids.push_back(parse_expression());
      }
      require_comma = true;
    }
    expect_op(")");
  }

  node_ptr parse_call(node_ptr target) {
    depth_guard g(*this);
    auto n = make(nk::call, cur().line);
    n->a = std::move(target);
    parse_call_args(*n);
    return n;
  }

  node_ptr parse_filter(node_ptr subject, bool start_inline) {
    chain_guard chain(*this);
    while (is_op("|") || start_inline) {
      chain.step();
      if (!start_inline)
        next();
      int line = cur().line;
      std::string name = expect_name();
      while (skip_op("."))
        name += "." + expect_name();
      auto n = make(nk::filter, line);
      n->a = std::move(subject);
      n->name = name;
      if (is_op("("))
        parse_call_args(*n);
      subject = std::move(n);
      start_inline = false;
    }
    return subject;
  }

  node_ptr parse_test(node_ptr subject) {
    int line = next().line;
    bool negated = skip_name("not");
    std::string name = expect_name();
    while (skip_op("."))
      name += "." + expect_name();
    auto n = make(nk::test, line);
    n->a = std::move(subject);
    n->name = name;
    if (is_op("(")) {
      parse_call_args(*n);
    } else if ((cur().type == tok::name || cur().type == tok::string || cur().type == tok::integer ||
                cur().type == tok::floating || is_op("(") || is_op("[") || is_op("{")) &&
               !is_name("else") && !is_name("or") && !is_name("and")) {
      if (is_name("is"))
        syntax_error("You cannot chain multiple tests with is", cur().line);
      n->kids.push_back(parse_postfix(parse_primary()));
    }
    if (!negated)
      return n;
    auto r = make(nk::not_, line);
    r->a = std::move(n);
    return r;
  }
};

void resolve_list(node_list& l, bool soft) {
  for (auto& n : l)
    if (n)
      resolve_names(*n, soft);
}

} // namespace

void resolve_names(node& n, bool soft) {
  if (n.kind == nk::filter) {
    n.filter = find_filter(n.name);
    if (!n.filter && !soft)
      raise("TemplateAssertionError", "No filter named '" + n.name + "'.");
  } else if (n.kind == nk::test) {
    n.test = find_test(n.name);
    if (!n.test && !soft)
      raise("TemplateAssertionError", "No test named '" + n.name + "'.");
  }
  bool here = soft || n.kind == nk::if_ || n.kind == nk::condexpr;
  // loops, macros, blocks and scopes compile their bodies in a fresh frame
  bool inner =
    n.kind == nk::if_ ? true
    : (n.kind == nk::for_ || n.kind == nk::with || n.kind == nk::macro || n.kind == nk::call_block ||
       n.kind == nk::filter_block || n.kind == nk::assign_block || n.kind == nk::scope)
      ? false
      : here;
  for (node_ptr* p : {&n.a, &n.b, &n.c, &n.d})
    if (*p)
      resolve_names(**p, here);
  resolve_list(n.kids, here);
  resolve_list(n.vals, here);
  for (auto& kw : n.kwargs)
    resolve_names(*kw.second, here);
  resolve_list(n.body, inner);
  resolve_list(n.else_, inner);
}

void resolve_names(node_list& body, bool soft) {
  resolve_list(body, soft);
}

node_list parse_template(std::string_view source) {
  lexer lx(source);
  parser p(lx.template_tokens());
  return p.parse_template();
}

node_ptr parse_expression(std::string_view source) {
  lexer lx(source);
  parser p(lx.expression_tokens());
  return p.parse_whole_expression();
}

} // namespace mistral::expr::jinja
