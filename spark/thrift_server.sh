#!/usr/bin/env bash
# The local Spark Thrift server that the `spark` dbt target talks to in tests and on one machine.
#   spark/thrift_server.sh start   start it (listening on 127.0.0.1 only) and wait until it accepts connections
#   spark/thrift_server.sh stop    stop the server this script started, by its own PID
# Its state (PID, log, metastore, managed tables) lives in .spark/ at the project root; `stop` keeps it,
# `make clean` removes it. Settings: ROTATION_SPARK_PORT (10001), ROTATION_SPARK_MEMORY (driver memory, 2g).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
state="$root/.spark"
pid_file="$state/thrift_server.pid"
port="${ROTATION_SPARK_PORT:-10001}"
memory="${ROTATION_SPARK_MEMORY:-2g}"

running() { [[ -f "$pid_file" ]] && kill -0 "$(cat "$pid_file")" 2>/dev/null; }

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }

start() {
    if running; then
        echo "The Spark Thrift server is already running (PID $(cat "$pid_file"), port $port)."
        return 0
    fi
    if listening; then
        echo "Port $port on 127.0.0.1 is taken by another program: set ROTATION_SPARK_PORT to a free port." >&2
        return 1
    fi
    if ! command -v java >/dev/null 2>&1; then
        echo "Java is missing: Spark needs a Java 17 runtime (Debian: apt-get install openjdk-17-jre-headless)." >&2
        return 1
    fi
    mkdir -p "$state"
    # The pyspark wheel is a whole Spark distribution; spark-submit finds it through SPARK_HOME.
    export SPARK_HOME
    SPARK_HOME="$("$state/venv/bin/python" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))')"
    # Runs from .spark/ so that the files Spark and Derby drop in the working folder stay there.
    (cd "$state" && exec nohup "$state/venv/bin/spark-submit" \
        --class org.apache.spark.sql.hive.thriftserver.HiveThriftServer2 \
        --master 'local[2]' \
        --driver-memory "$memory" \
        --conf spark.ui.enabled=false \
        --conf spark.sql.shuffle.partitions=2 \
        --conf "spark.sql.warehouse.dir=$state/spark-warehouse" \
        --conf "spark.driver.extraJavaOptions=-Dderby.system.home=$state" \
        --hiveconf hive.server2.thrift.bind.host=127.0.0.1 \
        --hiveconf "hive.server2.thrift.port=$port" \
        --hiveconf "javax.jdo.option.ConnectionURL=jdbc:derby:;databaseName=$state/metastore_db;create=true" \
        spark-internal >"$state/thrift_server.log" 2>&1) &
    echo $! >"$pid_file"
    echo -n "Starting the Spark Thrift server on 127.0.0.1:$port (log: .spark/thrift_server.log) "
    for _ in $(seq 1 180); do
        if listening; then
            echo " ready."
            return 0
        fi
        if ! running; then
            echo
            echo "The Spark Thrift server stopped while starting; the end of its log:" >&2
            tail -n 20 "$state/thrift_server.log" >&2
            rm -f "$pid_file"
            return 1
        fi
        echo -n "."
        sleep 1
    done
    echo
    echo "The Spark Thrift server did not listen within 180 s; see .spark/thrift_server.log." >&2
    stop
    return 1
}

stop() {
    if ! running; then
        rm -f "$pid_file"
        echo "No Spark Thrift server of this project is running."
        return 0
    fi
    pid="$(cat "$pid_file")"
    kill "$pid"
    for _ in $(seq 1 30); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 1
    done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    rm -f "$pid_file"
    echo "Stopped the Spark Thrift server (PID $pid)."
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
