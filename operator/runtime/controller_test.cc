// The generic runtime with a kind it has never heard of: a Widget reconciler plus a registration
// is all it takes. Driven through the Manager against a fake API server.
#include "operator/runtime/controller.h"

#include <doctest/doctest.h>

#include <thread>

#include "operator/runtime/manager.h"
#include "tests/support/eventually.h"
#include "tests/support/fake_clock.h"
#include "tests/support/fake_kube_client.h"

namespace partop::runtime {
namespace {

using nlohmann::json;
using testing::eventually;
using testing::FakeKubeClient;
using namespace std::chrono_literals;

const Resource kWidgets{"/apis/example.dev/v1", "widgets"};
const Resource kGadgets{"/apis/example.dev/v1", "gadgets"};
const std::string kWidgetsIn = "/apis/example.dev/v1/namespaces/app/widgets";
const std::string kGadgetsIn = "/apis/example.dev/v1/namespaces/app/gadgets";

// Reconciles widgets: counts calls per key, and answers what spec.answer says
// ("done", "continue:<n>" for n more slices, "guard", "error", "after").
class WidgetReconciler : public Reconciler {
 public:
  explicit WidgetReconciler(const ObjectStore& widgets) : widgets_(widgets) {}
  Result reconcile(const std::string& key) override {
    std::lock_guard<std::mutex> lock(mutex_);
    ++calls_[key];
    const auto object = widgets_.get(key);
    if (!object) return Result::done();
    const std::string answer = (*object)["spec"].value("answer", "done");
    if (answer == "guard") return Result::guard_deferred();
    if (answer == "error") return Result::error();
    if (answer == "throw") throw std::runtime_error("a bug");
    if (answer == "after") return Result::requeue_after(10min);
    if (answer.rfind("continue:", 0) == 0) {
      const int slices = std::stoi(answer.substr(9));
      if (calls_[key] <= slices) return Result::continue_now();
    }
    return Result::done();
  }
  int calls(const std::string& key) {
    std::lock_guard<std::mutex> lock(mutex_);
    return calls_[key];
  }

