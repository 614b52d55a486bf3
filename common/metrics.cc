#include "common/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/check.h"

namespace meridian::metrics {
namespace {

bool ValidName(const std::string& name, bool colons) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colons && c == ':');
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

void CheckLabels(const Labels& labels) {
  for (const auto& [name, value] : labels) {
    CHECK_MSG(ValidName(name, /*colons=*/false) && name != "le", "bad label name: " + name);
  }
}

// `{a="x",b="y"}` with `extra` (le="...") last; "" when there is no label at all.
std::string LabelText(const Labels& labels, const std::string& extra = "") {
  if (labels.empty() && extra.empty()) return "";
  std::string out = "{";
  for (const auto& [name, value] : labels) {
    if (out.size() > 1) out += ',';
    absl::StrAppend(&out, name, "=\"", EscapeLabelValue(value), "\"");
  }
  if (!extra.empty()) {
    if (out.size() > 1) out += ',';
    out += extra;
  }
  out += '}';
  return out;
}

const char* TypeName(Type type) {
  switch (type) {
    case Type::kCounter:
      return "counter";
    case Type::kGauge:
      return "gauge";
    case Type::kHistogram:
      return "histogram";
  }
  return "untyped";
}

// Every histogram line of one labelled histogram: cumulative buckets, then _sum and _count.
void RenderHistogram(const std::string& name, const Labels& labels, const Histogram& histogram,
                     std::string* out) {
  const Histogram::Snapshot snap = histogram.Read();
  uint64_t cumulative = 0;
  for (size_t i = 0; i < snap.counts.size(); ++i) {
    cumulative += snap.counts[i];
    const std::string le =
        i < snap.upper_bounds.size() ? FormatValue(snap.upper_bounds[i]) : std::string("+Inf");
    absl::StrAppend(out, name, "_bucket", LabelText(labels, "le=\"" + le + "\""), " ", cumulative,
                    "\n");
  }
  absl::StrAppend(out, name, "_sum", LabelText(labels), " ", FormatValue(snap.sum), "\n");
  absl::StrAppend(out, name, "_count", LabelText(labels), " ", cumulative, "\n");
}

}  // namespace

// ---- Histogram ---------------------------------------------------------------------------------

Histogram::Histogram(std::vector<double> upper_bounds)
    : upper_bounds_(std::move(upper_bounds)),
      counts_(new std::atomic<uint64_t>[upper_bounds_.size() + 1]) {
  CHECK(!upper_bounds_.empty());
  for (size_t i = 0; i < upper_bounds_.size(); ++i) {
    CHECK(std::isfinite(upper_bounds_[i]));
    CHECK(i == 0 || upper_bounds_[i - 1] < upper_bounds_[i]);
  }
  for (size_t i = 0; i <= upper_bounds_.size(); ++i) counts_[i].store(0);
}

void Histogram::Observe(double value) {
  const size_t bucket = static_cast<size_t>(
      std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), value) - upper_bounds_.begin());
  counts_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

uint64_t Histogram::Snapshot::count() const {
  uint64_t total = 0;
  for (uint64_t c : counts) total += c;
  return total;
}

Histogram::Snapshot Histogram::Read() const {
  Snapshot snap;
  snap.upper_bounds = upper_bounds_;
  snap.counts.reserve(upper_bounds_.size() + 1);
  for (size_t i = 0; i <= upper_bounds_.size(); ++i) {
    snap.counts.push_back(counts_[i].load(std::memory_order_relaxed));
  }
  snap.sum = sum_.load(std::memory_order_relaxed);
  return snap;
}

std::vector<double> LatencyBuckets() {
  return {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.004, 0.008, 0.016,
          0.032,   0.064,  0.128,   0.256,  0.512, 1.0,   2.5,   5.0,   10.0};
}

// ---- Registry ----------------------------------------------------------------------------------

struct Registry::Family {
  std::string help;
  Type type = Type::kCounter;
  std::vector<double> upper_bounds;  // histograms: every one's
  struct Entry {
    Labels labels;
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Gauge> gauge;
    std::unique_ptr<Histogram> histogram;
  };
  std::vector<Entry> entries;  // in registration order
  std::map<uint64_t, std::function<std::vector<Sample>()>> collectors;

  Entry* Find(const Labels& labels) {
    for (Entry& e : entries) {
      if (e.labels == labels) return &e;
    }
    return nullptr;
  }
};

Registry::Registry() = default;
Registry::~Registry() = default;

