package browserid

import (
	"strings"
	"testing"
)

const valid = "a38b230c-11eb-4cf9-8d5d-274e9f344925"

func TestValid(t *testing.T) {
	for _, s := range []string{valid, strings.ToUpper(valid), "00000000-0000-0000-0000-000000000000", "ABCDEF01-abcd-EF01-2345-6789abcdefAB"} {
		if !Valid(s) {
			t.Errorf("Valid(%q) = false, want true", s)
		}
	}
}

func TestInvalid(t *testing.T) {
	invalid := []string{
		"", "-", valid[:35], valid + "0", " " + valid, valid[:35] + " ",
		strings.ReplaceAll(valid, "-", ""),               // 32 hex digits, no dashes
		"a38b230c-11eb-4cf9-8d5d-274e9f34492g",           // not hex
		"a38b230c-11eb-4cf9-8d5d-274e9f34492\u00e9"[:36], // a byte beyond ASCII
		"{a38b230c-11eb-4cf9-8d5d-274e9f3449}",
		"a38b230c-11eb-4cf9-8d5d-274e9f34-925", // a dash where a hex digit belongs
		"a38b230-c11eb-4cf9-8d5d-274e9f344925",
	}
	// A wrong byte where each dash belongs: a hex digit, another separator, or a NUL.
	for _, i := range []int{8, 13, 18, 23} {
		for _, b := range []byte{'0', 'a', 'F', '_', '.', ' ', 0} {
			invalid = append(invalid, valid[:i]+string(b)+valid[i+1:])
		}
	}
	// A dash, or a byte that is not hex, where each hex digit belongs.
	for i := range len(valid) {
		if valid[i] == '-' {
			continue
		}
		for _, b := range []byte{'-', 'g', 'G', 'x', '/', ':', '@', '`', 0, 0xff} {
			invalid = append(invalid, valid[:i]+string(b)+valid[i+1:])
		}
	}
	for _, s := range invalid {
		if Valid(s) {
			t.Errorf("Valid(%q) = true, want false", s)
		}
	}
}

func FuzzValid(f *testing.F) {
	f.Add(valid)
	f.Add(strings.ToUpper(valid))
	f.Add(strings.Replace(valid, "-", "0", 1))
	f.Fuzz(func(t *testing.T, s string) {
		if !Valid(s) {
			return
		}
		if len(s) != 36 {
			t.Fatalf("Valid(%q) with length %d", s, len(s))
		}
		for i := range len(s) {
			c := s[i]
			dash := i == 8 || i == 13 || i == 18 || i == 23
			hex := '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
			if dash && c != '-' || !dash && !hex {
				t.Fatalf("Valid(%q): byte %d is %q", s, i, c)
			}
		}
	})
}

func TestValidGuestRef(t *testing.T) {
	for _, s := range []string{valid, "guest_1", strings.Repeat("a", 64)} {
		if !ValidGuestRef(s) {
			t.Errorf("ValidGuestRef(%q) = false, want true", s)
		}
	}
	for _, s := range []string{"", strings.Repeat("a", 65), "a b", "a;b", `a"b`, "é", "a\x00"} {
		if ValidGuestRef(s) {
			t.Errorf("ValidGuestRef(%q) = true, want false", s)
		}
	}
}
