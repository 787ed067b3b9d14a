"""The bash body of the grading script (`script.py` puts the job's values in front of it).

It reads: APP GITDIR PRISTINE EXPECTED_TREE RUN_AS TIMEOUT KILL_AFTER HEAD_BYTES TAIL_BYTES
COMMAND HAS_PATCH MODE RESULTS_LIMIT MESSAGE_LIMIT CANARY RESULTS_DIR SETUP TEMP_DIRS STAND_INS,
and on its stdin the payload (`script.payload`, base64): `tests.patch`, `solution.patch`,
`home/`, the results folder, the two FIFOs the command's output goes through, and the harness
`h/`.

Every process it starts costs every grading a few milliseconds (more on a busy machine), so
it uses bash builtins where they do the same: `$EUID`, /etc/passwd read with `read`, one
`stat` for every size, one `chown` for the folders the grading user gets.

What it prints is a protocol the host reads (`outcome.py`), in this order: nothing until the
command starts except, for a phase that fails, its message (capped) and the report; then
`::taskform-run::` on a line of its own the moment the command starts (the host's deadline
starts there); the first HEAD_BYTES of the command's output as they come; then, once every
process of the grading user is gone, a `::taskform-tail::` header and the last TAIL_BYTES,
a `::taskform-results::` section per results file (base64, sized), and the report line
`::taskform-grade:: phase=... exit=... bytes=... head=... ms=... tree=... mode=...`. Sections
carry their sizes, so nothing the command printed can pass for one."""

