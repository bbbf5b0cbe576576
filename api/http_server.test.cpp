#include "api/http_server.hpp"

#include <doctest/doctest.h>

using namespace mistral::api;

TEST_CASE("an HTTP/1.1 request that asks to close gets Connection: close, as cpprest then closes") {
  CHECK(connection_header(1, 1, std::string("close")) == "close");
  CHECK(connection_header(1, 1, std::string("Close")) == "close");
  CHECK(connection_header(1, 1, std::string(" CLOSE ")) == "close");
  // cpprest keeps such a connection; answering close makes it close too.
  CHECK(connection_header(1, 1, std::string("TE, close")) == "close");
  CHECK(connection_header(1, 1, std::string("keep-alive,close")) == "close");
}

TEST_CASE("an HTTP/1.1 request without close needs no Connection header") {
  CHECK(connection_header(1, 1, std::nullopt).empty());
  CHECK(connection_header(1, 1, std::string("keep-alive")).empty());
  CHECK(connection_header(1, 1, std::string("Upgrade")).empty());
  CHECK(connection_header(1, 1, std::string("")).empty());
  CHECK(connection_header(1, 1, std::string(" , ")).empty());
  CHECK(connection_header(1, 1, std::string("closed")).empty());
}

TEST_CASE("an HTTP/1.0 request is closed unless it asks for keep-alive, which the answer confirms") {
  CHECK(connection_header(1, 0, std::nullopt) == "close");
  CHECK(connection_header(1, 0, std::string("close")) == "close");
  CHECK(connection_header(1, 0, std::string("Keep-Alive")) == "keep-alive");
}
