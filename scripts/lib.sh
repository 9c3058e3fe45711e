# lib.sh: what the load scripts (perf.sh, perf-ab.sh, attack.sh) share. Sourced, not run:
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# It makes $tmp, a directory removed on exit, and stops on exit every process whose PID the
# script appends to pids (and runs each function named in cleanup_hooks first). It gives log,
# wait_file and pin_servers.

tmp=$(mktemp -d)
pids=()
cleanup_hooks=()

cleanup() {
	local pid hook
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${pids[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	for hook in "${cleanup_hooks[@]}"; do
		"$hook"
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# log MESSAGE...: a line on stderr.
log() { printf '== %s\n' "$*" >&2; }

# wait_file FILE: wait until a server wrote its URL to FILE.
wait_file() {
	local i
	for ((i = 0; i < 300; i++)); do
		[[ -s $1 ]] && return 0
		sleep 0.05
	done
	log "no URL in $1 after 15s"
	return 1
}

# pin_servers: sets server_pin (the servers under test on CPU $SERVER_CPU) and tool_pin
# (everything else on the other CPUs), commands to put before a program, as $PIN says: 1 pins,
# 0 does not, auto pins when taskset exists and there are at least 2 CPUs.
pin_servers() {
	local ncpu others
	server_pin=()
	tool_pin=()
	ncpu=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
	if [[ $PIN == auto ]]; then
		if command -v taskset >/dev/null && ((ncpu >= 2)); then PIN=1; else PIN=0; fi
	fi
	if ((PIN)); then
		others=$(seq 0 $((ncpu - 1)) | grep -vx "$SERVER_CPU" | paste -sd, -)
		server_pin=(taskset -c "$SERVER_CPU")
		tool_pin=(taskset -c "$others")
		log "servers under test pinned to CPU $SERVER_CPU; the load tool and the API to CPUs $others"
	else
		log "not pinned (PIN=0, or no taskset, or one CPU): the servers share every CPU with the load tool"
	fi
}
