// The Kafka Streams side of bench/compare: runs one workload until SIGTERM,
// with the same flags and the same explicit settings as Brook's peer
// (bench/peer.cc), so that the two differ only in the runtime.
//
//   java -cp '<libs>/*:<classes>' dev.brook.bench.KStreamsPeer \
//       --workload=count --guarantee=eos --bootstrap_servers=127.0.0.1:9092 \
//       --application_id=a --input_topic=in --output_topic=out \
//       --state_dir=/tmp/ks --threads=1 --commit_interval_ms=100
package dev.brook.bench;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.JoinWindows;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.StreamJoined;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.kstream.WindowedSerdes;

public final class KStreamsPeer {
  private static Map<String, String> parse(String[] args) {
    Map<String, String> flags = new HashMap<>();
    for (String a : args) {
      if (!a.startsWith("--") || !a.contains("=")) {
        throw new IllegalArgumentException("expected --name=value, got '" + a + "'");
      }
      flags.put(a.substring(2, a.indexOf('=')), a.substring(a.indexOf('=') + 1));
    }
    return flags;
  }

  private static String need(Map<String, String> flags, String name) {
    String v = flags.get(name);
    if (v == null || v.isEmpty()) {
      throw new IllegalArgumentException("--" + name + " is required");
    }
    return v;
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> flags = parse(args);
    String workload = need(flags, "workload");
    String input = need(flags, "input_topic");
    String output = need(flags, "output_topic");

    Properties p = new Properties();
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, need(flags, "application_id"));
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, need(flags, "bootstrap_servers"));
    p.put(StreamsConfig.STATE_DIR_CONFIG, need(flags, "state_dir"));
    p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, need(flags, "threads"));
    p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, need(flags, "commit_interval_ms"));
    p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG,
        need(flags, "guarantee").equals("eos") ? StreamsConfig.EXACTLY_ONCE_V2
                                               : StreamsConfig.AT_LEAST_ONCE);
    // The settings where Brook's defaults differ from Kafka Streams', set to
    // Brook's, so that both run the same protocol.
    // No record cache unless --cache_max_bytes asks for one (Brook's default).
    p.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG,
        flags.getOrDefault("cache_max_bytes", "0"));
    // The join's tasks read two inputs: both peers wait for an input with
    // records on the way (both runtimes' default).
    p.put(StreamsConfig.MAX_TASK_IDLE_MS_CONFIG, "0");
    p.put(StreamsConfig.producerPrefix(ProducerConfig.LINGER_MS_CONFIG), "5");
    p.put(StreamsConfig.producerPrefix(ProducerConfig.ACKS_CONFIG), "all");
    p.put(StreamsConfig.producerPrefix(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG), "10000");
    p.put(StreamsConfig.consumerPrefix(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG), "100");
    p.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
    p.put(StreamsConfig.consumerPrefix(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG), "45000");
    p.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, "1");

    StreamsBuilder b = new StreamsBuilder();
    switch (workload) {
      case "passthrough":
        b.stream(input, Consumed.with(Serdes.String(), Serdes.String()))
            .to(output, Produced.with(Serdes.String(), Serdes.String()));
        break;
      case "count":
        b.stream(input, Consumed.with(Serdes.String(), Serdes.String()))
            .groupByKey(Grouped.with(Serdes.String(), Serdes.String()))
            .count(Materialized.as("counts"))
            .toStream()
            .to(output, Produced.with(Serdes.String(), Serdes.Long()));
        break;
      case "windowed-count":
        b.stream(input, Consumed.with(Serdes.String(), Serdes.String()))
            .groupByKey(Grouped.with(Serdes.String(), Serdes.String()))
            .windowedBy(TimeWindows.ofSizeWithNoGrace(Duration.ofMinutes(1)))
            .count(Materialized.as("windowed-counts"))
            .toStream()
            .to(output, Produced.with(
                WindowedSerdes.timeWindowedSerdeFrom(String.class, 60_000L), Serdes.Long()));
        break;
      case "join": {
        long window = Long.parseLong(flags.getOrDefault("join_window_ms", "1000"));
        long grace = Long.parseLong(flags.getOrDefault("join_grace_ms", "600000"));
        b.stream(input, Consumed.with(Serdes.String(), Serdes.String()))
            .join(b.stream(need(flags, "right_topic"),
                      Consumed.with(Serdes.String(), Serdes.String())),
                (l, r) -> l + "+" + r,
                JoinWindows.ofTimeDifferenceAndGrace(
                    Duration.ofMillis(window), Duration.ofMillis(grace)),
                StreamJoined.with(Serdes.String(), Serdes.String(), Serdes.String()))
            .to(output, Produced.with(Serdes.String(), Serdes.String()));
        break;
      }
      default:
        throw new IllegalArgumentException("--workload='" + workload
            + "': expected passthrough, count, windowed-count or join");
    }
    KafkaStreams streams = new KafkaStreams(b.build(), p);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      streams.close();
      stopped.countDown();
    }));
    streams.setUncaughtExceptionHandler(e -> {
      System.err.println("kstreams_peer: " + e);
      return org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler
          .StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
    });
    streams.start();
    System.err.println("kstreams_peer: started " + workload);
    stopped.await();
  }
}
