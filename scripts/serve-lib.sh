# Shared by the scripts that drive a release server on loopback; sourced, not run.
# serve [ARGS…] starts `kefu serve --addr 127.0.0.1:0 ARGS…` in the background, its output in
# $tmp, waits for its ready line, and sets $pid and $url; a server that does not start ends the
# script with its log.
serve() {
  ./target/release/kefu serve --addr 127.0.0.1:0 "$@" >"$tmp/out" 2>"$tmp/log" &
  pid=$!
  for _ in $(seq 50); do grep -q listening "$tmp/out" 2>/dev/null && break; sleep 0.1; done
  url="$(sed -n 's/^kefu listening on //p' "$tmp/out")"
  [ -n "$url" ] || { echo "server did not start" >&2; cat "$tmp/log" >&2; exit 1; }
}
