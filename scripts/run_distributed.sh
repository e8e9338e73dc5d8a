#!/usr/bin/env bash
# Distributed mode on one machine (`make run-distributed`): a redis-server, Celery workers
# and daphne, all on 127.0.0.1, stopped together on Ctrl-C. The database is PostgreSQL when
# DATABASE_URL is set, else the SQLite file in the data folder. Each worker is the plain
# `celery -A studio worker`: one process that executes up to RUNS_PER_PROCESS runs at once.
#
#   REDIS_PORT   port of the redis-server (default: a free one)
#   PORT         port of daphne (default 8000)
#   WORKERS      worker processes (default: one per core, which uses the machine)
#
# Redis keeps its data in $DATA_DIR/redis (append-only file), so queued runs survive its
# restart; workers sweep for lost runs themselves, so no `celery beat` is needed.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${BIN:-.venv/bin}
DATA_DIR=${DATA_DIR:-data}
PORT=${PORT:-8000}
WORKERS=${WORKERS:-$(nproc 2>/dev/null || echo 1)}

command -v redis-server >/dev/null || {
	echo "redis-server is missing: install it with: sudo apt-get install redis-server" >&2
	exit 1
}
if [[ -z "${REDIS_PORT:-}" ]]; then
	REDIS_PORT=$("$BIN/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
fi
export REDIS_URL="redis://127.0.0.1:${REDIS_PORT}/0"
redis_dir="$DATA_DIR/redis"
[[ "$redis_dir" == /* ]] || redis_dir="$PWD/$redis_dir"
mkdir -p "$redis_dir"

children=()
stop_children() {
	trap - INT TERM EXIT
	echo "Stopping daphne, the workers and redis-server…"
	kill -TERM "${children[@]}" 2>/dev/null || true
	wait "${children[@]}" 2>/dev/null || true
}
trap stop_children INT TERM EXIT

redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$redis_dir" \
	--appendonly yes --save "" --loglevel warning &
children+=($!)
"$BIN/python" - <<EOF
import time, redis
client = redis.Redis.from_url("$REDIS_URL")
for _ in range(100):
    try:
        client.ping()
        break
    except redis.ConnectionError:
        time.sleep(0.1)
else:
    raise SystemExit("redis-server did not start on port $REDIS_PORT")
EOF

if [[ -n "${DATABASE_URL:-}" ]]; then database="PostgreSQL (DATABASE_URL)"; else database="SQLite in $DATA_DIR"; fi
echo "Database: $database; Redis: $REDIS_URL"
"$BIN/python" manage.py migrate --noinput
"$BIN/python" manage.py seed_demo
"$BIN/python" manage.py ensure_admin

for number in $(seq 1 "$WORKERS"); do
	"$BIN/celery" -A studio worker --loglevel INFO -n "worker${number}@%h" &
	children+=($!)
done
"$BIN/daphne" -b 127.0.0.1 -p "$PORT" studio.asgi:application &
children+=($!)
echo "Roundtable (distributed) on http://127.0.0.1:${PORT}/ — Ctrl-C stops everything."

# When any of them exits, stop the others.
wait -n "${children[@]}"
