// Manual check of the HTTP client against a real API server:
//   partop_kube_smoke KUBECONFIG [CONTEXT]
// Lists namespaces, creates, patches, reads and deletes ConfigMaps in the context's namespace,
// and watches ConfigMaps until it sees the ADDED event of one created by another thread, then
// sets the stop flag while the stream is idle and checks that watch() returns within ~1 s.
// Exits 0 when every step passed.
#include <unistd.h>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <iostream>
#include <mutex>
#include <thread>

#include "operator/kube/kube_client.h"

namespace {

using namespace partop::kube;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

int failures = 0;

bool check(bool ok, const std::string& what, const Response& response) {
  std::cout << (ok ? "ok   " : "FAIL ") << what << ": status " << response.status;
  if (!response.error.empty()) std::cout << ", error: " << response.error;
  std::cout << "\n";
  if (!ok) ++failures;
  return ok;
}

json config_map(const std::string& name) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", name}, {"labels", {{"app", "partop-smoke"}}}}},
          {"data", {{"k", "v"}}}};
}

long long ms_since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: partop_kube_smoke KUBECONFIG [CONTEXT]\n";
    return 2;
  }
  std::unique_ptr<Client> client;
  Config config;
  try {
    config = load_kubeconfig(argv[1], argc > 2 ? argv[2] : "");
    client = make_http_client(config);
  } catch (const std::exception& e) {
    std::cerr << "configuration: " << e.what() << "\n";
    return 2;
  }
  const std::string ns = config.namespace_name;
  const std::string base = "/api/v1/namespaces/" + ns + "/configmaps";
  const std::string suffix = std::to_string(getpid());

  Response namespaces = client->request(Method::kGet, "/api/v1/namespaces");
  if (!check(namespaces.ok(), "GET /api/v1/namespaces", namespaces)) return 1;
  std::cout << "     namespaces:";
  for (const json& item : namespaces.body["items"]) {
    std::cout << " " << item["metadata"]["name"].get<std::string>();
  }
  std::cout << "\n";

  const std::string name = "partop-smoke-" + suffix;
  Response created = client->request(Method::kPost, base, config_map(name));
  check(created.status == 201, "POST configmap " + name, created);
  Response again = client->request(Method::kPost, base, config_map(name));
  check(again.status == 409 && !again.error.empty(), "POST again gives 409 with Status message",
        again);
  Response patched = client->request(Method::kPatch, base + "/" + name,
                                     json{{"data", {{"k", "patched"}}}}, kMergePatch);
  check(patched.ok() && patched.body["data"]["k"] == "patched", "PATCH (merge) configmap", patched);
  Response missing = client->request(Method::kGet, base + "/partop-smoke-missing");
  check(missing.status == 404 && missing.error.find("not found") != std::string::npos,
        "GET missing configmap gives 404 with Status message", missing);

  // Concurrent requests on one client.
  {
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 8; ++i) {
      threads.emplace_back([&] {
        for (int j = 0; j < 10; ++j) {
          if (client->request(Method::kGet, base + "/" + name).ok()) ++ok;
        }
      });
    }
    for (auto& thread : threads) thread.join();
    Response summary;
    summary.status = ok.load() == 80 ? 200 : 0;
    check(ok.load() == 80, "80 concurrent GETs from 8 threads (" + std::to_string(ok) + " ok)",
          summary);
  }

  // Watch from the list's resourceVersion; another thread creates a ConfigMap.
  Response list =
      client->request(Method::kGet, base + "?labelSelector=" + url_encode("app=partop-smoke"));
  check(list.ok(), "LIST configmaps with labelSelector", list);
  const std::string rv = list.body["metadata"]["resourceVersion"].get<std::string>();
  const std::string watched = "partop-smoke-watch-" + suffix;

  std::atomic<bool> stop{false};
  std::mutex mutex;
  std::condition_variable seen_cv;
  bool seen = false;
  int events = 0;
  Response watch_result;
  Clock::time_point watch_returned;
  std::thread watcher([&] {
    watch_result = client->watch(
        base + "?watch=1&resourceVersion=" + rv,
        [&](const json& event) {
          std::lock_guard lock(mutex);
          ++events;
          std::cout << "     event " << event["type"].get<std::string>() << " "
                    << event["object"]["metadata"]["name"].get<std::string>() << "\n";
          if (event["type"] == "ADDED" && event["object"]["metadata"]["name"] == watched) {
            seen = true;
            seen_cv.notify_all();
          }
          return true;  // keep watching: the stop flag ends it
        },
        stop);
    watch_returned = Clock::now();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  Response created2 = client->request(Method::kPost, base, config_map(watched));
  check(created2.status == 201, "POST configmap " + watched + " (from another thread)", created2);
  {
    std::unique_lock lock(mutex);
    Response r;
    bool got = seen_cv.wait_for(lock, std::chrono::seconds(10), [&] { return seen; });
    r.status = got ? 200 : 0;
    check(got, "watch saw ADDED " + watched, r);
  }
  // Let the stream go idle (nothing more to send), then stop it.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  const Clock::time_point stop_at = Clock::now();
  stop = true;
  watcher.join();
  const long long latency =
      std::chrono::duration_cast<std::chrono::milliseconds>(watch_returned - stop_at).count();
  check(latency < 1200 && watch_result.error.empty(),
        "watch returned " + std::to_string(latency) + " ms after stop", watch_result);

  // A watch whose callback returns false ends at once.
  {
    const Clock::time_point start = Clock::now();
    std::atomic<bool> never{false};
    Response r = client->watch(
        base + "?watch=1", [](const json&) { return false; }, never);
    check(r.ok() && r.error.empty(),
          "watch ends when on_event returns false (" + std::to_string(ms_since(start)) + " ms)", r);
  }

  // A watch the server ends (timeoutSeconds) returns without an error.
  {
    const Clock::time_point start = Clock::now();
    std::atomic<bool> never{false};
    Response r = client->watch(
        base + "?watch=1&timeoutSeconds=1&resourceVersion=" + rv, [](const json&) { return true; },
        never);
    check(r.ok() && r.error.empty(),
          "watch ends when the server closes it (" + std::to_string(ms_since(start)) + " ms)", r);
  }

  for (const std::string& n : {name, watched}) {
    Response deleted = client->request(Method::kDelete, base + "/" + n);
    check(deleted.ok(), "DELETE configmap " + n, deleted);
  }

  std::cout << (failures == 0 ? "PASS" : "FAILED") << " (" << failures << " failures)\n";
  return failures == 0 ? 0 : 1;
}
