#!/usr/bin/env bash
# Starts a single-node Apache Kafka broker (KRaft) on loopback; idempotent.
#   KAFKA_PORT (9092)  KAFKA_CONTROLLER_PORT (9093)  KAFKA_HEAP (512m)
#   SONGDA_KAFKA_DIR   data, logs and pid file (var/kafka)
#   KAFKA_CREATE_TOPICS=0 skips creating Songda's topics
set -euo pipefail
SCRIPT_NAME=kafka
source "$(dirname "$0")/../lib.sh"

KAFKA_VERSION=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$REPO_ROOT/deploy/kafka/pom.xml")
PORT=${KAFKA_PORT:-9092}
CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-9093}
HEAP=${KAFKA_HEAP:-512m}
DIR=${SONGDA_KAFKA_DIR:-$REPO_ROOT/var/kafka}
LIBS=$SONGDA_CACHE_DIR/kafka-$KAFKA_VERSION/libs
PIDFILE=$DIR/kafka.pid

need java "Install Java 17 (Debian: apt-get install openjdk-17-jre-headless)."

fetch_jars() {
  [ -f "$LIBS/.complete" ] && return 0
  need mvn "Install Maven (Debian: apt-get install maven) so the broker jars can be fetched from Maven Central."
  say "fetching Apache Kafka $KAFKA_VERSION jars from Maven Central into $LIBS"
  rm -rf "$LIBS"; mkdir -p "$LIBS"
  mvn -q -B -Dstyle.color=never -f "$REPO_ROOT/deploy/kafka/pom.xml" dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$LIBS" \
    || die "mvn could not fetch the Kafka jars (is Maven Central reachable?)"
  touch "$LIBS/.complete"
}

write_config() {
  mkdir -p "$DIR/data" "$DIR/logs"
  cat > "$DIR/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$DIR/data
# Songda creates every topic explicitly (shared/contracts/topics.py); a typo must fail, not make a topic.
auto.create.topics.enable=false
num.partitions=6
offsets.topic.replication.factor=1
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.hours=168
PROPS
  cat > "$DIR/log4j.properties" <<PROPS
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.RollingFileAppender
log4j.appender.file.File=$DIR/logs/server.log
log4j.appender.file.MaxFileSize=20MB
log4j.appender.file.MaxBackupIndex=2
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka=INFO
log4j.logger.org.apache.kafka=INFO
PROPS
}

format_storage() {
  [ -f "$DIR/data/meta.properties" ] && return 0
  local cluster_id
  cluster_id=$(java -cp "$LIBS/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)
  say "formatting storage in $DIR/data (cluster $cluster_id)"
  java -cp "$LIBS/*" -Dlog4j.configuration="file:$DIR/log4j.properties" kafka.tools.StorageTool format \
      -t "$cluster_id" -c "$DIR/server.properties" --ignore-formatted >/dev/null \
    || die "could not format Kafka storage in $DIR/data"
}

wait_ready() {
  local pid=$1
  for _ in $(seq 1 600); do
    kill -0 "$pid" 2>/dev/null || die "the broker exited during start-up; see $DIR/logs/server.log and $DIR/logs/stdout.log"
    if port_open 127.0.0.1 "$PORT" && grep -q 'Kafka Server started' "$DIR/logs/server.log" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  die "the broker did not become ready in 60 s; see $DIR/logs/server.log"
}

create_topics() {
  [ "${KAFKA_CREATE_TOPICS:-1}" = 0 ] && return 0
  local songda=$REPO_ROOT/.venv/bin/songda
  [ -x "$songda" ] || die "$songda is missing; run 'make install' first (topics are created from shared/contracts/topics.py)"
  "$songda" topics --bootstrap "127.0.0.1:$PORT"
}

if pid_alive "$PIDFILE"; then
  say "already running (pid $(cat "$PIDFILE")) on 127.0.0.1:$PORT"
  create_topics
  exit 0
fi
port_open 127.0.0.1 "$PORT" && die "port $PORT is in use by another program; stop it or set KAFKA_PORT"
fetch_jars
write_config
format_storage
: > "$DIR/logs/server.log"
# setsid: a Ctrl-C in the terminal that started the broker must not kill it behind our back.
setsid java "-Xms$HEAP" "-Xmx$HEAP" -XX:+UseG1GC -Djava.awt.headless=true \
  -Dlog4j.configuration="file:$DIR/log4j.properties" -Dkafka.logs.dir="$DIR/logs" \
  -cp "$LIBS/*" kafka.Kafka "$DIR/server.properties" >"$DIR/logs/stdout.log" 2>&1 < /dev/null &
echo $! > "$PIDFILE"
wait_ready "$(cat "$PIDFILE")"
say "started Apache Kafka $KAFKA_VERSION (pid $(cat "$PIDFILE")) on 127.0.0.1:$PORT"
create_topics
