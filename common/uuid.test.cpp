#include "common/uuid.hpp"

#include <doctest/doctest.h>
#include <set>

using namespace mistral;

TEST_CASE("make_random_uuid gives distinct version 4 UUIDs") {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    auto id = make_random_uuid();
    CHECK(looks_like_uuid(id));
    CHECK(id[14] == '4');
    CHECK((id[19] == '8' || id[19] == '9' || id[19] == 'a' || id[19] == 'b'));
    seen.insert(id);
  }
  CHECK(seen.size() == 1000);
}

TEST_CASE("make_uuid gives distinct version 7 UUIDs that sort by the millisecond they were made in") {
  std::set<std::string> seen;
  std::string first = make_uuid();
  for (int i = 0; i < 1000; ++i) {
    auto id = make_uuid();
    CHECK(looks_like_uuid(id));
    CHECK(id[14] == '7');
    CHECK((id[19] == '8' || id[19] == '9' || id[19] == 'a' || id[19] == 'b'));
    // The first 48 bits (12 hex digits) are the time: never before an earlier id's.
    CHECK(id.substr(0, 8) + id.substr(9, 4) >= first.substr(0, 8) + first.substr(9, 4));
    seen.insert(id);
  }
  CHECK(seen.size() == 1000);
}

TEST_CASE("looks_like_uuid rejects names") {
  CHECK_FALSE(looks_like_uuid("my_workflow"));
  CHECK_FALSE(looks_like_uuid("123e4567-e89b-12d3-a456-42661417400"));
  CHECK(looks_like_uuid("123e4567-e89b-12d3-a456-426614174000"));
}
