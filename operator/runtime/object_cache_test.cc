// An index is built over the objects already cached and follows every change after.
#include "operator/runtime/object_cache.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace partop::runtime {
namespace {

using nlohmann::json;

const ObjectIndex kByColor{"color", [](const json& object) -> std::vector<std::string> {
                             if (!object.contains("colors")) return {};
                             return object["colors"].get<std::vector<std::string>>();
                           }};

std::vector<std::string> names_with(const ObjectCache& cache, const std::string& color) {
  std::vector<std::string> names;
  cache.for_each_indexed(kByColor, color,
                         [&](const json& object) { names.push_back(object["name"]); });
  return names;
}

using Names = std::vector<std::string>;

TEST_CASE("an object cache's index follows puts, erases and replacements") {
  ObjectCache cache;
  cache.put("a", {{"name", "a"}, {"colors", {"red"}}});
  cache.put("b", {{"name", "b"}, {"colors", {"red", "blue"}}});
  cache.put("c", {{"name", "c"}});

  // Built on first use, over what is already there.
  CHECK(names_with(cache, "red") == Names{"a", "b"});
  CHECK(names_with(cache, "blue") == Names{"b"});
  CHECK(names_with(cache, "green").empty());

  // A changed object leaves the values it no longer has; a new one is filed at once.
  cache.put("b", {{"name", "b"}, {"colors", {"green"}}});
  cache.put("d", {{"name", "d"}, {"colors", {"red"}}});
  CHECK(names_with(cache, "red") == Names{"a", "d"});
  CHECK(names_with(cache, "blue").empty());
  CHECK(names_with(cache, "green") == Names{"b"});

  cache.erase("a");
  cache.erase("missing");
  CHECK(names_with(cache, "red") == Names{"d"});
  CHECK(cache.find("a") == nullptr);

  cache.replace({{"e", {{"name", "e"}, {"colors", {"blue"}}}}});
  CHECK(names_with(cache, "red").empty());
  CHECK(names_with(cache, "blue") == Names{"e"});
  CHECK(cache.objects().size() == 1);
}

}  // namespace
}  // namespace partop::runtime
