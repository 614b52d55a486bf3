#include "tools/history/append_checker.h"

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/check.h"
#include "tools/history/append_report.h"

namespace meridian::history {
namespace {

// A transaction: an invoke and its completion, if any.
struct Txn {
  const Event* invoke = nullptr;
  const Event* completion = nullptr;
  EventType outcome = EventType::kInfo;  // kInfo also for "never completed"

  // With read results when ok.
  const std::vector<Op>& ops() const {
    return completion != nullptr ? completion->txn : invoke->txn;
  }
};

struct Writer {
  int32_t txn = -1;
  bool final_in_txn = true;  // its txn appends nothing after it to the same key
};

// A read of an ok transaction.
struct ReadRef {
  int32_t txn = 0;
  int32_t key = 0;
  const std::vector<int64_t>* list = nullptr;
  bool prefix_of_order = true;  // of its key's version order
};

class Checker {
 public:
  Checker(const History& history, const CheckOptions& options)
      : history_(history), options_(options) {}

  CheckResult Run() {
    CollectTxns();
    IndexAppends();
    CheckReads();
    CheckInternal();
    for (size_t t = 0; t < txns_.size(); ++t) {
      in_graph_.push_back(txns_[t].outcome == EventType::kOk ||
                          (txns_[t].outcome == EventType::kInfo && observed_[t]));
    }
    BuildVersionOrders();
    BuildGraph();
    SearchCycles();
    return Finish();
  }

 private:
  void CollectTxns() {
    absl::flat_hash_map<int64_t, int32_t> pending;  // process -> txn
    for (const Event& event : history_) {
      if (event.type == EventType::kInvoke) {
        pending[event.process] = static_cast<int32_t>(txns_.size());
        txns_.push_back(Txn{.invoke = &event});
        continue;
      }
      auto it = pending.find(event.process);
      CHECK(it != pending.end());  // ValidateHistory passed
      Txn& txn = txns_[it->second];
      txn.completion = &event;
      txn.outcome = event.type;
      pending.erase(it);
    }
    observed_.assign(txns_.size(), false);
  }

  int32_t KeyId(std::string_view key) {
    auto [it, inserted] = key_ids_.try_emplace(key, static_cast<int32_t>(keys_.size()));
    if (inserted) keys_.push_back(key);
    return it->second;
  }

  void IndexAppends() {
    for (size_t t = 0; t < txns_.size(); ++t) {
      const std::vector<Op>& ops = txns_[t].invoke->txn;
      absl::flat_hash_set<std::string_view> later_keys;  // keys appended after the current op
      for (size_t i = ops.size(); i-- > 0;) {
        const Op& op = ops[i];
        const int32_t key = KeyId(op.key);
        if (op.kind != OpKind::kAppend) continue;
        writers_[{key, op.value}] = Writer{.txn = static_cast<int32_t>(t),
                                           .final_in_txn = later_keys.insert(op.key).second};
      }
    }
  }

  const Writer* FindWriter(int32_t key, int64_t value) const {
    auto it = writers_.find(std::make_pair(key, value));
    return it == writers_.end() ? nullptr : &it->second;
  }

  // The graph node that wrote `value` to `key`, or -1 if no committed transaction did.
  int32_t GraphWriter(int32_t key, int64_t value) const {
    const Writer* w = FindWriter(key, value);
    return w != nullptr && in_graph_[w->txn] ? w->txn : -1;
  }

