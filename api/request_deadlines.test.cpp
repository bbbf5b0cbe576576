#include "api/request_deadlines.hpp"

#include <doctest/doctest.h>

using namespace mistral::api;
using namespace std::chrono_literals;

TEST_CASE("requests expire at their deadline, earliest first, and only once") {
  request_deadlines d;
  auto t0 = request_deadlines::clock::time_point{} + 100s;
  d.add(7, t0 + 3s);
  d.add(5, t0 + 1s);
  d.add(9, t0 + 2s);
  CHECK(d.size() == 3);
  CHECK(d.expire(t0).empty());
  CHECK(d.expire(t0 + 2s) == std::vector<std::uint64_t>{5, 9});
  CHECK(d.expire(t0 + 2s).empty());
  CHECK(d.size() == 1);
  CHECK(d.expire(t0 + 10s) == std::vector<std::uint64_t>{7});
  CHECK(d.empty());
}

TEST_CASE("an answered request never expires and a late answer is recognised as such") {
  request_deadlines d;
  auto t0 = request_deadlines::clock::time_point{} + 100s;
  d.add(1, t0 + 1s);
  d.add(2, t0 + 1s);
  CHECK(d.remove(1));
  CHECK_FALSE(d.remove(1));
  CHECK(d.expire(t0 + 5s) == std::vector<std::uint64_t>{2});
  CHECK_FALSE(d.remove(2)); // answered after its deadline: the caller already had its error
  CHECK_FALSE(d.remove(42));
  CHECK(d.empty());
}

TEST_CASE("a request tracked again keeps only its new deadline") {
  request_deadlines d;
  auto t0 = request_deadlines::clock::time_point{} + 100s;
  d.add(3, t0 + 1s);
  d.add(3, t0 + 5s);
  CHECK(d.size() == 1);
  CHECK(d.expire(t0 + 2s).empty());
  CHECK(d.expire(t0 + 5s) == std::vector<std::uint64_t>{3});
}
