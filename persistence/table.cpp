#include "persistence/table.hpp"

namespace mistral::persistence {

const column* table_def::find(const std::string& col) const {
  for (const auto& c : columns)
    if (c.name == col)
      return &c;
  return nullptr;
}

} // namespace mistral::persistence