  void CheckReads() {
    for (size_t t = 0; t < txns_.size(); ++t) {
      if (txns_[t].outcome != EventType::kOk) continue;
      const int32_t reader = static_cast<int32_t>(t);
      for (const Op& op : txns_[t].ops()) {
        if (op.kind != OpKind::kRead) continue;
        const int32_t key = KeyId(op.key);
        const std::vector<int64_t>& list = *op.read;
        reads_.push_back(ReadRef{.txn = reader, .key = key, .list = &list});
        absl::flat_hash_set<int64_t> seen;
        std::vector<int64_t> repeated, garbage;
        int32_t failed_writer = -1;
        int64_t failed_value = 0;
        for (const int64_t v : list) {
          if (!seen.insert(v).second) repeated.push_back(v);
          const Writer* w = FindWriter(key, v);
          if (w == nullptr) {
            garbage.push_back(v);
            continue;
          }
          if (w->txn != reader) observed_[w->txn] = true;
          if (txns_[w->txn].outcome == EventType::kFail && failed_writer < 0) {
            failed_writer = w->txn;
            failed_value = v;
          }
        }
        const std::string read = absl::StrCat("read ", QuoteKey(op.key), " = ", FormatList(list));
        if (!repeated.empty()) {
          Add(kDuplicateElements,
              absl::StrCat("The transaction ", read, ", which holds ",
                           FormatList(repeated, /*brackets=*/false), " more than once."),
              {reader});
        }
        if (!garbage.empty()) {
          Add(kGarbageRead,
              absl::StrCat("The transaction ", read, ", which holds ",
                           FormatList(garbage, /*brackets=*/false),
                           ", never appended to that key by any transaction."),
              {reader});
        }
        if (failed_writer >= 0) {
          Add(kG1a,
              absl::StrCat("Aborted read: the first transaction ", read, ", which holds ",
                           failed_value, ", appended by the second transaction, which failed."),
              {reader, failed_writer});
        }
        if (list.empty()) continue;
        const Writer* last = FindWriter(key, list.back());
        if (last != nullptr && last->txn != reader && !last->final_in_txn) {
          Add(kG1b,
              absl::StrCat("Intermediate read: the first transaction ", read,
                           ", whose last element ", list.back(),
                           " the second transaction appended before appending more to that key."),
              {reader, last->txn});
        }
      }
    }
  }

  // Each read of an ok transaction against the transaction's own earlier ops on that key.
  void CheckInternal() {
    for (size_t t = 0; t < txns_.size(); ++t) {
      if (txns_[t].outcome != EventType::kOk) continue;
      const std::vector<Op>& ops = txns_[t].ops();
      struct KeyState {
        std::optional<std::vector<int64_t>> known;  // the whole list, once read
        std::vector<int64_t> appended;              // own appends since the last read
      };
      absl::flat_hash_map<std::string_view, KeyState> state;
      for (size_t i = 0; i < ops.size(); ++i) {
        const Op& op = ops[i];
        KeyState& s = state[op.key];
        if (op.kind == OpKind::kAppend) {
          if (s.known.has_value()) s.known->push_back(op.value);
          s.appended.push_back(op.value);
          continue;
        }
        const std::vector<int64_t>& list = *op.read;
        std::string problem;
        if (s.known.has_value() && list != *s.known) {
          problem = absl::StrCat("its own earlier ops imply ", FormatList(*s.known));
        } else if (!s.known.has_value() && (list.size() < s.appended.size() ||
                                            !std::equal(s.appended.begin(), s.appended.end(),
                                                        list.end() - s.appended.size()))) {
          problem = absl::StrCat("it should end with its own appends ", FormatList(s.appended));
        } else {
          for (size_t j = i + 1; j < ops.size() && problem.empty(); ++j) {
            if (ops[j].kind == OpKind::kAppend && ops[j].key == op.key &&
                std::find(list.begin(), list.end(), ops[j].value) != list.end()) {
              problem = absl::StrCat("it holds ", ops[j].value,
                                     ", which the transaction appends only later");
            }
          }
        }
        if (!problem.empty()) {
          Add(kInternal,
              absl::StrCat("Op ", i, " read ", QuoteKey(op.key), " = ", FormatList(list), ", but ",
                           problem, "."),
              {static_cast<int32_t>(t)});
        }
        s.known = list;
        s.appended.clear();
      }
    }
  }

