#!/usr/bin/env bash
# The emulator harness: one place that installs, starts, describes and stops the
# local AWS emulator (moto) used by `make test`, `make demo` and CI.
#
#   emulator.sh start   install moto (pinned) if needed, make a throwaway CA and a
#                       localhost certificate, start HTTPS + plain HTTP listeners,
#                       wait until they answer, record the PID
#   emulator.sh env     print `export` lines for AWS_ENDPOINT_URL, AWS_CA_BUNDLE, a
#                       dummy key pair and a region (eval "$(emulator.sh env)")
#   emulator.sh stop    stop the emulator by its recorded PID (never by name)
#   emulator.sh status  exit 0 when the recorded emulator is alive
#   emulator.sh python  print the path of the emulator's Python (it has boto3)
#
# Settings: EMULATOR_PORT (HTTPS, default 4566), EMULATOR_HTTP_PORT (default port+1),
# EMULATOR_DIR (state folder, default .tools/emulator in the repository),
# EMULATOR_CERTS (folder of the CA and certificate, default EMULATOR_DIR; instances
# that share it share one CA).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
MOTO_VERSION=5.2.5
port=${EMULATOR_PORT:-4566}
http_port=${EMULATOR_HTTP_PORT:-$((port + 1))}
dir=${EMULATOR_DIR:-$root/.tools/emulator}
venv=$root/.tools/moto-$MOTO_VERSION
py=$venv/bin/python
certs=${EMULATOR_CERTS:-$dir}
pidfile=$dir/pid

say() { printf 'emulator: %s\n' "$*" >&2; }

install_moto() {
  if [ -x "$py" ] && "$py" -c "import moto, sys; sys.exit(moto.__version__ != '$MOTO_VERSION')" 2>/dev/null; then
    return
  fi
  say "installing moto[server]==$MOTO_VERSION into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION" >"$dir/pip.log" 2>&1 \
    || { cat "$dir/pip.log" >&2; say "pip install failed"; exit 1; }
}

# The certificates are valid for 30 days: ones that expire within a day are
# made anew, so a checkout left for a month still starts.
make_certs() {
  if [ -s "$certs/ca.pem" ] && [ -s "$certs/server.pem" ] && [ -s "$certs/server.key" ] \
    && "$py" - "$certs/server.pem" <<'PY' 2>/dev/null; then
import datetime, sys
from cryptography import x509
cert = x509.load_pem_x509_certificate(open(sys.argv[1], "rb").read())
end = getattr(cert, "not_valid_after_utc", None) or cert.not_valid_after.replace(tzinfo=datetime.timezone.utc)
sys.exit(end - datetime.datetime.now(datetime.timezone.utc) < datetime.timedelta(days=1))
PY
    return
  fi
  "$py" "$root/scripts/emulator/certs.py" "$certs"
}

# The recorded PID is ours only while it still runs server.py: after a reboot
# the number may belong to another process, which is neither reused nor killed.
alive() {
  [ -s "$pidfile" ] || return 1
  local pid
  pid=$(cat "$pidfile")
  kill -0 "$pid" 2>/dev/null && ps -p "$pid" -o args= 2>/dev/null | grep -q 'scripts/emulator/server.py'
}

answers() {
  "$py" - "$port" "$certs/ca.pem" <<'PY' 2>/dev/null
import ssl, sys, urllib.request
ctx = ssl.create_default_context(cafile=sys.argv[2])
urllib.request.urlopen(f"https://127.0.0.1:{sys.argv[1]}/moto-api/data.json", context=ctx, timeout=2).read()
PY
}

start() {
  mkdir -p "$dir"
  if alive; then
    say "already running (pid $(cat "$pidfile")) on https://127.0.0.1:$port"
    return
  fi
  install_moto
  make_certs
  rm -f "$dir/ready"
  "$py" "$root/scripts/emulator/server.py" --port "$port" --http-port "$http_port" \
    --cert "$certs/server.pem" --key "$certs/server.key" --ready-file "$dir/ready" \
    >"$dir/server.log" 2>&1 &
  local pid=$!
  echo "$pid" >"$pidfile"
  for _ in $(seq 1 150); do
    # kill -0, not alive: until the forked shell has exec'd python, the
    # process does not show server.py in its arguments yet.
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 20 "$dir/server.log" >&2
      say "exited during start-up (log: $dir/server.log)"
      rm -f "$pidfile"
      exit 1
    fi
    if [ -f "$dir/ready" ] && answers; then
      say "moto $MOTO_VERSION running (pid $(cat "$pidfile")): https://127.0.0.1:$port (TLS), http://127.0.0.1:$http_port (plain, for TLS-only tests)"
      return
    fi
    sleep 0.2
  done
  say "did not answer within 30s (log: $dir/server.log)"
  stop
  exit 1
}

stop() {
  if alive; then
    pid=$(cat "$pidfile")
    kill "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    say "stopped (pid $pid)"
  fi
  rm -f "$pidfile" "$dir/ready"
}

env_lines() {
  cat <<ENV
export AWS_ENDPOINT_URL=https://127.0.0.1:$port
export AWS_CA_BUNDLE=$certs/ca.pem
export AWS_ACCESS_KEY_ID=AKIAEMULATOR00000000
export AWS_SECRET_ACCESS_KEY=emulator-secret-not-a-real-key
export AWS_REGION=us-east-1
export AWS_DEFAULT_REGION=us-east-1
export SECURESTATE_EMULATOR_HTTP_ENDPOINT=http://127.0.0.1:$http_port
ENV
  unset_lines
}

# Settings of the developer's own AWS setup that would otherwise leak into tests.
unset_lines() {
  echo "unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ROLE_ARN AWS_WEB_IDENTITY_TOKEN_FILE"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  env) env_lines ;;
  status) alive ;;
  python) echo "$py" ;;
  *) echo "usage: $0 start|stop|env|status|python" >&2; exit 2 ;;
esac
