// Table: rows of text printed in aligned columns, as kafka-consumer-groups
// prints them. Numbers (cells that parse as integers) align right.
// Threading model: a plain value; not thread-safe.
#ifndef BROOK_TOOLS_BROOK_INTERNAL_TABLE_H_
#define BROOK_TOOLS_BROOK_INTERNAL_TABLE_H_

#include <string>
#include <vector>

namespace brook::tool {

class Table {
 public:
  explicit Table(std::vector<std::string> header)
      : header_(std::move(header)) {}
  // REQUIRES: as many cells as the header has.
  void AddRow(std::vector<std::string> cells);
  // The header and the rows, columns two spaces apart, each line ending in
  // '\n', trailing blanks trimmed.
  std::string ToString() const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

// A JSON string literal for `text` (quotes and escapes included).
std::string JsonString(const std::string& text);

}  // namespace brook::tool

#endif  // BROOK_TOOLS_BROOK_INTERNAL_TABLE_H_