  // Per key, the longest read is the version order; every read must be a prefix of it.
  void BuildVersionOrders() {
    order_.assign(keys_.size(), nullptr);
    std::vector<int32_t> longest(keys_.size(), -1);  // read id
    for (size_t r = 0; r < reads_.size(); ++r) {
      const ReadRef& read = reads_[r];
      int32_t& best = longest[read.key];
      if (best < 0 || read.list->size() > reads_[best].list->size()) {
        best = static_cast<int32_t>(r);
      }
    }
    for (size_t k = 0; k < keys_.size(); ++k) {
      if (longest[k] >= 0) order_[k] = reads_[longest[k]].list;
    }
    for (ReadRef& read : reads_) {
      const std::vector<int64_t>& order = *order_[read.key];
      const std::vector<int64_t>& list = *read.list;
      const auto mismatch = std::mismatch(list.begin(), list.end(), order.begin());
      if (mismatch.first == list.end()) continue;
      read.prefix_of_order = false;
      const ReadRef& other = reads_[longest[read.key]];
      const size_t at = mismatch.first - list.begin();
      Add(kIncompatibleOrder,
          absl::StrCat("Key ", QuoteKey(keys_[read.key]), ": the first transaction read ",
                       FormatList(list), " and the second read ", FormatList(order),
                       "; they differ at position ", at, " (", list[at], " vs ", order[at],
                       "), so they are not both prefixes of one version order."),
          {read.txn, other.txn});
    }
  }

  int32_t AddWhy(int32_t key, int64_t a, int64_t b, bool empty) {
    whys_.push_back(Why{.key = key, .a = a, .b = b, .empty = empty});
    return static_cast<int32_t>(whys_.size() - 1);
  }

  void BuildGraph() {
    graph_ = std::make_unique<DependencyGraph>(static_cast<int32_t>(txns_.size()));
    // ww: consecutive committed writers in each version order. next_writer[k][i] is the first
    // position >= i with a committed writer (order size if none).
    std::vector<std::vector<int32_t>> next_writer(keys_.size());
    for (size_t k = 0; k < keys_.size(); ++k) {
      if (order_[k] == nullptr) continue;
      const std::vector<int64_t>& order = *order_[k];
      const int32_t key = static_cast<int32_t>(k);
      next_writer[k].assign(order.size() + 1, static_cast<int32_t>(order.size()));
      int32_t prev = -1;  // position of the previous committed writer
      for (size_t i = 0; i < order.size(); ++i) {
        const int32_t w = GraphWriter(key, order[i]);
        if (w < 0) continue;
        if (prev >= 0) {
          graph_->AddEdge(GraphWriter(key, order[prev]), w, EdgeType::kWW,
                          AddWhy(key, order[prev], order[i], false));
        }
        prev = static_cast<int32_t>(i);
      }
      for (size_t i = order.size(); i-- > 0;) {
        next_writer[k][i] =
            GraphWriter(key, order[i]) >= 0 ? static_cast<int32_t>(i) : next_writer[k][i + 1];
      }
    }
    // wr and rw, from what each read saw of other transactions (its own trailing appends cut).
    for (const ReadRef& read : reads_) {
      const std::vector<int64_t>& list = *read.list;
      size_t external = list.size();
      while (external > 0) {
        const Writer* w = FindWriter(read.key, list[external - 1]);
        if (w == nullptr || w->txn != read.txn) break;
        --external;
      }
      for (size_t i = external; i-- > 0;) {
        const int32_t w = GraphWriter(read.key, list[i]);
        if (w < 0) continue;
        if (w != read.txn) {
          graph_->AddEdge(w, read.txn, EdgeType::kWR, AddWhy(read.key, list[i], 0, false));
        }
        break;
      }
      if (!read.prefix_of_order) continue;
      const std::vector<int64_t>& order = *order_[read.key];
      const int32_t next = next_writer[read.key][external];
      if (next >= static_cast<int32_t>(order.size())) continue;
      const int32_t w = GraphWriter(read.key, order[next]);
      if (w != read.txn) {
        graph_->AddEdge(
            read.txn, w, EdgeType::kRW,
            AddWhy(read.key, external > 0 ? list[external - 1] : 0, order[next], external == 0));
      }
    }
    // rt: waypoint i stands for "after the i-th distinct completion time"; a chain joins them.
    std::vector<int64_t> times;
    for (const Txn& txn : txns_) {
      if (txn.outcome == EventType::kOk) times.push_back(txn.completion->time_us);
    }
    std::sort(times.begin(), times.end());
    times.erase(std::unique(times.begin(), times.end()), times.end());
    std::vector<int32_t> waypoints;
    for (size_t i = 0; i < times.size(); ++i) {
      waypoints.push_back(graph_->AddWaypoint());
      if (i > 0) graph_->AddEdge(waypoints[i - 1], waypoints[i], EdgeType::kRT, -1);
    }
    for (size_t t = 0; t < txns_.size(); ++t) {
      if (!in_graph_[t]) continue;
      const int32_t node = static_cast<int32_t>(t);
      if (txns_[t].outcome == EventType::kOk) {
        const auto at = std::lower_bound(times.begin(), times.end(), txns_[t].completion->time_us);
        graph_->AddEdge(node, waypoints[at - times.begin()], EdgeType::kRT, -1);
      }
      const auto before = std::lower_bound(times.begin(), times.end(), txns_[t].invoke->time_us);
      if (before != times.begin()) {
        graph_->AddEdge(waypoints[before - times.begin() - 1], node, EdgeType::kRT, -1);
      }
    }
    graph_->Finalize();
  }

