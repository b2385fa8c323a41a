// Header: one record header, a name and its bytes.
// Thread-safety: plain values.
#ifndef BROOK_KAFKA_HEADER_H_
#define BROOK_KAFKA_HEADER_H_

#include <string>
#include <utility>

namespace brook {

using Header = std::pair<std::string, std::string>;

}  // namespace brook

#endif  // BROOK_KAFKA_HEADER_H_
