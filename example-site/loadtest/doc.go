// Command loadtest measures a site under load, built on the vegeta load-testing library, and
// runs the servers a measurement needs. Every server binds loopback only, and targets must be
// loopback URLs unless -allow-remote is given: the tool is for measuring on one machine.
//
//	loadtest run -url http://127.0.0.1:8080/ -concurrency 16 -duration 10s
//	loadtest run -url http://127.0.0.1:8080/ -rate 500 -duration 10s -header 'Cookie: bid_k=…'
//	loadtest compare -a http://127.0.0.1:8080/ -b http://127.0.0.1:8081/ -name-a page -name-b bare \
//	    -concurrency 16 -duration 20s -rounds 10 [-json]
//	loadtest cpu -target site:4242:http://127.0.0.1:8080/ -target bare:4243:http://127.0.0.1:8081/ \
//	    -ref site -api-stats http://127.0.0.1:9001/ -concurrency 16 -duration 6s -check 'site/bare<=0.65'
//	loadtest sandbox -addr 127.0.0.1:9000 [-latency 50ms] [-flows flows.json]
//	loadtest api -addr 127.0.0.1:9000 -stats-url-file stats.url [-tls -cert-file api.pem [-http1]] [-events-latency 50ms]
//	loadtest bare -addr 127.0.0.1:8081 -api http://127.0.0.1:9000
//	loadtest limit -addr 127.0.0.1:8082 -page-from http://127.0.0.1:8081/ [-api http://127.0.0.1:9000 [-view]]
//	loadtest wait -url http://127.0.0.1:8080/healthz -status 200
//	loadtest freeport
//
// run drives one URL at a fixed rate (-rate N requests/s) or with a fixed number of
// requests in flight (-concurrency C, as fast as they answer) for -duration, and prints
// requests/s, latency p50/p90/p99/max, status codes and errors.
//
// compare drives two URLs in one run, interleaved: -rounds short slices per target, in the
// order A B, B A, A B, ... so both see the same machine noise, each slice starting when the
// previous one has finished. It aggregates each target's slices and prints both and their
// ratios (A/B: requests/s, latencies). With -json it prints the same as JSON for scripts.
// -min-rps-ratio, -max-p99-ratio and -max-p50-a check the result (exit status 3 when a check
// fails).
//
// -metrics-url U (run and compare) fetches U before, in the middle of and after the load and
// prints what it answered: a hook for a site's own debug endpoint (memory, goroutines).
//
// cpu drives several servers, each a process of its own (-target NAME:PID:URL), in rounds of
// one slice each, the order rotating every round, and prints a Markdown table of the CPU each
// spent per page, read from its /proc/<pid>/stat (utime + stime, in clock ticks) before and
// after every slice: over the whole run, so that work a server does in the background (events)
// is its own. It compares each with -ref, and, with -api-stats (the api command's stats), prints
// the new API connections each opened per page and the events the API received per page of
// -events-of. -check A/B<=X, A:conns<X and A:events>=X check the result (exit status 3); a CPU
// ratio is not checked when over 1% of either server's answers hold the -count-body string.
//
// sandbox serves a standalone personalize/sandbox with the three home page flows (or the
// flows of a -flows file) and -latency added to every call. api serves the answers such a
// sandbox gives a returning visitor, recorded once and canned (internal/cannedapi: no CPU
// spent per call on rules or checks), accepts and counts every event, counts its
// connections and TLS handshakes and answers them as JSON on -stats-addr. bare serves the
// bare reference page (internal/bareref) against an API. limit serves the bytes of another
// server's page, fetched once, and with -api first makes the home page's three flow calls
// with tuned net/http, and with -view also sends the page's VIEW event (the four requests
// the example site makes per page): the floors a page is measured against. The servers stop gracefully
// on SIGINT and SIGTERM; with -url-file they write their URL to a file once they listen (use
// -addr 127.0.0.1:0 for a free port). wait polls a URL until it answers; freeport prints a free loopback port.
package main
