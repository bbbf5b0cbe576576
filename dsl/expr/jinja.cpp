#include "dsl/expr/jinja.hpp"

#include "dsl/expr/jinja_eval.hpp"
#include "dsl/expr/jinja_parser.hpp"
#include "dsl/expr/py_value.hpp"

#include <memory>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>

namespace mistral::expr::jinja {

namespace {

/// A string compiled once: either Mistral's whole-string expression
/// (compile_expression of the text inside `{{ }}`) or a template. A syntax
/// or unknown-filter error is cached too and raised by every evaluation.
struct compiled {
  bool whole = false;
  node_ptr expr;
  node_list body;
  std::optional<py_error> failure;
};

/// Templates are keyed by their text; the cache is cleared when it grows
/// past `max_entries`, which bounds memory for generated expressions.
class template_cache {
public:
  std::shared_ptr<const compiled> get(std::string_view text) {
    {
      std::shared_lock lock(mutex_);
      auto it = entries_.find(text);
      if (it != entries_.end())
        return it->second;
    }
    auto made = compile(text);
    std::unique_lock lock(mutex_);
    if (entries_.size() >= max_entries)
      entries_.clear();
    entries_.emplace(std::string(text), made);
    return made;
  }

private:
  static constexpr std::size_t max_entries = 8192;
  std::shared_mutex mutex_;
  /// Lets a lookup by string_view avoid building a std::string key.
  struct text_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, std::shared_ptr<const compiled>, text_hash, std::equal_to<>> entries_;

  static std::shared_ptr<const compiled> compile(std::string_view text);
};

template_cache& cache() {
  static template_cache c;
  return c;
}

/// Mistral's JINJA_REGEXP `({{(.*?)}})` without DOTALL: the first match, as
/// (begin, end) of the whole `{{ ... }}`, or nullopt.
std::optional<std::pair<std::size_t, std::size_t>> first_expression(std::string_view text) {
  for (std::size_t p = text.find("{{"); p != std::string_view::npos; p = text.find("{{", p + 1)) {
    std::size_t close = text.find("}}", p + 2);
    if (close == std::string_view::npos)
      return std::nullopt;
    if (text.substr(p + 2, close - p - 2).find('\n') != std::string_view::npos)
      continue;
    return std::make_pair(p, close + 2);
  }
  return std::nullopt;
}

std::shared_ptr<const compiled> template_cache::compile(std::string_view text) {
  auto c = std::make_shared<compiled>();
  auto m = first_expression(text);
  c->whole = m && m->first == 0 && m->second == text.size();
  try {
    if (c->whole) {
      c->expr = parse_expression(text.substr(2, text.size() - 4));
      resolve_names(*c->expr);
    } else {
      c->body = parse_template(text);
      resolve_names(c->body);
    }
  } catch (const py_error& e) {
    c->failure = e;
  }
  return c;
}

std::string data_text(const eval_env& env) {
  constexpr std::size_t max_len = 4096;
  std::string s;
  try {
    s = env.data.empty() ? "None" : env.data.python_repr();
  } catch (...) {
    s = "?";
  }
  if (s.size() > max_len)
    s = s.substr(0, max_len) + "...";
  return s;
}

error evaluation_error(std::string_view text, const py_error& e, const eval_env& env) {
  return error{errc::invalid_input,
               "Can not evaluate Jinja expression [expression=" + std::string(text) + ", error=" + e.msg +
                 ", data=" + data_text(env) + "]",
               "JinjaEvaluationException"};
}

json run(std::string_view text, const eval_env& env) {
  if (!first_expression(text))
    raise("IndexError", "list index out of range");
  auto c = cache().get(text);
  if (c->failure)
    throw *c->failure;
  evaluator ev(env);
  if (c->whole) {
    value v = ev.eval(*c->expr);
    check_defined(v);
    return to_json(v);
  }
  std::string out;
  ev.exec(c->body, out);
  return out;
}

} // namespace

result<json> evaluate(std::string_view text, const eval_env& env) {
  try {
    return run(text, env);
  } catch (const py_error& e) {
    return evaluation_error(text, e, env);
  } catch (const std::bad_alloc&) {
    return evaluation_error(text, py_error{"MemoryError", "out of memory"}, env);
  } catch (const std::exception& e) {
    return evaluation_error(text, py_error{"Exception", e.what()}, env);
  }
}

std::optional<error> validate(std::string_view text) {
  try {
    parse_template(text);
  } catch (const py_error& e) {
    return error{errc::invalid_input, "Syntax error '" + e.msg + "'.", "JinjaGrammarException"};
  }
  return std::nullopt;
}

} // namespace mistral::expr::jinja
