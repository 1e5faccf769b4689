#!/usr/bin/env bash
# A private Apache Kafka broker in KRaft mode (combined broker+controller) for
# tests and the demo, run from the Maven Central jars with the machine's Java.
# Listeners on 127.0.0.1: PLAINTEXT $KAFKA_PORT (9092), controller (9093),
# SASL_PLAINTEXT $KAFKA_SASL_PORT (9094: PLAIN admin/admin-secret and
# alice/alice-secret, SCRAM-SHA-256/512 alice/alice-secret), and SASL_SSL
# $KAFKA_TLS_PORT (9095: SCRAM-SHA-512 alice over TLS with the test CA).
#   scripts/kafka.sh fetch|start|stop|status|env
set -euo pipefail
. "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")/.." && pwd)
VERSION=${KAFKA_VERSION:-4.1.1}
PORT=${KAFKA_PORT:-9092}
CPORT=${KAFKA_CONTROLLER_PORT:-9093}
SPORT=${KAFKA_SASL_PORT:-9094}
TPORT=${KAFKA_TLS_PORT:-9095}
K=$INFRA/kafka-$VERSION
R=$RUN/kafka
CONF=$R/server.properties
PIDFILE=$R/pid
CID=5L6g3nShT-eMCtK--X86sw

fetch() {
  [ -f "$K/lib/.complete" ] && return 0
  command -v mvn >/dev/null || die "maven (mvn) is needed to fetch the Kafka jars"
  log "fetching Kafka $VERSION jars from Maven Central"
  mkdir -p "$K/lib"
  mvn -B -q -f "$HERE/tools/testinfra/kafka.pom.xml" -Dkafka.version="$VERSION" \
    org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$K/lib" >&2 || die "mvn could not fetch the Kafka jars"
  touch "$K/lib/.complete"
}

write_config() {
  mkdir -p "$R/data" "$R/logs" "$K/etc"
  cat > "$K/etc/log4j2.properties" <<'P'
status = warn
appender.out.type = Console
appender.out.name = OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = OUT
logger.req.name = kafka.request.logger
logger.req.level = WARN
P
  sed 's/rootLogger.level = INFO/rootLogger.level = WARN/' "$K/etc/log4j2.properties" > "$K/etc/tools-log4j2.properties"
  cat > "$CONF" <<P
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CPORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CPORT,SASL_PLAINTEXT://127.0.0.1:$SPORT,SASL_SSL://127.0.0.1:$TPORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT,SASL_PLAINTEXT://127.0.0.1:$SPORT,SASL_SSL://127.0.0.1:$TPORT
listener.name.sasl_ssl.ssl.keystore.type=PEM
listener.name.sasl_ssl.ssl.keystore.location=$TLS_DIR/server-bundle.pem
listener.name.sasl_ssl.ssl.truststore.type=PEM
listener.name.sasl_ssl.ssl.truststore.location=$TLS_DIR/ca.pem
listener.name.sasl_ssl.sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL
listener.name.sasl_plaintext.sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512
listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" user_admin="admin-secret" user_alice="alice-secret";
listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
log.dirs=$R/data
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
auto.create.topics.enable=true
message.max.bytes=10485760
replica.fetch.max.bytes=10485760
log.retention.hours=24
P
}

ktool() { java -Xmx256m -XX:TieredStopAtLevel=1 -Dlog4j2.configurationFile="$K/etc/tools-log4j2.properties" -cp "$K/lib/*" "$@"; }

start() {
  fetch
  if alive "$PIDFILE" "$CONF"; then return 0; fi
  port_open 127.0.0.1 "$PORT" && die "port $PORT is taken by another process; set KAFKA_PORT"
  ensure_tls
  write_config
  if [ ! -f "$R/data/meta.properties" ]; then
    ktool kafka.tools.StorageTool format --ignore-formatted -t "$CID" -c "$CONF" > "$R/logs/format.log" 2>&1 \
      || fail_with_log "$R/logs/format.log" "formatting Kafka storage failed"
  fi
  : > "$R/logs/stdout.log"
  nohup java -Xms512m -Xmx1g -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$K/etc/log4j2.properties" -Dkafka.logs.dir="$R/logs" \
    -cp "$K/lib/*" kafka.Kafka "$CONF" > "$R/logs/stdout.log" 2>&1 &
  echo $! > "$PIDFILE"
  for _ in $(seq 1 900); do
    if grep -q 'Kafka Server started' "$R/logs/stdout.log" 2>/dev/null && port_open 127.0.0.1 "$PORT"; then
      add_scram_users
      return 0
    fi
    alive "$PIDFILE" "$CONF" || break
    sleep 0.1
  done
  fail_with_log "$R/logs/stdout.log" "Kafka did not start within 90 s"
}

# SCRAM credentials for alice (both mechanisms), set through the running
# broker so they are stored exactly as a client-side admin would store them.
add_scram_users() {
  local m
  for m in SCRAM-SHA-256 SCRAM-SHA-512; do
    ktool kafka.admin.ConfigCommand --bootstrap-server "127.0.0.1:$PORT" --alter --entity-type users \
      --entity-name alice --add-config "$m=[iterations=8192,password=alice-secret]" \
      > "$R/logs/scram.log" 2>&1 || fail_with_log "$R/logs/scram.log" "adding the $m user failed"
  done
}

stop() { stop_pid "$PIDFILE" "$CONF"; }

status() {
  if alive "$PIDFILE" "$CONF"; then echo "kafka running (pid $(cat "$PIDFILE"), 127.0.0.1:$PORT)"; else echo "kafka stopped"; return 1; fi
}

env_() {
  cat <<ENV
KAFKA_BROKERS=127.0.0.1:$PORT
KAFKA_SASL_BROKERS=127.0.0.1:$SPORT
KAFKA_TLS_BROKERS=127.0.0.1:$TPORT
KAFKA_TLS_CA=$TLS_DIR/ca.pem
ENV
}

case "${1:-}" in
  fetch) fetch ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  env) env_ ;;
  *) die "usage: $0 fetch|start|stop|status|env" ;;
esac