 private:
  const ObjectStore& widgets_;
  std::mutex mutex_;
  std::map<std::string, int> calls_;
};

// The registration of the kind: its reconciler, its primary objects, and gadgets that name a
// widget in spec.widget.
WidgetReconciler& register_widgets(Manager& manager) {
  Source& widgets = manager.source(kWidgets);
  auto reconciler = std::make_unique<WidgetReconciler>(widgets.store());
  WidgetReconciler& ref = *reconciler;
  ControllerOptions options;
  options.name = "widget";
  options.max_concurrent_reconciles = 2;
  Controller& controller = manager.add_controller(options, std::move(reconciler));
  controller.watch_for(widgets);
  controller.watch_mapped(manager.source(kGadgets), [](const std::string&, const json* object) {
    if (object == nullptr) return std::vector<std::string>{};
    return std::vector<std::string>{"app/" + (*object)["spec"].value("widget", "")};
  });
  return ref;
}

json widget(const std::string& name, const std::string& answer, int size = 1) {
  return {{"metadata", {{"name", name}}}, {"spec", {{"answer", answer}, {"size", size}}}};
}

struct RunningManager {
  explicit RunningManager(FakeKubeClient& client, const Clock& clock = system_clock())
      : manager(options(), clock, &client), widgets(register_widgets(manager)) {
    thread = std::thread([this] { code = manager.run(stop); });
  }
  ~RunningManager() {
    stop = true;
    thread.join();
  }
  static ManagerOptions options() {
    ManagerOptions options;
    options.namespaces = {"app"};
    options.metrics_bind_address = "0";
    options.health_probe_bind_address = "0";
    return options;
  }
  Manager manager;
  WidgetReconciler& widgets;
  std::atomic<bool> stop{false};
  int code = -1;
  std::thread thread;
};

}  // namespace

TEST_CASE("controller: a new kind is a reconciler plus a registration") {
  FakeKubeClient client;
  client.put_object(kWidgetsIn, widget("first", "done"));
  RunningManager running(client);
  CHECK(eventually([&] { return running.widgets.calls("app/first") == 1; }));
  client.put_object(kWidgetsIn, widget("second", "done"));
  CHECK(eventually([&] { return running.widgets.calls("app/second") == 1; }));
}

TEST_CASE("controller: a spec change is work, a status write is not") {
  FakeKubeClient client;
  client.put_object(kWidgetsIn, widget("w", "done"));
  RunningManager running(client);
  REQUIRE(eventually([&] { return running.widgets.calls("app/w") == 1; }));
  client.request(kube::Method::kPatch, kWidgetsIn + "/w/status", json{{"status", {{"ok", true}}}},
                 kube::kMergePatch);
  std::this_thread::sleep_for(200ms);
  CHECK(running.widgets.calls("app/w") == 1);
  client.put_object(kWidgetsIn, widget("w", "done", 2));
  CHECK(eventually([&] { return running.widgets.calls("app/w") == 2; }));
}

TEST_CASE("controller: a mapped secondary object queues the object it names") {
  FakeKubeClient client;
  client.put_object(kWidgetsIn, widget("w", "done"));
  RunningManager running(client);
  REQUIRE(eventually([&] { return running.widgets.calls("app/w") == 1; }));
  client.put_object(kGadgetsIn, {{"metadata", {{"name", "g"}}}, {"spec", {{"widget", "w"}}}});
  CHECK(eventually([&] { return running.widgets.calls("app/w") == 2; }));
}

TEST_CASE("controller: long work runs in slices, each requeued at once") {
  FakeKubeClient client;
  client.put_object(kWidgetsIn, widget("long", "continue:5"));
  RunningManager running(client);
  CHECK(eventually([&] { return running.widgets.calls("app/long") == 6; }));
  std::this_thread::sleep_for(100ms);
  CHECK(running.widgets.calls("app/long") == 6);  // done after the last slice
}

TEST_CASE("controller: a guard deferral retries on the short cap, an error on the long one") {
  FakeKubeClient client;
  testing::FakeClock clock;
  client.put_object(kWidgetsIn, widget("guarded", "guard"));
  client.put_object(kWidgetsIn, widget("broken", "error"));
  client.put_object(kWidgetsIn, widget("buggy", "throw"));
  client.put_object(kWidgetsIn, widget("resting", "after"));
  RunningManager running(client, clock);
  REQUIRE(eventually([&] {
    return running.widgets.calls("app/guarded") == 1 && running.widgets.calls("app/broken") == 1 &&
           running.widgets.calls("app/buggy") == 1 && running.widgets.calls("app/resting") == 1;
  }));
  // Time stands still: nothing is due again yet.
  std::this_thread::sleep_for(100ms);
  CHECK(running.widgets.calls("app/guarded") == 1);
  // The guard's retries double from 250 ms to a 500 ms cap; the error's start at 1 s. The clock
  // moves only once the last deferral is back in the queue: a backoff counted from a later
  // "now" would not be due after one more second.
  const auto deferrals_recorded = [&](int count) {
    return running.manager.metrics().render().find("partop_reconcile_total{result=\"requeue\"} " +
                                                   std::to_string(count) + "\n") !=
           std::string::npos;
  };
  for (int retry = 2; retry <= 6; ++retry) {
    REQUIRE(eventually([&] { return deferrals_recorded(retry - 1); }));
    clock.advance(1s);
    CHECK(eventually([&] { return running.widgets.calls("app/guarded") == retry; }));
  }
  CHECK(running.widgets.calls("app/broken") <= 4);  // 1 s, 2 s, 4 s: at most 3 retries in 5 s
  CHECK(running.widgets.calls("app/buggy") <= 4);
  CHECK(running.widgets.calls("app/resting") == 1);  // due after 10 minutes
  clock.advance(10min);
  CHECK(eventually([&] { return running.widgets.calls("app/resting") == 2; }));
}

TEST_CASE("controller: metrics count reconciles by result and queue figures by controller") {
  FakeKubeClient client;
  client.put_object(kWidgetsIn, widget("w", "done"));
  Manager manager(RunningManager::options(), system_clock(), &client);
  WidgetReconciler& widgets = register_widgets(manager);
  std::atomic<bool> stop{false};
  std::thread thread([&] { manager.run(stop); });
  REQUIRE(eventually([&] { return widgets.calls("app/w") == 1; }));
  stop = true;
  thread.join();
  // A stopped manager still renders; the queue gauge is labelled by controller.
  CHECK(manager.metrics().render().find("partop_reconcile_total{result=\"success\"} 1") !=
        std::string::npos);
}

}  // namespace partop::runtime
