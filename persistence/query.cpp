#include "persistence/query.hpp"

namespace mistral::persistence {

namespace {

struct op_name {
  const char* name;
  filter_op op;
};

constexpr op_name ops[] = {
  {"eq", filter_op::eq},   {"neq", filter_op::neq}, {"gt", filter_op::gt},
  {"gte", filter_op::gte}, {"lt", filter_op::lt},   {"lte", filter_op::lte},
  {"in", filter_op::in},   {"nin", filter_op::nin}, {"has", filter_op::has},
};

} // namespace

const char* name_of(filter_op op) noexcept {
  for (const auto& o : ops)
    if (o.op == op)
      return o.name;
  return "is_null";
}

bool parse_filter_value(const std::string& text, filter_op& op, std::string& value) {
  auto colon = text.find(':');
  if (colon != std::string::npos) {
    std::string prefix = text.substr(0, colon);
    for (const auto& o : ops) {
      if (prefix == o.name) {
        op = o.op;
        value = text.substr(colon + 1);
        return true;
      }
    }
  }
  // Mistral treats a value without a known operator prefix as eq of the whole text.
  op = filter_op::eq;
  value = text;
  return true;
}

} // namespace mistral::persistence
