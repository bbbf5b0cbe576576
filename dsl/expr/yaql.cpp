#include "dsl/expr/yaql.hpp"

#include "dsl/expr/py_value.hpp"
#include "dsl/expr/yaql_eval.hpp"

#include <mutex>
#include <shared_mutex>
#include <unordered_map>
#include <variant>

namespace mistral::expr::yaql {

namespace {

/// A parsed expression or the syntax error it produced; both are cached.
using parsed = std::variant<std::shared_ptr<const node>, syntax_error>;

class parse_cache {
public:
  std::shared_ptr<const parsed> get(std::string_view text) {
    {
      std::shared_lock lock(mutex_);
      auto it = map_.find(text);
      if (it != map_.end())
        return it->second;
    }
    std::shared_ptr<const parsed> p;
    try {
      p = std::make_shared<const parsed>(std::shared_ptr<const node>(parse(text)));
    } catch (const syntax_error& e) {
      p = std::make_shared<const parsed>(e);
    }
    std::unique_lock lock(mutex_);
    // A bounded cache: definitions are few, but user input must not grow it forever.
    if (map_.size() > 50'000)
      map_.clear();
    map_.emplace(std::string(text), p);
    return p;
  }

private:
  std::shared_mutex mutex_;
  /// Transparent hashing: lookups by string_view allocate nothing.
  struct text_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, std::shared_ptr<const parsed>, text_hash, std::equal_to<>> map_;
};

parse_cache& cache() {
  static parse_cache c;
  return c;
}

/// Mistral's `expr.strip("<%>")` followed by `.strip()`.
std::string_view inner_text(std::string_view match) {
  std::size_t b = 0, e = match.size();
  auto delim = [](char c) { return c == '<' || c == '%' || c == '>'; };
  while (b < e && delim(match[b]))
    ++b;
  while (e > b && delim(match[e - 1]))
    --e;
  return match.substr(b, e - b);
}

std::string_view trim_ws(std::string_view s) {
  auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; };
  while (!s.empty() && ws(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && ws(s.back()))
    s.remove_suffix(1);
  return s;
}

/// The `<%.*?%>` matches (no DOTALL: an expression cannot span a newline).
std::vector<std::string_view> find_inline(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i + 1 < text.size()) {
    std::size_t open = text.find("<%", i);
    if (open == std::string_view::npos)
      break;
    std::size_t j = open + 2;
    bool found = false;
    for (; j < text.size(); ++j) {
      if (text[j] == '\n')
        break;
      if (text[j] == '%' && j + 1 < text.size() && text[j + 1] == '>') {
        found = true;
        break;
      }
    }
    if (found) {
      out.push_back(text.substr(open, j + 2 - open));
      i = j + 2;
    } else {
      // Nothing closes before the end of this line: no later open on it can match.
      i = j;
    }
  }
  return out;
}

std::string data_repr(const eval_env& env) {
  if (env.data.empty())
    return "None";
  std::string s = env.data.python_repr();
  if (s.size() > 2000)
    s = s.substr(0, 2000) + "...";
  return s;
}

error eval_failure(std::string_view expression, const std::string& what, const eval_env& env) {
  return error{errc::invalid_input,
               "Can not evaluate YAQL expression [expression=" + std::string(expression) + ", error=" + what +
                 ", data=" + data_repr(env) + "]",
               "YaqlEvaluationException"};
}

/// Python's str() of a result after yaql's output conversion: tuples and
/// iterators became lists, sets stay sets, dicts are plain dicts.
void output_str_into(std::string& out, const value& v, bool top);

void output_items(std::string& out, const value& v, const char* open, const char* close) {
  out += open;
  bool first = true;
  v.for_each([&](const value& x) {
    if (!first)
      out += ", ";
    first = false;
    output_str_into(out, x, false);
    return true;
  });
  out += close;
}

void output_str_into(std::string& out, const value& v, bool top) {
  switch (v.type()) {
    case kind::string: out += top ? std::string(v.as_str()) : py_repr(v); return;
    case kind::tuple:
    case kind::list:
    case kind::iterator: output_items(out, v, "[", "]"); return;
    case kind::set:
      if (v.size() == 0)
        out += "set()";
      else
        output_items(out, v, "{", "}");
      return;
    case kind::dict: {
      out += '{';
      bool first = true;
      for (const auto& kv : v.pairs()) {
        if (!first)
          out += ", ";
        first = false;
        output_str_into(out, kv.first, false);
        out += ": ";
        output_str_into(out, kv.second, false);
      }
      out += '}';
      return;
    }
    default: out += top ? py_str(v) : py_repr(v); return;
  }
}

value root_value(const eval_env& env, json& holder) {
  if (env.data.empty())
    return value();
  if (env.data.is_single())
    return value::from_json(env.data.root());
  holder = env.data.materialize();
  return value::from_json(holder);
}

/// Evaluates one bare expression to a yaql value; the caller converts it.
template <class F>
result<json> run(std::string_view expression, const eval_env& env, F&& finish) {
  std::string_view expr = trim_ws(expression);
  auto p = cache().get(expr);
  if (auto* err = std::get_if<syntax_error>(p.get()))
    return eval_failure(expr, err->what(), env);
  const node& tree = *std::get<std::shared_ptr<const node>>(*p);
  try {
    evaluator ev(env);
    json holder;
    auto root = std::make_shared<scope>();
    value data = root_value(env, holder);
    root->vars.emplace_back("1", data);
    // Mistral sets $__env, $__execution and $__task_execution only when the
    // data is a dict; the root scope reads them from it on demand.
    root->mistral_vars = data;
    ev.root = root;
    value v = ev.eval(tree, root);
    return finish(v);
  } catch (const eval_error& e) {
    return eval_failure(expr, e.what(), env);
  } catch (const no_match&) {
    return eval_failure(expr, "no matching function", env);
  } catch (const std::bad_alloc&) {
    return eval_failure(expr, "Expression consumed too much memory", env);
  } catch (const std::exception& e) {
    return eval_failure(expr, e.what(), env);
  }
}

} // namespace

result<json> evaluate_bare(std::string_view expression, const eval_env& env) {
  return run(expression, env, [](const value& v) -> result<json> { return to_json(v); });
}

result<json> evaluate(std::string_view text, const eval_env& env) {
  auto found = find_inline(text);
  if (found.empty())
    return json(std::string(text));
  if (found.size() == 1 && found[0].size() == text.size())
    return evaluate_bare(inner_text(found[0]), env);
  std::string out(text);
  for (std::string_view m : found) {
    std::string piece;
    auto r = run(inner_text(m), env, [&](const value& v) -> result<json> {
      output_str_into(piece, v, true);
      return json();
    });
    if (!r.ok())
      return r;
    // Python's str.replace: every occurrence of this expression's text.
    std::string pattern(m);
    std::string replaced;
    std::size_t pos = 0;
    for (;;) {
      std::size_t hit = out.find(pattern, pos);
      if (hit == std::string::npos)
        break;
      replaced.append(out, pos, hit - pos);
      replaced += piece;
      pos = hit + pattern.size();
    }
    replaced.append(out, pos);
    out = std::move(replaced);
  }
  return json(std::move(out));
}

std::optional<error> validate(std::string_view text) {
  for (std::string_view m : find_inline(text)) {
    auto p = cache().get(trim_ws(inner_text(m)));
    if (auto* err = std::get_if<syntax_error>(p.get()))
      return error{errc::invalid_input, err->what(), "YaqlGrammarException"};
  }
  return std::nullopt;
}

} // namespace mistral::expr::yaql
