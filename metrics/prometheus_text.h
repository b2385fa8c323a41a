// The Prometheus text exposition format (version 0.0.4), as served on
// /metrics: "# HELP" and "# TYPE" lines per family, one line per sample,
// histograms as <name>_bucket{le="..."} (cumulative), <name>_sum and
// <name>_count.
//
// Threading model: pure functions.
#ifndef BROOK_METRICS_PROMETHEUS_TEXT_H_
#define BROOK_METRICS_PROMETHEUS_TEXT_H_

#include <string>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

#include "brook/metrics/metric_family.h"

namespace brook {

// The Content-Type of the format.
inline constexpr absl::string_view kPrometheusTextContentType =
    "text/plain; version=0.0.4; charset=utf-8";

// Renders `families` in order. Families without samples get their HELP and
// TYPE lines only. Names and label names are sanitized (invalid characters
// become '_'), label values and help texts escaped.
std::string RenderPrometheusText(absl::Span<const MetricFamily> families);

// A label value escaped for the format: backslash, double quote and line
// feed become \\, \" and \n.
std::string EscapePrometheusLabelValue(absl::string_view value);

// A HELP text escaped: backslash and line feed become \\ and \n.
std::string EscapePrometheusHelp(absl::string_view help);

// A sample value as the format writes it: integers without exponent or
// fraction (exact up to 2^53), others with 15 significant digits, or 17
// where 15 would not read back as the same double; and
// +Inf, -Inf, NaN.
std::string FormatPrometheusValue(double value);

}  // namespace brook

#endif  // BROOK_METRICS_PROMETHEUS_TEXT_H_
