#include "actors/action/adhoc.hpp"

#include "actors/action/catalog.hpp"
#include "dsl/expr/expression.hpp"
#include "dsl/expr/py_value.hpp"
#include "dsl/inline_params.hpp"

namespace mistral::action {

std::optional<dsl::action_spec> adhoc_from_raw(const std::string& name, const json& raw) {
  if (!raw.is_object() || !raw.contains("base") || !raw["base"].is_string())
    return std::nullopt;
  auto call = dsl::parse_command(raw["base"].get<std::string>());
  if (!call.ok())
    return std::nullopt;
  dsl::action_spec spec;
  spec.name = name;
  spec.base = call->command;
  spec.base_input = call->params;
  if (raw.contains("base-input") && raw["base-input"].is_object())
    for (auto it = raw["base-input"].begin(); it != raw["base-input"].end(); ++it)
      spec.base_input[it.key()] = it.value();
  if (raw.contains("input") && raw["input"].is_array()) {
    for (const auto& p : raw["input"]) {
      if (p.is_string())
        spec.input.push_back({p.get<std::string>(), std::nullopt});
      else if (p.is_object() && !p.empty())
        spec.input.push_back({p.begin().key(), p.begin().value()});
    }
  }
  spec.output = raw.value("output", json(nullptr));
  spec.raw = raw;
  return spec;
}

namespace {

std::string names_repr(const std::vector<std::string>& names) {
  json arr = json::array();
  for (const auto& n : names)
    arr.push_back(n);
  return expr::py_repr(arr);
}

/// Mistral's check_parameters for an ad-hoc action's declared input; fills defaults.
std::optional<std::string> check_adhoc_input(const dsl::action_spec& spec, json& input) {
  std::vector<std::string> missing, unexpected;
  for (auto it = input.begin(); it != input.end(); ++it) {
    bool known = false;
    for (const auto& p : spec.input)
      known = known || p.name == it.key();
    if (!known)
      unexpected.push_back(it.key());
  }
  for (const auto& p : spec.input)
    if (!input.contains(p.name)) {
      if (p.default_value)
        input[p.name] = *p.default_value;
      else
        missing.push_back(p.name);
    }
  if (missing.empty() && unexpected.empty())
    return std::nullopt;
  std::string msg = "Invalid input [name=" + spec.name + ", class=mistral.actions.adhoc.AdHocAction";
  if (!missing.empty())
    msg += ", missing=" + names_repr(missing);
  if (!unexpected.empty())
    msg += ", unexpected=" + names_repr(unexpected);
  return msg + "]";
}

} // namespace

std::variant<standalone_action, resolve_failure>
resolve_standalone(const std::string& name, json input, const std::string& ns, const adhoc_lookup& lookup) {
  if (!input.is_object())
    input = json::object();
  standalone_action out;
  std::string current = name;
  std::vector<json> transforms;
  for (int depth = 0;; ++depth) {
    if (depth > 20)
      return resolve_failure{"Action definition cycle detected: " + name};
    std::optional<dsl::action_spec> adhoc;
    if (!(depth == 0 && find_std_action(current) != nullptr))
      adhoc = lookup(current);
    if (!adhoc) {
      const std_action* base = find_std_action(current);
      if (!base)
        return resolve_failure{"Failed to find action [action_name=" + current + ", namespace=" + ns + "]"};
      if (auto bad = check_input(*base, input))
        return resolve_failure{*bad};
      out.base = current;
      if (depth == 0)
        out.named_input = input;
      out.input = std::move(input);
      out.output_transforms = std::move(transforms);
      return out;
    }
    if (auto bad = check_adhoc_input(*adhoc, input))
      return resolve_failure{*bad};
    if (depth == 0)
      out.named_input = input;
    expr::eval_env env{expr::data_view(input), nullptr, {}};
    auto evaluated = expr::evaluate_recursively(adhoc->base_input, env);
    if (!evaluated.ok())
      return resolve_failure{evaluated.err().message};
    if (!adhoc->output.is_null())
      transforms.insert(transforms.begin(), adhoc->output);
    input = evaluated->is_object() ? std::move(*evaluated) : json::object();
    current = adhoc->base;
  }
}

result<json> transform_output(json result, const std::vector<json>& transforms) {
  for (const auto& clause : transforms) {
    expr::eval_env env{expr::data_view(result), nullptr, {}};
    auto v = expr::evaluate_recursively(clause, env);
    if (!v.ok())
      return std::move(v).err();
    result = std::move(*v);
  }
  return result;
}

} // namespace mistral::action
