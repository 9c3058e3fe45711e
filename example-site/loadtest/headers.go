package main

import (
	"fmt"
	"net/http"
	"net/textproto"
	"strings"
)

// headerList is a repeatable -header 'Key: Value' flag.
type headerList []string

func (h *headerList) String() string { return strings.Join(*h, ", ") }

func (h *headerList) Set(v string) error {
	if _, _, err := parseHeader(v); err != nil {
		return err
	}
	*h = append(*h, v)
	return nil
}

// parseHeader splits "Key: Value" into a canonical key and a trimmed value.
func parseHeader(s string) (key, value string, err error) {
	k, v, ok := strings.Cut(s, ":")
	k = strings.TrimSpace(k)
	if !ok || k == "" {
		return "", "", fmt.Errorf("loadtest: header %q is not 'Key: Value'", s)
	}
	for i := 0; i < len(k); i++ {
		if !isTokenChar(k[i]) {
			return "", "", fmt.Errorf("loadtest: header name %q has an invalid character", k)
		}
	}
	v = strings.TrimSpace(v)
	if strings.ContainsAny(v, "\r\n\x00") {
		return "", "", fmt.Errorf("loadtest: header %q: value has a control character", k)
	}
	return textproto.CanonicalMIMEHeaderKey(k), v, nil
}

// isTokenChar reports whether c may appear in an HTTP header name (RFC 9110 token).
func isTokenChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// buildHeader turns -header values (already checked by parseHeader) into a header.
func buildHeader(list headerList) http.Header {
	h := http.Header{}
	for _, s := range list {
		if k, v, err := parseHeader(s); err == nil {
			h.Add(k, v)
		}
	}
	return h
}