  // The nodes of each component of more than one node, by component id.
  static std::vector<std::vector<int32_t>> Cyclic(const std::vector<int32_t>& component) {
    std::vector<int32_t> size;
    for (const int32_t c : component) {
      if (c >= static_cast<int32_t>(size.size())) size.resize(c + 1, 0);
      ++size[c];
    }
    std::vector<std::vector<int32_t>> nodes(size.size());
    for (size_t n = 0; n < component.size(); ++n) {
      if (size[component[n]] > 1) nodes[component[n]].push_back(static_cast<int32_t>(n));
    }
    return nodes;
  }

  void SearchCycles() {
    CycleSearcher searcher(*graph_);
    struct Search {
      EdgeMask first;
      EdgeMask path;
    };
    // Strongest anomaly first; the last search's path covers every edge type, so each component
    // yields at least one cycle.
    const Search searches[] = {{kWWMask, kWWMask},
                               {kWRMask, kWWMask | kWRMask},
                               {kRWMask, kWWMask | kWRMask},
                               {kRWMask, kWWMask | kWRMask | kRWMask}};
    auto search_component = [&](const std::vector<int32_t>& component, int32_t id,
                                const std::vector<int32_t>& nodes, EdgeMask extra) {
      std::vector<std::string> found;
      for (const Search& s : searches) {
        std::optional<std::vector<int32_t>> cycle = searcher.Find(
            component, id, nodes, s.first, s.path | extra, options_.cycle_search_budget);
        if (!cycle.has_value()) continue;
        Anomaly anomaly = DescribeCycle(*cycle);
        if (std::find(found.begin(), found.end(), anomaly.type) != found.end()) continue;
        found.push_back(anomaly.type);
        Add(std::move(anomaly));
      }
      if (found.empty()) {  // only if every search ran out of budget: search without one
        std::optional<std::vector<int32_t>> cycle =
            searcher.Find(component, id, nodes, kAllEdges, kAllEdges, INT64_MAX);
        CHECK(cycle.has_value());
        Add(DescribeCycle(*cycle));
      }
    };
    const std::vector<int32_t> plain =
        graph_->StronglyConnectedComponents(kWWMask | kWRMask | kRWMask);
    std::vector<bool> in_plain_cycle(graph_->num_nodes(), false);
    const std::vector<std::vector<int32_t>> plain_cyclic = Cyclic(plain);
    for (size_t c = 0; c < plain_cyclic.size(); ++c) {
      if (plain_cyclic[c].empty()) continue;
      for (const int32_t n : plain_cyclic[c]) in_plain_cycle[n] = true;
      search_component(plain, static_cast<int32_t>(c), plain_cyclic[c], 0);
    }
    const std::vector<int32_t> full = graph_->StronglyConnectedComponents(kAllEdges);
    const std::vector<std::vector<int32_t>> full_cyclic = Cyclic(full);
    for (size_t c = 0; c < full_cyclic.size(); ++c) {
      const std::vector<int32_t>& nodes = full_cyclic[c];
      if (nodes.empty() ||
          std::any_of(nodes.begin(), nodes.end(), [&](int32_t n) { return in_plain_cycle[n]; })) {
        continue;
      }
      search_component(full, static_cast<int32_t>(c), nodes, kRTMask);
    }
  }

