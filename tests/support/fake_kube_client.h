// An in-memory stand-in for the API server behind kube::Client, for fast, deterministic unit
// tests of the runtime and controllers. It keeps objects by collection, namespace and name with
// resourceVersion, generation (bumped by spec changes only, as for custom resources with a
// status subresource), creationTimestamp and optimistic concurrency on PUT; lists (with limit
// and continue); and serves watches from an event log, with bookmarks, 410 Gone after
// compaction, and injected transport failures.
//
// It is a fake of the seam, not of Kubernetes: claims about how the real API server behaves are
// proved by the e2e suite against a real kube-apiserver.
#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "operator/kube/kube_client.h"

namespace partop::testing {

struct RecordedRequest {
  kube::Method method;
  std::string path;
  nlohmann::json body;
};

class FakeKubeClient : public kube::Client {
 public:
  kube::Response request(kube::Method method, const std::string& path,
                         const std::optional<nlohmann::json>& body,
                         const std::string& content_type) override;
  kube::Response watch(const std::string& path,
                       const std::function<bool(const nlohmann::json& event)>& on_event,
                       const std::atomic<bool>& stop) override;

  // Test controls.
  // Creates or replaces an object as a user would (POST/PUT semantics without the checks);
  // `collection` is e.g. "/apis/example.dev/v1/namespaces/app/widgets".
  nlohmann::json put_object(const std::string& collection, nlohmann::json object);
  void delete_object(const std::string& collection, const std::string& name);
  // Ends every open watch with an ERROR 410 event and forgets the event log: watches from an
  // older resourceVersion get 410 until they relist.
  void expire_watches();
  // Sends a BOOKMARK carrying the current resourceVersion to every open watch.
  void send_bookmark();
  // Closes every open watch normally (the server's timeout).
  void close_watches();
  // The next `count` watch calls fail at once with a transport error.
  void fail_next_watches(int count);
  // Every request whose path starts with `prefix` answers `status` until cleared (status 0).
  void fail_requests(const std::string& prefix, int status);

  std::vector<RecordedRequest> requests() const;
  int count_requests(kube::Method method, const std::string& path_prefix) const;
  std::vector<std::string> watch_paths() const;
  std::string resource_version() const;

 private:
  struct Event {
    uint64_t version;
    std::string collection;  // resource id: group-version path + "/" + plural
    std::string ns;
    std::string type;
    nlohmann::json object;
  };
  struct Parsed {
    std::string resource;  // "/apis/g/v/plural"
    std::string ns;        // empty: all namespaces
    std::string name;
    std::string subresource;
    std::map<std::string, std::string> query;
  };
  static Parsed parse(const std::string& path);
  static std::string store_key(const std::string& resource, const std::string& ns,
                               const std::string& name);
  nlohmann::json store_locked(const Parsed& where, nlohmann::json object, bool spec_changed);
  void emit_locked(const std::string& type, const Parsed& where, const nlohmann::json& object);

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  uint64_t version_ = 100;
  uint64_t compacted_ = 0;  // watches from before this version get 410
  uint64_t watch_epoch_ = 0;
  uint64_t expire_epoch_ = 0;
  uint64_t bookmark_epoch_ = 0;
  int failing_watches_ = 0;
  std::map<std::string, int> failing_prefixes_;
  std::map<std::string, nlohmann::json> objects_;  // by store_key
  std::deque<Event> events_;
  std::vector<RecordedRequest> requests_;
  std::vector<std::string> watch_paths_;
};

}  // namespace partop::testing
