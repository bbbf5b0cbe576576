#!/bin/sh
# mistral-db-manage on a fresh database: upgrade head, current, history,
# populate (twice: it is idempotent), populate with system workflows, stamp.
# usage: db_manage_test.sh BIN_DIR sqlite|postgresql
# PostgreSQL needs MISTRAL_TEST_PG_URL (scripts/test.sh starts a server);
# without it the test exits 77 (skipped).
set -eu
BIN="$1/mistral-db-manage"
BACKEND="$2"
WORK=$(mktemp -d)
PGDB=""
cleanup() {
  if [ -n "$PGDB" ]; then psql "$MISTRAL_TEST_PG_URL" -q -c "DROP DATABASE IF EXISTS $PGDB" >/dev/null 2>&1 || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

if [ "$BACKEND" = postgresql ]; then
  [ -n "${MISTRAL_TEST_PG_URL:-}" ] || { echo "skipped: MISTRAL_TEST_PG_URL is not set"; exit 77; }
  PGDB="dbm_$$_$(date +%s)"
  psql "$MISTRAL_TEST_PG_URL" -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE $PGDB" >/dev/null
  URL="${MISTRAL_TEST_PG_URL%/*}/$PGDB"
  count() { psql "$URL" -tA -c "$1"; }
else
  URL="sqlite:///$WORK/fresh.db"
  count() { /usr/bin/python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])" "$WORK/fresh.db" "$1"; }
fi
printf '[database]\nconnection = %s\n' "$URL" > "$WORK/m.conf"
run() { "$BIN" --config-file "$WORK/m.conf" "$@"; }

[ -z "$(run current)" ] || fail "a fresh database has no revision"
run upgrade head 2> "$WORK/upgrade.log" || fail "upgrade head: $(cat "$WORK/upgrade.log")"
grep -q "Running upgrade" "$WORK/upgrade.log" || fail "upgrade head said: $(cat "$WORK/upgrade.log")"
head=$(run history | head -1 | sed 's/.*-> \([0-9]*\) (head).*/\1/')
[ "$(run current)" = "$head (head)" ] || fail "current after upgrade: $(run current), head $head"
run upgrade head 2> "$WORK/again.log" || fail "a second upgrade head failed"
[ ! -s "$WORK/again.log" ] || fail "a second upgrade head ran: $(cat "$WORK/again.log")"
echo "ok: upgrade head on a fresh $BACKEND database ($head)"

run populate 2>/dev/null || fail "populate"
run populate 2>/dev/null || fail "second populate"
[ "$(count "SELECT COUNT(*) FROM action_definitions_v2 WHERE name = 'std.wait_ssh' AND scope = 'public'")" = 1 ] ||
  fail "populate did not register std.wait_ssh once"
echo "ok: populate registers std.wait_ssh once"

mkdir "$WORK/wfs"
cat > "$WORK/wfs/system.yaml" <<'YAML'
---
version: '2.0'
sys_one:
  input:
    - name
  tasks:
    hello:
      action: std.echo output=<% $.name %>
sys_two:
  tasks:
    noop:
      action: std.noop
YAML
run populate --workflows-dir "$WORK/wfs" 2>/dev/null || fail "populate --workflows-dir"
run sync_db --workflows-dir "$WORK/wfs" 2>/dev/null || fail "sync_db --workflows-dir"
[ "$(count "SELECT COUNT(*) FROM workflow_definitions_v2 WHERE is_system = 1 AND scope = 'public'")" = 2 ] ||
  fail "system workflows not registered exactly once"
echo "ok: populate registers system workflows, and again replaces them"

run stamp 1 && [ "$(run current)" = "0001" ] || fail "stamp 1"
run stamp head && [ "$(run current)" = "$head (head)" ] || fail "stamp head"
set +e
run upgrade > "$WORK/norev.log" 2>&1
rc=$?
set -e
[ "$rc" = 1 ] && grep -q "You must provide a revision or relative delta" "$WORK/norev.log" || fail "upgrade without revision"
echo "ok: stamp and revision checks"
