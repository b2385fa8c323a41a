#include "brook/metrics/prometheus_text.h"

#include <cmath>
#include <cstdint>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace brook {
namespace {

bool ValidNameChar(char c, bool first, bool colon_allowed) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') {
    return true;
  }
  if (c == ':') return colon_allowed;
  return !first && c >= '0' && c <= '9';
}

std::string Sanitize(absl::string_view name, bool colon_allowed) {
  std::string out(name);
  if (out.empty()) return "_";
  for (size_t i = 0; i < out.size(); ++i) {
    if (!ValidNameChar(out[i], i == 0, colon_allowed)) out[i] = '_';
  }
  return out;
}

// {a="x",b="y"} from `labels` and an optional extra one (le), or "".
std::string LabelSet(const MetricLabels& labels, absl::string_view extra_name,
                     absl::string_view extra_value) {
  if (labels.empty() && extra_name.empty()) return "";
  std::string out = "{";
  bool first = true;
  for (const auto& [name, value] : labels) {
    absl::StrAppend(&out, first ? "" : ",",
                    Sanitize(name, /*colon_allowed=*/false), "=\"",
                    EscapePrometheusLabelValue(value), "\"");
    first = false;
  }
  if (!extra_name.empty()) {
    absl::StrAppend(&out, first ? "" : ",", extra_name, "=\"", extra_value,
                    "\"");
  }
  out += "}";
  return out;
}

absl::string_view TypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

void RenderHistogram(const std::string& name, const MetricSample& sample,
                     std::string* out) {
  const HistogramData& h = sample.histogram;
  int64_t cumulative = 0;
  for (size_t i = 0; i < h.upper_bounds.size(); ++i) {
    if (i < h.counts.size()) cumulative += h.counts[i];
    absl::StrAppend(
        out, name, "_bucket",
        LabelSet(sample.labels, "le", FormatPrometheusValue(h.upper_bounds[i])),
        " ", cumulative, "\n");
  }
  for (size_t i = h.upper_bounds.size(); i < h.counts.size(); ++i) {
    cumulative += h.counts[i];
  }
  absl::StrAppend(out, name, "_bucket", LabelSet(sample.labels, "le", "+Inf"),
                  " ", cumulative, "\n");
  absl::StrAppend(out, name, "_sum", LabelSet(sample.labels, "", ""), " ",
                  FormatPrometheusValue(h.sum), "\n");
  absl::StrAppend(out, name, "_count", LabelSet(sample.labels, "", ""), " ",
                  cumulative, "\n");
}

}  // namespace

std::string EscapePrometheusLabelValue(absl::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string EscapePrometheusHelp(absl::string_view help) {
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

std::string FormatPrometheusValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  constexpr double kExact = 9007199254740992.0;  // 2^53
  if (value == std::trunc(value) && std::fabs(value) <= kExact) {
    return absl::StrCat(static_cast<int64_t>(value));
  }
  // The shortest of 15 and 17 digits that reads back as the same double
  // (0.0025, not 0.0025000000000000001).
  std::string out = absl::StrFormat("%.15g", value);
  if (std::strtod(out.c_str(), nullptr) != value) {
    out = absl::StrFormat("%.17g", value);
  }
  return out;
}

std::string RenderPrometheusText(absl::Span<const MetricFamily> families) {
  std::string out;
  for (const MetricFamily& family : families) {
    const std::string name = Sanitize(family.name, /*colon_allowed=*/true);
    absl::StrAppend(&out, "# HELP ", name, " ",
                    EscapePrometheusHelp(family.help), "\n");
    absl::StrAppend(&out, "# TYPE ", name, " ", TypeName(family.type), "\n");
    for (const MetricSample& sample : family.samples) {
      if (family.type == MetricType::kHistogram) {
        RenderHistogram(name, sample, &out);
      } else {
        absl::StrAppend(&out, name, LabelSet(sample.labels, "", ""), " ",
                        FormatPrometheusValue(sample.value), "\n");
      }
    }
  }
  return out;
}

}  // namespace brook