BODY = r'''
umask 022
if [ -n "${SRANDOM-}" ]; then  # bash 5.1+: a name nobody can guess, without mktemp and chmod
  WORK=/tmp/taskform-grade.$SRANDOM$SRANDOM
  mkdir -m 711 -- "$WORK" 2> /dev/null || { echo "cannot create a work dir in /tmp"; exit 1; }
else
  WORK=$(mktemp -d /tmp/taskform-grade.XXXXXX) || { echo "cannot create a work dir in /tmp"; exit 1; }
  chmod 711 "$WORK"
fi
# a fresh sandbox is removed whole once the grading ends: nothing of it to tidy
[ "$MODE" = fresh ] || trap 'rm -rf -- "$WORK"' EXIT
declare -A MS=([reset]=0 [setup]=0 [patch]=0 [tests_patch]=0 [run]=0)
BYTES=0 HEAD=0 TREE=""
mark() { local _mark_t=$EPOCHREALTIME; printf -v "$1" '%s' "${_mark_t//[.,]/}"; }
since() { local now; mark now; MS[$1]=$(( (now - $2) / 1000 )); }
mark T_START

report() {  # phase exit
  local now; mark now
  local ms="reset:${MS[reset]},setup:${MS[setup]},patch:${MS[patch]},tests_patch:${MS[tests_patch]},run:${MS[run]},total:$(( (now - T_START) / 1000 ))"
  printf '\n%s phase=%s exit=%s bytes=%s head=%s ms=%s tree=%s mode=%s\n' '::taskform-grade::' "$1" "$2" "$BYTES" "$HEAD" "$ms" "${TREE:--}" "$MODE"
  exit 0
}
fail() {  # phase exit message: the message's last MESSAGE_LIMIT bytes, then the report
  printf '%s\n' "$3" | tail -c "$MESSAGE_LIMIT"
  report "$1" "$2"
}
g() { git -c safe.directory='*' -c core.hooksPath=/dev/null -c core.fsmonitor=false \
        --git-dir="$GITDIR" --work-tree="$APP" "$@"; }
unpack() {  # the payload on stdin: patches, the grading user's home, the harness (modes kept)
  base64 -d | tar -xf - -C "$WORK" --no-same-owner || fail setup 1 "cannot unpack the grading's files into $WORK"
}
user_ids() {  # RUN_UID, RUN_GID of user $1: /etc/passwd read by bash, else `id` (NSS)
  local name _x uid gid _rest
  while IFS=: read -r name _x uid gid _rest; do
    if [ "$name" = "$1" ] && [[ "$uid" =~ ^[0-9]+$ && "$gid" =~ ^[0-9]+$ ]]; then
      RUN_UID=$uid RUN_GID=$gid; return 0
    fi
  done 2>/dev/null < /etc/passwd
  RUN_UID=$(id -u "$1" 2>/dev/null) && RUN_GID=$(id -g "$1")
}
as_user() { setpriv --reuid="$RUN_UID" --regid="$RUN_GID" "$RUN_GROUPS" --no-new-privs "$@"; }

check_user() {  # RUN_AS is a user name, or uid:gid for an id without a passwd entry
  [ -n "$RUN_AS" ] || return 0
  [ "$EUID" = 0 ] || fail setup 1 "grading as user $RUN_AS needs root, but the script runs as $(id -un)"
  command -v setpriv > /dev/null || fail setup 127 "setpriv (util-linux) is missing: the image cannot switch to user $RUN_AS"
  if [[ "$RUN_AS" =~ ^([0-9]+):([0-9]+)$ ]]; then
    RUN_UID=${BASH_REMATCH[1]} RUN_GID=${BASH_REMATCH[2]} RUN_GROUPS=--clear-groups
  else
    user_ids "$RUN_AS" || fail setup 1 "user $RUN_AS does not exist: create it in the image (useradd $RUN_AS)"
    RUN_GROUPS=--init-groups
  fi
  [ "$RUN_UID" != 0 ] || fail setup 1 "user $RUN_AS is root: tests must run as a non-root user"
  [ "$MODE" = reuse ] || return 0  # a fresh sandbox is thrown away: nothing outlives it
  local owned; owned=$(find "$GITDIR" -user "$RUN_UID" -print -quit 2>/dev/null)
  [ -z "$owned" ] || fail setup 1 "$owned belongs to $RUN_AS: the git dir must stay root-owned so tests cannot change what the reset restores"
}

kill_user() {  # SIGKILL every process of the grading user, forking nothing (a fork bomb may
  # hold every pid the container has): bash builtins over /proc, until none is left
  [ -n "$RUN_AS" ] || return 0
  local round p key uid _ found
  for round in 1 2 3 4 5 6 7 8; do
    found=0
    for p in /proc/[0-9]*; do
      uid=""
      { while read -r key uid _; do [ "$key" = Uid: ] && break; done < "$p/status"; } 2>/dev/null
      if [ "$uid" = "$RUN_UID" ]; then kill -KILL "${p#/proc/}" 2>/dev/null; found=1; fi
    done
    [ "$found" = 0 ] && break
  done
  # bash's `read` reads ahead and seeks back; it cannot seek back in the status of a process
  # that ended meanwhile, and keeps what it read ahead for the next `read` of any file. One
  # read of /dev/null, which can seek, drops it.
  read -r _ < /dev/null
  return 0
}

sweep_previous() {  # reusing a container: what the previous grading's user left running or in
  # the shared temp folders
  kill_user
  [ -n "$RUN_AS" ] && find "${TEMP_DIRS[@]}" -mindepth 1 -user "$RUN_UID" -delete 2>/dev/null
  return 0
}

reset_repo() {
  local t out dirty; mark t
  cd "$APP" 2>/dev/null || fail reset 1 "work dir $APP does not exist"
  if [ "$MODE" = fresh ]; then  # started from the image a moment ago: pristine by construction
    TREE=$(g rev-parse 'HEAD^{tree}' 2>&1) || fail reset 1 "cannot read the tree of HEAD: $TREE"
    [ -z "$EXPECTED_TREE" ] || [ "$TREE" = "$EXPECTED_TREE" ] || fail reset 1 "the sandbox holds tree $TREE, not the pristine tree $EXPECTED_TREE"
    since reset "$t"; return 0
  fi
  if [ "$GITDIR" != "$APP/.git" ]; then
    rm -rf -- "$APP/.git" && printf 'gitdir: %s\n' "$GITDIR" > "$APP/.git"
  fi
  out=$(g reset -q --hard "$PRISTINE" 2>&1) || fail reset $? "git reset --hard $PRISTINE failed: $out"
  out=$(g clean -ffdxq 2>&1) || fail reset $? "git clean -ffdx failed: $out"
  dirty=$(g status --porcelain --ignored=matching --untracked-files=all 2>&1) || fail reset $? "git status failed: $dirty"
  [ -z "$dirty" ] || fail reset 1 "the repository is not pristine after the reset:
$dirty"
  TREE=$(g rev-parse 'HEAD^{tree}' 2>&1) || fail reset 1 "cannot read the tree of HEAD: $TREE"
  [ -z "$EXPECTED_TREE" ] || [ "$TREE" = "$EXPECTED_TREE" ] || fail reset 1 "the reset landed on tree $TREE, not the pristine tree $EXPECTED_TREE"
  since reset "$t"
}

run_setup() {
  local t i rc; mark t
  for i in "${!SETUP[@]}"; do
    (cd "$APP" && bash -c "${SETUP[$i]}") > "$WORK/setup.out" 2>&1 < /dev/null
    rc=$?
    [ "$rc" = 0 ] || fail setup "$rc" "$(tail -c "$MESSAGE_LIMIT" "$WORK/setup.out")
setup command $((i + 1)) failed with exit code $rc: ${SETUP[$i]}"
  done
  since setup "$t"
}

apply_patches() {
  local t out; mark t
  if [ -n "$HAS_PATCH" ]; then
    out=$(g apply "$WORK/solution.patch" 2>&1) || fail patch $? "patch does not apply: $out"
  fi
  since patch "$t"; mark t
  out=$(g apply "$WORK/tests.patch" 2>&1) || fail tests_patch $? "held-out tests patch does not apply after the solution: $out"
  if [ -n "$RUN_AS" ]; then  # the tests may write in the tree, never in the git dir
    # the work dir itself only when the git dir is elsewhere: whoever owns it can swap .git
    local depth=1; [ "$GITDIR" = "$APP/.git" ] || depth=0
    find "$APP" -mindepth "$depth" -path "$APP/.git" -prune -o ! -user "$RUN_UID" -exec chown -h "$RUN_UID:$RUN_GID" {} + 2>/dev/null
  fi
  since tests_patch "$t"
}

install_harness() {  # the evidence harness (unpacked, read-only): stand-ins for the test runners
  H="$WORK/h"
  if [ -n "$RESULTS_DIR" ] && [ -d "$WORK/$RESULTS_DIR" ]; then RESULTS=$WORK/$RESULTS_DIR  # unpacked, 700
  else RESULTS=$(mktemp -d "$WORK/r.XXXXXXXXXX") || fail setup 1 "cannot create the results folder"; fi
  local name real missing=() found  # each program as the grading user finds it on the PATH
  local find='for n in "$@"; do printf "%s " "$n"; type -P "$n" || echo; done'
  if [ -n "$RUN_AS" ]; then found=$(as_user bash -c "$find" find "${STAND_INS[@]}" 2>/dev/null)
  else found=$(bash -c "$find" find "${STAND_INS[@]}" 2>/dev/null); fi
  while read -r name real; do
    if [[ "$real" == /* ]]; then printf '%s\n' "$real" > "$H/real/$name"; else missing+=("$H/bin/$name"); fi
  done <<< "$found"
  [ "${#missing[@]}" = 0 ] || rm -f -- "${missing[@]}"  # a program it did not find stays not found
  # the results folder is 700; it and the home become the grading user's
  if [ -n "$RUN_AS" ]; then chown "$RUN_UID:$RUN_GID" "$RESULTS" "$WORK/home"; fi
  CANARY_UNITTEST="" CANARY_PYTEST=""
  if [ -n "$CANARY" ]; then
    CANARY_UNITTEST="$H/canary/$CANARY.py" CANARY_PYTEST="$H/canary/test_$CANARY.py"
  fi
}

capture() {  # the first HEAD_BYTES to the host as they come; the last TAIL_BYTES kept; a count
  local tail_pid
  head -c "$HEAD_BYTES" | tee -- "$WORK/head"
  tail -c "$TAIL_BYTES" < "$WORK/rest.fifo" > "$WORK/tail" & tail_pid=$!
  tee "$WORK/rest.fifo" | wc -c > "$WORK/rest"
  wait "$tail_pid"
}

run_command() {
  local t rc reader i home="$WORK/home"
  local env=(HOME="$home" PATH="$H/bin:$PATH" TASKFORM_HARNESS="$H" TASKFORM_RESULTS="$RESULTS"
             TASKFORM_ROOTDIR="$APP" PYTHONDONTWRITEBYTECODE=1 PYTHONNOUSERSITE=1
             TASKFORM_CANARY_UNITTEST="$CANARY_UNITTEST" TASKFORM_CANARY_PYTEST="$CANARY_PYTEST")
  # from here on only the protocol goes to stdout: bash's own notes ("Killed" for a job a
  # signal ended) and any stray diagnostics go to a file
  exec 2> "$WORK/script.err"
  printf '%s\n' '::taskform-run::'
  capture < "$WORK/out" & reader=$!
  mark t
  [ -z "$RUN_AS" ] || env+=(USER="$RUN_AS" LOGNAME="$RUN_AS")
  (  # the command's environment exported by a subshell: one program fewer than `env`
    export "${env[@]}"
    if [ -n "$RUN_AS" ]; then
      exec timeout -k "$KILL_AFTER" "$TIMEOUT" setpriv --reuid="$RUN_UID" --regid="$RUN_GID" "$RUN_GROUPS" --no-new-privs \
        bash -c "$COMMAND"
    fi
    exec timeout -k "$KILL_AFTER" "$TIMEOUT" bash -c "$COMMAND"
  ) > "$WORK/out" 2>&1 < /dev/null
  rc=$?
  since run "$t"
  kill_user  # its files stay until the next grading's sweep: the results are among them
  if [ -z "$RUN_AS" ]; then  # no user to sweep: a process that left the group may hold the output
    for i in $(seq 1 300); do kill -0 "$reader" 2>/dev/null || break; sleep 0.01; done
  fi
  if [ -z "$RUN_AS" ] && kill -0 "$reader" 2>/dev/null; then
    kill "$reader" 2>/dev/null
    echo "[taskform: a process left behind by the command kept its output open; output after this point is lost]" >> "$WORK/tail"
  fi
  wait "$reader" 2>/dev/null
  results_files
  sizes
  emit_output
  emit_results
  report run "$rc"
}

emit_output() {  # the header says how much the host already has and what is cut
  local rest=0 cut
  read -r rest 2>/dev/null < "$WORK/rest"
  HEAD=${SIZE[$WORK/head]:-0}
  BYTES=$(( HEAD + rest ))
  cut=$(( rest - TAIL_BYTES )); [ "$cut" -gt 0 ] || cut=0
  printf '\n::taskform-tail:: cut=%s bytes=%s limit=%s\n' "$cut" "${SIZE[$WORK/tail]:-0}" "$(( HEAD_BYTES + TAIL_BYTES ))"
  cat "$WORK/tail" 2>/dev/null
}

results_files() {  # FILES: the results files to read, REFUSED: those not read, and why
  local f name count=0
  FILES=() REFUSED=()
  for f in "$RESULTS"/*; do
    [ -e "$f" ] || [ -L "$f" ] || continue
    name=${f##*/} count=$((count + 1))
    [ "$count" -le 64 ] || break
    if [[ ! "$name" =~ ^[A-Za-z0-9._-]+$ ]] || [ -L "$f" ] || [ ! -f "$f" ]; then
      REFUSED+=("${name//[^A-Za-z0-9._-]/_}"); continue
    fi
    FILES+=("$name")
  done
}

sizes() {  # SIZE[path] of the output files and the results files, from one stat
  local size path
  declare -gA SIZE=()
  while read -r size path; do SIZE[$path]=$size; done < <(
    stat -c '%s %n' -- "$WORK/head" "$WORK/tail" ${FILES[@]+"${FILES[@]/#/$RESULTS/}"} 2>/dev/null)
}

emit_results() {  # read as the grading user: a link planted there reaches nothing of root's
  local name size data total=0
  for name in ${REFUSED[@]+"${REFUSED[@]}"}; do
    printf '\n::taskform-results:: name=%s bytes=0 refused=not-a-plain-file\n' "$name"
  done
  for name in ${FILES[@]+"${FILES[@]}"}; do
    size=${SIZE[$RESULTS/$name]:-0}
    total=$(( total + size ))
    if [ "$total" -gt "$RESULTS_LIMIT" ]; then  # every results file together, not each
      printf '\n::taskform-results:: name=%s bytes=0 refused=too-large-%s\n' "$name" "$size"; continue
    fi
    if [ -n "$RUN_AS" ]; then data=$(as_user base64 -w0 -- "$RESULTS/$name"); else data=$(base64 -w0 -- "$RESULTS/$name"); fi
    printf '\n::taskform-results:: name=%s bytes=%s\n%s' "$name" "${#data}" "$data"
  done
}

main() {
  unpack
  check_user
  [ "$MODE" = reuse ] && sweep_previous
  reset_repo
  run_setup
  apply_patches
  install_harness
  run_command
}
'''
