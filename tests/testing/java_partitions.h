// Where Java's default partitioner puts some keys: toPositive(murmur2(key
// bytes)) % partitions, computed with kafka-clients 3.9.1's
// org.apache.kafka.common.utils.Utils in jshell. Brook's sinks must agree,
// or co-partitioning with topics written by Java services breaks.
#ifndef BROOK_TESTS_TESTING_JAVA_PARTITIONS_H_
#define BROOK_TESTS_TESTING_JAVA_PARTITIONS_H_

#include <cstdint>

namespace brook::testing {

struct JavaPartitions {
  const char* key;
  int32_t of_12;   // partition among 12
  int32_t of_100;  // partition among 100
};

inline constexpr JavaPartitions kJavaPartitions[] = {
    {"", 9, 81},
    {"a", 4, 24},
    {"key-0", 1, 41},
    {"key-1", 0, 40},
    {"key-2", 2, 2},
    {"user-42", 4, 60},
    {"hello world", 7, 59},
    {"Brook", 11, 19},
    {"\xc3\xa9t\xc3\xa9", 1, 73},
    {"0123456789abcdef0123456789", 11, 19},
};

}  // namespace brook::testing

#endif  // BROOK_TESTS_TESTING_JAVA_PARTITIONS_H_
