#include "tools/brook/internal/table.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

#include "brook/base/logging.h"

namespace brook::tool {

void Table::AddRow(std::vector<std::string> cells) {
  CHECK_EQ(cells.size(), header_.size()) << "table row of the wrong width";
  rows_.push_back(std::move(cells));
}

std::string Table::ToString() const {
  std::vector<size_t> width(header_.size());
  for (size_t c = 0; c < header_.size(); ++c) width[c] = header_[c].size();
  for (const auto& row : rows_) {
    for (size_t c = 0; c < row.size(); ++c) {
      width[c] = std::max(width[c], row[c].size());
    }
  }
  auto line = [&](const std::vector<std::string>& cells, bool is_header) {
    std::string text;
    for (size_t c = 0; c < cells.size(); ++c) {
      int64_t number = 0;
      const bool right = !is_header && absl::SimpleAtoi(cells[c], &number);
      const std::string pad(width[c] - cells[c].size(), ' ');
      absl::StrAppend(&text, c == 0 ? "" : "  ", right ? pad : "", cells[c],
                      right ? "" : pad);
    }
    absl::StripTrailingAsciiWhitespace(&text);
    return absl::StrCat(text, "\n");
  };
  std::string out = line(header_, true);
  for (const auto& row : rows_) out += line(row, false);
  return out;
}

std::string JsonString(const std::string& text) {
  std::string out = "\"";
  for (unsigned char ch : text) {
    switch (ch) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (ch < 0x20) {
          out += absl::StrFormat("\\u%04x", ch);
        } else {
          out += static_cast<char>(ch);
        }
    }
  }
  return out + "\"";
}

}  // namespace brook::tool
