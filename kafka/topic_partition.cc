#include "brook/kafka/topic_partition.h"

#include "absl/strings/str_cat.h"

namespace brook {

std::string TopicPartition::ToString() const {
  return absl::StrCat(topic, "-", partition);
}

std::string TopicPartitionOffset::ToString() const {
  return absl::StrCat(tp.ToString(), "@", offset);
}

}  // namespace brook
