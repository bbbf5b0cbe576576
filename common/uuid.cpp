#include "common/uuid.hpp"

#include <chrono>
#include <cstdint>
#include <mutex>
#include <random>

namespace mistral {

namespace {

std::string canonical(std::uint64_t hi, std::uint64_t lo) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  auto put = [&](std::uint64_t v, int nibbles) {
    for (int i = nibbles - 1; i >= 0; --i)
      out.push_back(digits[(v >> (i * 4)) & 0xF]);
  };
  put(hi >> 32, 8);
  out.push_back('-');
  put(hi >> 16, 4);
  out.push_back('-');
  put(hi, 4);
  out.push_back('-');
  put(lo >> 48, 4);
  out.push_back('-');
  put(lo, 12);
  return out;
}

std::mt19937_64& random_engine() {
  // One seeded engine per thread: uuid() is called on hot paths.
  thread_local std::mt19937_64 engine{std::random_device{}()};
  return engine;
}

constexpr std::uint64_t rfc4122_variant(std::uint64_t lo) {
  return (lo & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;
}

} // namespace

std::string make_uuid() {
  auto& engine = random_engine();
  auto ms = static_cast<std::uint64_t>(
    std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count());
  std::uint64_t hi = (ms << 16) | 0x7000ULL | (engine() & 0x0FFFULL); // version 7
  return canonical(hi, rfc4122_variant(engine()));
}

std::string make_random_uuid() {
  auto& engine = random_engine();
  std::uint64_t hi = (engine() & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL; // version 4
  return canonical(hi, rfc4122_variant(engine()));
}

bool looks_like_uuid(std::string_view text) noexcept {
  if (text.size() != 36)
    return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-')
        return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

} // namespace mistral
