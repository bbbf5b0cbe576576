#include "dsl/expr/yaql_parser.hpp"

#include <array>
#include <cstdlib>

namespace mistral::expr::yaql {

namespace {

enum class tok {
  end,
  number,
  string,
  keyword,
  func,
  dollar,
  op,
  lparen,
  rparen,
  lbracket,
  rbracket,
  lbrace,
  rbrace,
  comma,
  mapping,
  true_,
  false_,
  null_
};

struct token {
  tok type = tok::end;
  std::string text; ///< operator symbol, identifier, string body, dollar name
  value val;        ///< number value
  int pos = 0;
};

bool word_char(unsigned char c) {
  return c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}

bool alpha_char(unsigned char c) {
  return word_char(c) && !(c >= '0' && c <= '9');
}

bool is_word_operator(std::string_view w) {
  return w == "and" || w == "or" || w == "not" || w == "in" || w == "mod";
}

void append_utf8(std::string& out, unsigned long cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

bool all_hex(std::string_view s) {
  for (char c : s)
    if (!std::isxdigit(static_cast<unsigned char>(c)))
      return false;
  return !s.empty();
}

/// yaql's decode_escapes: only the escapes Python's unicode-escape knows;
/// anything else keeps its backslash.
std::string decode_escapes(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 >= s.size()) {
      out += s[i];
      continue;
    }
    char e = s[i + 1];
    auto hex_escape = [&](std::size_t n) {
      if (i + 2 + n > s.size() || !all_hex(s.substr(i + 2, n)))
        return false;
      append_utf8(out, std::strtoul(std::string(s.substr(i + 2, n)).c_str(), nullptr, 16));
      i += 1 + n;
      return true;
    };
    static const std::string simple = "\\'\"abfnrtv";
    static const std::string mapped = "\\'\"\a\b\f\n\r\t\v";
    if (auto p = simple.find(e); p != std::string::npos) {
      out += mapped[p];
      ++i;
    } else if (e == 'x' && hex_escape(2)) {
    } else if (e == 'u' && hex_escape(4)) {
    } else if (e == 'U' && hex_escape(8)) {
    } else if (e >= '0' && e <= '7') {
      std::size_t n = 1;
      while (n < 3 && i + 1 + n < s.size() && s[i + 1 + n] >= '0' && s[i + 1 + n] <= '7')
        ++n;
      append_utf8(out, std::strtoul(std::string(s.substr(i + 1, n)).c_str(), nullptr, 8));
      i += n;
    } else {
      out += '\\';
    }
  }
  return out;
}

class lexer {
public:
  explicit lexer(std::string_view text) : s_(text) {}

  std::vector<token> run() {
    std::vector<token> out;
    for (;;) {
      while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\r' || s_[i_] == '\n'))
        ++i_;
      if (i_ >= s_.size())
        break;
      out.push_back(next());
    }
    token end;
    end.pos = static_cast<int>(s_.size());
    out.push_back(end);
    return out;
  }

private:
  [[noreturn]] void fail() const {
    throw syntax_error("YaqlLexicalException", "Lexical error: illegal character '" + std::string(1, s_[i_]) +
                                                 "' at position " + std::to_string(i_));
  }

  bool boundary_before() const { return i_ == 0 || !word_char(static_cast<unsigned char>(s_[i_ - 1])); }

  token make(tok t, std::string text, std::size_t start) {
    token k;
    k.type = t;
    k.text = std::move(text);
    k.pos = static_cast<int>(start);
    return k;
  }

  token next() {
    std::size_t start = i_;
    unsigned char c = static_cast<unsigned char>(s_[i_]);
    if (c == '$') {
      ++i_;
      while (i_ < s_.size() && word_char(static_cast<unsigned char>(s_[i_])))
        ++i_;
      return make(tok::dollar, std::string(s_.substr(start + 1, i_ - start - 1)), start);
    }
    if (c >= '0' && c <= '9' && boundary_before())
      if (auto t = number(start))
        return *t;
    if (alpha_char(c) && boundary_before())
      return word(start);
    if (c == '\'' || c == '"' || c == '`')
      return quoted(start, static_cast<char>(c));
    return punct(start);
  }