  // Turns a cycle of edge ids into an anomaly: waypoint hops fold into one rt step.
  Anomaly DescribeCycle(const std::vector<int32_t>& cycle) const {
    const std::vector<Edge>& edges = graph_->edges();
    std::vector<CycleEdge> steps;
    for (const int32_t id : cycle) {
      const Edge& e = edges[id];
      if (graph_->IsWaypoint(e.from)) continue;  // inside an rt step
      CycleEdge step;
      step.from = e.from;
      step.type = e.type;
      if (e.why >= 0) {
        const Why& why = whys_[e.why];
        step.key = keys_[why.key];
        step.a = why.a;
        step.b = why.b;
        step.empty_read = why.empty;
      }
      steps.push_back(step);
    }
    std::vector<TxnRef> refs;
    for (const CycleEdge& step : steps) refs.push_back(Ref(step.from));
    return MakeCycleAnomaly(steps, refs);
  }

  TxnRef Ref(int32_t t) const {
    const Txn& txn = txns_[t];
    TxnRef ref{.process = txn.invoke->process,
               .index = txn.completion != nullptr ? txn.completion->index : txn.invoke->index,
               .outcome = txn.outcome,
               .completed = txn.completion != nullptr,
               .invoke_us = txn.invoke->time_us,
               .complete_us = txn.completion != nullptr ? txn.completion->time_us : 0,
               .ops = txn.ops(),
               .commit_ts = std::nullopt};
    if (txn.completion != nullptr) ref.commit_ts = txn.completion->commit_ts;
    return ref;
  }

  void Add(const char* type, std::string explanation, const std::vector<int32_t>& txns) {
    Anomaly anomaly;
    anomaly.type = type;
    anomaly.explanation = std::move(explanation);
    if (counts_[type] < options_.max_report_per_type) {
      for (const int32_t t : txns) anomaly.txns.push_back(Ref(t));
    }
    Add(std::move(anomaly));
  }

  void Add(Anomaly anomaly) {
    if (counts_[anomaly.type]++ < options_.max_report_per_type) {
      anomalies_.push_back(std::move(anomaly));
    }
  }

  CheckResult Finish() {
    CheckResult result;
    result.ok = counts_.empty();
    result.anomalies = std::move(anomalies_);
    SortAnomalies(&result.anomalies);
    result.anomaly_counts = std::move(counts_);
    for (size_t t = 0; t < txns_.size(); ++t) {
      switch (txns_[t].outcome) {
        case EventType::kOk:
          ++result.txns_ok;
          break;
        case EventType::kFail:
          ++result.txns_failed;
          break;
        default:
          ++result.txns_info;
          if (in_graph_[t]) ++result.txns_info_observed;
      }
    }
    result.keys = static_cast<int64_t>(keys_.size());
    result.edges_ww = graph_->CountEdges(EdgeType::kWW);
    result.edges_wr = graph_->CountEdges(EdgeType::kWR);
    result.edges_rw = graph_->CountEdges(EdgeType::kRW);
    result.edges_rt = graph_->CountEdges(EdgeType::kRT);
    FormatReport(&result);
    return result;
  }

  struct Why {
    int32_t key = 0;
    int64_t a = 0;
    int64_t b = 0;
    bool empty = false;
  };

  const History& history_;
  const CheckOptions& options_;
  std::vector<Txn> txns_;
  std::vector<bool> observed_;  // an info txn's append was seen by an ok read
  std::vector<bool> in_graph_;
  absl::flat_hash_map<std::string_view, int32_t> key_ids_;
  std::vector<std::string_view> keys_;
  absl::flat_hash_map<std::pair<int32_t, int64_t>, Writer> writers_;
  std::vector<ReadRef> reads_;
  std::vector<const std::vector<int64_t>*> order_;  // per key; nullptr if never read
  std::unique_ptr<DependencyGraph> graph_;
  std::vector<Why> whys_;
  std::vector<Anomaly> anomalies_;
  std::map<std::string, int64_t> counts_;
};

}  // namespace

absl::StatusOr<CheckResult> CheckAppendHistory(const History& history,
                                               const CheckOptions& options) {
  if (absl::Status s = ValidateHistory(history); !s.ok()) return s;
  return Checker(history, options).Run();
}

}  // namespace meridian::history
