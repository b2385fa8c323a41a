// Writes tests/golden/expected.tsv: tests/golden/input.tsv run through Kafka
// Streams' own TopologyTestDriver (kafka-streams-test-utils 3.9.1), with the
// topology of tests/operators/golden_test.cc:
//   clicks -> 1-minute tumbling windows, 30 s grace -> count -> counts
//                                                  \-> suppress(untilWindowCloses) -> final-counts
//   left  leftJoin right, JoinWindows.ofTimeDifferenceAndGrace(10 s, 5 s) -> joined
// Run by tests/golden/regenerate; CI never runs it (the output is checked in).
//
//   java -cp '<libs>/*:<classes>' dev.brook.golden.Generate input.tsv expected.tsv
package dev.brook.golden;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.JoinWindows;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.KTable;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.StreamJoined;
import org.apache.kafka.streams.kstream.Suppressed;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.kstream.WindowedSerdes;
import org.apache.kafka.streams.test.TestRecord;

public final class Generate {
  static final String NULL = "<null>";

  public static void main(String[] args) throws IOException {
    StreamsBuilder b = new StreamsBuilder();
    KTable<Windowed<String>, Long> counts =
        b.stream("clicks", Consumed.with(Serdes.String(), Serdes.String()))
            .groupByKey()
            .windowedBy(TimeWindows.ofSizeAndGrace(Duration.ofMinutes(1), Duration.ofSeconds(30)))
            .count();
    var windowed = WindowedSerdes.timeWindowedSerdeFrom(String.class, 60_000L);
    counts.toStream().to("counts", Produced.with(windowed, Serdes.Long()));
    counts.suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded()))
        .toStream()
        .to("final-counts", Produced.with(windowed, Serdes.Long()));
    KStream<String, String> left =
        b.stream("left", Consumed.with(Serdes.String(), Serdes.String()));
    KStream<String, String> right =
        b.stream("right", Consumed.with(Serdes.String(), Serdes.String()));
    left.leftJoin(right, (l, r) -> l + "+" + (r == null ? "null" : r),
            JoinWindows.ofTimeDifferenceAndGrace(Duration.ofSeconds(10), Duration.ofSeconds(5)),
            StreamJoined.with(Serdes.String(), Serdes.String(), Serdes.String()))
        .to("joined", Produced.with(Serdes.String(), Serdes.String()));

    Properties p = new Properties();
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, "golden");
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
    // Every update forwarded, as Brook does by default (no record cache).
    p.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, "0");
    // Kafka Streams checks for expired unjoined left records at most once per
    // second of wall-clock time; the test driver's wall clock stands still, so
    // the check would run once. 0 checks on every record, by stream time only,
    // as Brook does.
    p.put("__emit.interval.ms.kstreams.outer.join.spurious.results.fix__", 0L);

    List<String> lines = Files.readAllLines(Path.of(args[0]), StandardCharsets.UTF_8);
    try (TopologyTestDriver driver =
            new TopologyTestDriver(b.build(), p, Instant.ofEpochMilli(0))) {
      var ser = new StringSerializer();
      var inputs = new java.util.HashMap<String, TestInputTopic<String, String>>();
      for (String t : List.of("clicks", "left", "right")) {
        inputs.put(t, driver.createInputTopic(t, ser, ser));
      }
      var de = new ByteArrayDeserializer();
      TestOutputTopic<byte[], byte[]> countsOut = driver.createOutputTopic("counts", de, de);
      TestOutputTopic<byte[], byte[]> finalOut = driver.createOutputTopic("final-counts", de, de);
      TestOutputTopic<byte[], byte[]> joinedOut = driver.createOutputTopic("joined", de, de);
      try (PrintWriter out = new PrintWriter(Files.newBufferedWriter(Path.of(args[1])))) {
        out.println("# Kafka Streams 3.9.1's output for tests/golden/input.tsv, written by");
        out.println("# tests/golden/regenerate (generator/). After each input line, the");
        out.println("# records it caused: topic, key, value, timestamp (ms). Windowed keys read");
        out.println("# key@window start; counts as numbers. Do not edit by hand.");
        for (String line : lines) {
          if (line.startsWith("#") || line.isBlank()) continue;
          String[] f = line.split("\t", -1);
          String key = f[1].equals(NULL) ? null : f[1];
          String value = f[2].equals(NULL) ? null : f[2];
          inputs.get(f[0]).pipeInput(key, value, Long.parseLong(f[3]));
          out.println("> " + f[0] + "\t" + f[1] + "\t" + f[2] + "\t" + f[3]);
          for (TestRecord<byte[], byte[]> r : countsOut.readRecordsToList()) {
            out.println(windowedLine("counts", r));
          }
          for (TestRecord<byte[], byte[]> r : finalOut.readRecordsToList()) {
            out.println(windowedLine("final-counts", r));
          }
          for (TestRecord<byte[], byte[]> r : joinedOut.readRecordsToList()) {
            out.println("joined\t" + str(r.key()) + "\t" + str(r.value()) + "\t" + r.timestamp());
          }
        }
      }
    }
  }

  static String str(byte[] b) {
    return b == null ? NULL : new String(b, StandardCharsets.UTF_8);
  }

  // Kafka Streams' time-windowed key bytes: key | window start (8 bytes, big endian).
  static String windowedLine(String topic, TestRecord<byte[], byte[]> r) {
    byte[] k = r.key();
    String key = new String(k, 0, k.length - 8, StandardCharsets.UTF_8);
    long start = ByteBuffer.wrap(k, k.length - 8, 8).getLong();
    String value = r.value() == null ? NULL : Long.toString(ByteBuffer.wrap(r.value()).getLong());
    return topic + "\t" + key + "@" + start + "\t" + value + "\t" + r.timestamp();
  }
}