  std::optional<token> number(std::size_t start) {
    std::size_t j = i_;
    while (j < s_.size() && std::isdigit(static_cast<unsigned char>(s_[j])))
      ++j;
    bool is_float = false;
    if (j + 1 < s_.size() && s_[j] == '.' && std::isdigit(static_cast<unsigned char>(s_[j + 1]))) {
      is_float = true;
      ++j;
      while (j < s_.size() && std::isdigit(static_cast<unsigned char>(s_[j])))
        ++j;
    }
    if (j < s_.size() && word_char(static_cast<unsigned char>(s_[j])))
      return std::nullopt; // no word boundary: `1e3` is not a number
    std::string text(s_.substr(start, j - start));
    token t = make(tok::number, text, start);
    if (is_float) {
      t.val = value::floating(std::strtod(text.c_str(), nullptr));
    } else {
      errno = 0;
      unsigned long long v = std::strtoull(text.c_str(), nullptr, 10);
      if (errno == ERANGE)
        throw syntax_error("YaqlGrammarException", "integer literal too large: " + text);
      t.val = value::big_integer(static_cast<__int128>(v));
    }
    i_ = j;
    return t;
  }

  token word(std::size_t start) {
    std::size_t j = i_;
    while (j < s_.size() && word_char(static_cast<unsigned char>(s_[j])))
      ++j;
    std::string w(s_.substr(start, j - start));
    if (j < s_.size() && s_[j] == '(') {
      i_ = j + 1;
      return make(tok::func, w, start);
    }
    if (w.size() >= 2 && w[0] == '_' && w[1] == '_')
      fail(); // KEYWORD_STRING refuses a leading "__"
    i_ = j;
    if (is_word_operator(w))
      return make(tok::op, w, start);
    if (w == "true")
      return make(tok::true_, w, start);
    if (w == "false")
      return make(tok::false_, w, start);
    if (w == "null")
      return make(tok::null_, w, start);
    return make(tok::keyword, w, start);
  }

  token quoted(std::size_t start, char q) {
    std::size_t j = i_ + 1;
    while (j < s_.size() && s_[j] != q) {
      if (s_[j] == '\\' && j + 1 < s_.size())
        ++j;
      ++j;
    }
    if (j >= s_.size())
      fail();
    std::string_view body = s_.substr(i_ + 1, j - i_ - 1);
    i_ = j + 1;
    if (q == '`') {
      std::string out;
      for (std::size_t k = 0; k < body.size(); ++k) {
        if (body[k] == '\\' && k + 1 < body.size() && body[k + 1] == '`')
          ++k;
        out += body[k];
      }
      return make(tok::string, out, start);
    }
    return make(tok::string, decode_escapes(body), start);
  }

  token punct(std::size_t start) {
    static const std::array<std::string_view, 17> ops = {"?.", "=~", "!~", ">=", "<=", "!=", "->", "=>", ".",
                                                         "+",  "-",  "*",  "/",  ">",  "<",  "=",  ""};
    for (auto op : ops) {
      if (op.empty())
        break;
      if (s_.substr(i_, op.size()) == op) {
        i_ += op.size();
        return make(op == "=>" ? tok::mapping : tok::op, std::string(op), start);
      }
    }
    static const std::string_view lits = "()[]{},";
    auto p = lits.find(s_[i_]);
    if (p == std::string_view::npos)
      fail();
    static const std::array<tok, 7> types = {tok::lparen, tok::rparen, tok::lbracket, tok::rbracket,
                                             tok::lbrace, tok::rbrace, tok::comma};
    ++i_;
    return make(types[p], std::string(1, lits[p]), start);
  }

  std::string_view s_;
  std::size_t i_ = 0;
};

/// Binding levels from yaql's operator table: lower binds tighter.
int binary_level(const token& t) {
  if (t.type == tok::lbracket)
    return 2;
  if (t.type != tok::op)
    return 0;
  const std::string& s = t.text;
  if (s == "." || s == "?.")
    return 1;
  if (s == "=~" || s == "!~")
    return 4;
  if (s == "*" || s == "/" || s == "mod")
    return 5;
  if (s == "+" || s == "-")
    return 6;
  if (s == ">" || s == "<" || s == ">=" || s == "<=" || s == "!=" || s == "=" || s == "in")
    return 7;
  if (s == "and")
    return 9;
  if (s == "or")
    return 10;
  if (s == "->")
    return 11;
  return 0;
}

int unary_level(const token& t) {
  if (t.type != tok::op)
    return 0;
  if (t.text == "+" || t.text == "-")
    return 3;
  if (t.text == "not")
    return 8;
  return 0;
}

constexpr int max_depth = 200;

class parser {
public:
  parser(std::string_view text, std::vector<token> toks) : text_(text), t_(std::move(toks)) {}

  node_ptr run() {
    if (peek().type == tok::end)
      fail();
    node_ptr n = expr(11);
    if (peek().type != tok::end)
      fail();
    return n;
  }

private:
  const token& peek() const { return t_[i_]; }
  token take() { return t_[i_++]; }

