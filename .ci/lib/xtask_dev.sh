# `cargo xtask dev` for the checks that drive it (sourced by dev.sh and jaeger.sh).
# start_xtask_dev LOG [VAR=value...] starts target/debug/xtask dev in the background with the
# given environment, its output in LOG, and sets $xtask_pid; any failure of the calling check, an
# explicit `exit 1` included, then stops it (and with it every service, PostgreSQL and Jaeger),
# so nothing is left on the dev ports. wait_xtask_ready waits up to 300 s for its ready banner.

start_xtask_dev() {
  xtask_log="$1"
  shift
  env "$@" RUST_BACKTRACE=0 target/debug/xtask dev >"$xtask_log" 2>&1 &
  xtask_pid=$!
  trap 'stop_xtask_dev; echo "--- xtask log (tail)"; tail -n 40 "$xtask_log"' ERR
  trap 'stop_xtask_dev' EXIT
}

stop_xtask_dev() { kill -INT "$xtask_pid" 2>/dev/null && wait "$xtask_pid" 2>/dev/null || true; }

wait_xtask_ready() {
  for _ in $(seq 1 300); do
    grep -q "microshop is ready" "$xtask_log" && return 0
    kill -0 "$xtask_pid" 2>/dev/null || { echo "xtask dev exited early"; tail -n 60 "$xtask_log"; exit 1; }
    sleep 1
  done
  echo "xtask dev not ready after 300 s"
  tail -n 60 "$xtask_log"
  exit 1
}

# The end of a passing check: SIGINT, as a developer's Ctrl-C, and xtask must exit 0.
stop_xtask_dev_cleanly() {
  echo "--- stopping with SIGINT"
  kill -INT "$xtask_pid"
  local status=0
  wait "$xtask_pid" || status=$?
  trap - ERR EXIT
  [ "$status" -eq 0 ] || { echo "xtask dev exited with $status"; tail -n 40 "$xtask_log"; exit 1; }
}
