// The informer against a fake API server: list then watch, relist on 410, bookmarks, reconnect.
#include "operator/runtime/informer.h"

#include <doctest/doctest.h>

#include <thread>

#include "tests/support/eventually.h"
#include "tests/support/fake_kube_client.h"

namespace partop::runtime {
namespace {

using nlohmann::json;
using testing::eventually;
using testing::FakeKubeClient;
using namespace std::chrono_literals;

const std::string kWidgets = "/apis/example.dev/v1/namespaces/app/widgets";

json widget(const std::string& name, int size) {
  return {{"metadata", {{"name", name}}}, {"spec", {{"size", size}}}};
}

// Runs an informer on its own thread for the test's lifetime.
struct RunningInformer {
  explicit RunningInformer(FakeKubeClient& client)
      : informer(client, kWidgets, [this](const std::string& key, const json* object) {
          std::lock_guard<std::mutex> lock(mutex);
          seen.push_back(key + (object ? ":" + std::to_string((*object)["spec"].value("size", 0))
                                       : ":deleted"));
        }) {
    thread = std::thread([this] { informer.run(stop); });
  }
  ~RunningInformer() {
    stop = true;
    thread.join();
  }
  std::vector<std::string> events() {
    std::lock_guard<std::mutex> lock(mutex);
    return seen;
  }
  bool saw(const std::string& event) {
    const auto all = events();
    return std::find(all.begin(), all.end(), event) != all.end();
  }

  std::mutex mutex;
  std::vector<std::string> seen;
  Informer informer;
  std::atomic<bool> stop{false};
  std::thread thread;
};

}  // namespace

TEST_CASE("informer: lists in pages, then watches adds, changes and deletes") {
  FakeKubeClient client;
  for (int i = 0; i < 600; ++i) client.put_object(kWidgets, widget("w" + std::to_string(i), 1));
  RunningInformer running(client);
  REQUIRE(eventually([&] { return running.informer.synced(); }));
  CHECK(running.informer.list().size() == 600);
  CHECK(client.count_requests(kube::Method::kGet, kWidgets) == 2);  // 500 + 100
  client.put_object(kWidgets, widget("new", 7));
  CHECK(eventually([&] { return running.saw("app/new:7"); }));
  client.put_object(kWidgets, widget("new", 8));
  CHECK(eventually([&] { return running.saw("app/new:8"); }));
  client.delete_object(kWidgets, "new");
  CHECK(eventually([&] { return running.saw("app/new:deleted"); }));
  CHECK_FALSE(running.informer.get("app/new").has_value());
}

TEST_CASE("informer: a 410 Gone relists, and changes missed meanwhile reach the handler") {
  FakeKubeClient client;
  client.put_object(kWidgets, widget("a", 1));
  client.put_object(kWidgets, widget("b", 1));
  RunningInformer running(client);
  REQUIRE(
      eventually([&] { return running.informer.synced() && client.watch_paths().size() == 1; }));
  // The watch expires; before the informer relists, a changes and b goes away.
  client.fail_next_watches(0);
  client.expire_watches();
  client.put_object(kWidgets, widget("a", 2));
  client.delete_object(kWidgets, "b");
  CHECK(eventually([&] { return running.saw("app/a:2") && running.saw("app/b:deleted"); }));
  CHECK(client.count_requests(kube::Method::kGet, kWidgets + "?limit=500") >= 2);
  CHECK(running.informer.list().size() == 1);
}

TEST_CASE("informer: a bookmark advances the resourceVersion the next watch starts from") {
  FakeKubeClient client;
  client.put_object(kWidgets, widget("a", 1));
  RunningInformer running(client);
  REQUIRE(eventually([&] { return client.watch_paths().size() == 1; }));
  // Unrelated writes elsewhere move the server's version on; a bookmark carries it.
  client.put_object("/apis/example.dev/v1/namespaces/other/widgets", widget("x", 1));
  const std::string version = client.resource_version();
  client.send_bookmark();
  std::this_thread::sleep_for(100ms);
  client.close_watches();
  REQUIRE(eventually([&] { return client.watch_paths().size() == 2; }));
  CHECK(client.watch_paths()[1].find("resourceVersion=" + version) != std::string::npos);
  CHECK(client.count_requests(kube::Method::kGet, kWidgets) == 1);  // no relist
}

TEST_CASE("informer: a failed watch reconnects from the same resourceVersion without relisting") {
  FakeKubeClient client;
  client.put_object(kWidgets, widget("a", 1));
  client.fail_next_watches(1);
  RunningInformer running(client);
  REQUIRE(eventually([&] { return client.watch_paths().size() == 2; }));
  const auto paths = client.watch_paths();
  CHECK(paths[0] == paths[1]);
  CHECK(client.count_requests(kube::Method::kGet, kWidgets) == 1);
  client.put_object(kWidgets, widget("a", 3));
  CHECK(eventually([&] { return running.saw("app/a:3"); }));
}

}  // namespace partop::runtime