  [[noreturn]] void fail() const {
    const token& t = peek();
    if (t.type == tok::end)
      throw syntax_error("YaqlGrammarException", "Parse error: unexpected end of statement");
    throw syntax_error("YaqlGrammarException",
                       "Parse error: unexpected '" + t.text + "' at position " + std::to_string(t.pos));
  }

  void expect(tok type) {
    if (peek().type != type)
      fail();
    ++i_;
  }

  static node_ptr make(node_kind k, int pos) {
    auto n = std::make_unique<node>();
    n->kind = k;
    n->pos = pos;
    return n;
  }

  /// Parses an expression whose binary operators bind at level <= max_level.
  node_ptr expr(int max_level) {
    if (++depth_ > max_depth)
      throw syntax_error("YaqlGrammarException", "Parse error: expression nested too deeply");
    node_ptr left = prefix();
    for (;;) {
      const token& t = peek();
      int lvl = binary_level(t);
      if (lvl == 0 || lvl > max_level)
        break;
      if (t.type == tok::lbracket) {
        int pos = take().pos;
        auto n = make(node_kind::index, pos);
        n->args.push_back(std::move(left));
        args(n->args, tok::rbracket);
        left = std::move(n);
        continue;
      }
      token op = take();
      auto n = make(node_kind::binary, op.pos);
      n->name = op.text;
      n->args.push_back(std::move(left));
      // Left-associative operators take a tighter right side; `->` is right-associative.
      n->args.push_back(expr(op.text == "->" ? lvl : lvl - 1));
      left = std::move(n);
    }
    --depth_;
    return left;
  }

  node_ptr prefix() {
    const token& t = peek();
    if (int lvl = unary_level(t)) {
      token op = take();
      auto n = make(node_kind::unary, op.pos);
      n->name = op.text;
      n->args.push_back(expr(lvl - 1));
      return n;
    }
    return primary();
  }

  node_ptr primary() {
    token t = take();
    switch (t.type) {
      case tok::number: {
        auto n = make(node_kind::constant, t.pos);
        n->constant = t.val;
        return n;
      }
      case tok::string: {
        auto n = make(node_kind::constant, t.pos);
        n->constant = value::string(t.text);
        return n;
      }
      case tok::true_:
      case tok::false_: {
        auto n = make(node_kind::constant, t.pos);
        n->constant = value::boolean(t.type == tok::true_);
        return n;
      }
      case tok::null_: return make(node_kind::constant, t.pos);
      case tok::keyword: {
        auto n = make(node_kind::keyword, t.pos);
        n->name = t.text;
        n->constant = value::string(t.text);
        return n;
      }
      case tok::dollar: {
        auto n = make(node_kind::dollar, t.pos);
        n->name = t.text.empty() ? "1" : t.text;
        return n;
      }
      case tok::lparen: {
        auto n = make(node_kind::wrap, t.pos);
        n->args.push_back(expr(11));
        expect(tok::rparen);
        return n;
      }
      case tok::func: {
        auto n = make(node_kind::call, t.pos);
        n->name = t.text;
        args(n->args, tok::rparen);
        return n;
      }
      case tok::lbracket: {
        auto n = make(node_kind::list, t.pos);
        args(n->args, tok::rbracket);
        return n;
      }
      case tok::lbrace: {
        auto n = make(node_kind::map, t.pos);
        args(n->args, tok::rbrace);
        return n;
      }
      default: --i_; fail();
    }
  }

  /// yaql's `args` rule: positional args (empty slots allowed except the last),
  /// then `name => value` pairs; consumes the closing token.
  void args(std::vector<node_ptr>& out, tok close) {
    if (peek().type == close) {
      ++i_;
      return;
    }
    bool named_seen = false;
    for (;;) {
      if (peek().type == tok::comma) {
        if (named_seen)
          fail();
        out.push_back(make(node_kind::no_value, peek().pos));
        ++i_;
        continue;
      }
      node_ptr item = expr(11);
      if (peek().type == tok::mapping) {
        int pos = take().pos;
        auto m = make(node_kind::mapping, pos);
        m->args.push_back(std::move(item));
        m->args.push_back(expr(11));
        item = std::move(m);
        named_seen = true;
      } else if (named_seen) {
        fail();
      }
      out.push_back(std::move(item));
      if (peek().type == close) {
        ++i_;
        return;
      }
      expect(tok::comma);
      if (peek().type == close)
        fail();
    }
  }

  std::string_view text_;
  std::vector<token> t_;
  std::size_t i_ = 0;
  int depth_ = 0;
};

} // namespace

node_ptr parse(std::string_view text) {
  lexer lx(text);
  parser p(text, lx.run());
  return p.run();
}

} // namespace mistral::expr::yaql
