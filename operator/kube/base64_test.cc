#include "operator/kube/base64.h"

#include <doctest/doctest.h>

namespace partop::kube {

TEST_CASE("base64 decodes Secret data") {
  CHECK(base64_decode("") == "");
  CHECK(base64_decode("Zg==") == "f");
  CHECK(base64_decode("Zm8=") == "fo");
  CHECK(base64_decode("Zm9v") == "foo");
  CHECK(base64_decode("Zm9") == "fo");  // padding is optional
  CHECK(base64_decode("cG9zdGdyZXNxbDovL3U6cEBoOjU0\nMzIvZGI=") == "postgresql://u:p@h:5432/db");
  CHECK_FALSE(base64_decode("Zm=v").has_value());
  CHECK_FALSE(base64_decode("Zm9*").has_value());
  CHECK_FALSE(base64_decode("Z").has_value());
}

}  // namespace partop::kube
