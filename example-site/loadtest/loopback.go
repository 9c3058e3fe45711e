package main

import (
	"net"
	"net/url"
	"strings"
)

// isLoopbackHost reports whether host (no port) is "localhost" or a loopback IP address.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"))
	return ip != nil && ip.IsLoopback()
}

// checkTargetURL parses an http(s) URL to load (or fetch), refusing a host that is not
// loopback unless allowRemote: this tool must only ever load the machine it runs on.
func checkTargetURL(raw string, allowRemote bool) (*url.URL, error) {
	if raw == "" {
		return nil, usagef("a URL is required")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, usagef("bad URL %q: %v", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, usagef("URL %q: scheme must be http or https", raw)
	}
	if u.Hostname() == "" {
		return nil, usagef("URL %q has no host", raw)
	}
	if !allowRemote && !isLoopbackHost(u.Hostname()) {
		return nil, usagef("refusing to load %q: not a loopback host (use -allow-remote to allow it)", raw)
	}
	return u, nil
}

// checkListenAddr refuses a listen address whose host is not loopback (":8080" listens on
// every interface, so it is refused too).
func checkListenAddr(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return usagef("bad listen address %q: %v", addr, err)
	}
	if !isLoopbackHost(host) {
		return usagef("refusing to listen on %q: servers bind loopback only (e.g. 127.0.0.1:0)", addr)
	}
	return nil
}