Registry::Family& Registry::FamilyFor(const std::string& name, const std::string& help, Type type) {
  CHECK_MSG(ValidName(name, /*colons=*/true), "bad metric name: " + name);
  std::unique_ptr<Family>& family = families_[name];
  if (family == nullptr) {
    family = std::make_unique<Family>();
    family->help = help;
    family->type = type;
  }
  CHECK_MSG(family->type == type && family->help == help,
            "metric " + name + " registered twice with another type or help");
  return *family;
}

Counter& Registry::AddCounter(const std::string& name, const std::string& help, Labels labels) {
  CheckLabels(labels);
  absl::MutexLock lock(&mu_);
  Family& family = FamilyFor(name, help, Type::kCounter);
  if (Family::Entry* e = family.Find(labels); e != nullptr) return *e->counter;
  family.entries.push_back({std::move(labels), std::make_unique<Counter>(), nullptr, nullptr});
  return *family.entries.back().counter;
}

Gauge& Registry::AddGauge(const std::string& name, const std::string& help, Labels labels) {
  CheckLabels(labels);
  absl::MutexLock lock(&mu_);
  Family& family = FamilyFor(name, help, Type::kGauge);
  if (Family::Entry* e = family.Find(labels); e != nullptr) return *e->gauge;
  family.entries.push_back({std::move(labels), nullptr, std::make_unique<Gauge>(), nullptr});
  return *family.entries.back().gauge;
}

Histogram& Registry::AddHistogram(const std::string& name, const std::string& help,
                                  std::vector<double> upper_bounds, Labels labels) {
  CheckLabels(labels);
  absl::MutexLock lock(&mu_);
  Family& family = FamilyFor(name, help, Type::kHistogram);
  if (family.entries.empty()) family.upper_bounds = upper_bounds;
  CHECK_MSG(family.upper_bounds == upper_bounds, "histogram " + name + " with other buckets");
  if (Family::Entry* e = family.Find(labels); e != nullptr) return *e->histogram;
  family.entries.push_back(
      {std::move(labels), nullptr, nullptr, std::make_unique<Histogram>(std::move(upper_bounds))});
  return *family.entries.back().histogram;
}

std::unique_ptr<Registry::CollectorHandle> Registry::AddCollector(
    const std::string& name, const std::string& help, Type type,
    std::function<std::vector<Sample>()> collect) {
  CHECK(type != Type::kHistogram);
  absl::MutexLock lock(&mu_);
  Family& family = FamilyFor(name, help, type);
  const uint64_t id = next_collector_id_++;
  family.collectors.emplace(id, std::move(collect));
  return std::make_unique<CollectorHandle>(this, id);
}

Registry::CollectorHandle::~CollectorHandle() { registry_->RemoveCollector(id_); }

void Registry::RemoveCollector(uint64_t id) {
  absl::MutexLock lock(&mu_);
  for (auto& [name, family] : families_) family->collectors.erase(id);
}

std::string Registry::Render() const {
  absl::MutexLock lock(&mu_);
  std::string out;
  for (const auto& [name, family] : families_) {
    absl::StrAppend(&out, "# HELP ", name, " ", EscapeHelp(family->help), "\n");
    absl::StrAppend(&out, "# TYPE ", name, " ", TypeName(family->type), "\n");
    for (const Family::Entry& e : family->entries) {
      if (e.counter != nullptr) {
        absl::StrAppend(&out, name, LabelText(e.labels), " ", e.counter->value(), "\n");
      } else if (e.gauge != nullptr) {
        absl::StrAppend(&out, name, LabelText(e.labels), " ", FormatValue(e.gauge->value()), "\n");
      } else {
        RenderHistogram(name, e.labels, *e.histogram, &out);
      }
    }
    for (const auto& [id, collect] : family->collectors) {
      for (const Sample& sample : collect()) {
        absl::StrAppend(&out, name, LabelText(sample.labels), " ", FormatValue(sample.value), "\n");
      }
    }
  }
  return out;
}

Registry& DefaultRegistry() {
  static Registry* const registry = new Registry();
  return *registry;
}

// ---- Text format -------------------------------------------------------------------------------

std::string EscapeLabelValue(const std::string& value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string EscapeHelp(const std::string& help) {
  std::string out;
  out.reserve(help.size());
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string FormatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buffer[64];
  const std::to_chars_result result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string(buffer, result.ptr);
}

}  // namespace meridian::metrics
