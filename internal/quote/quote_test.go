package quote

import (
	"strconv"
	"testing"
	"unicode/utf8"
)

// String agrees with strconv.Quote on ASCII and on printable UTF-8, and
// always gives a literal strconv.Unquote reads back to the same bytes.
func FuzzString(f *testing.F) {
	for _, s := range []string{"", "shop", `a"b\c`, "tab\there\n", "\x00\x7f\xff", "Île-de-France", "日本", "\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := String(s)
		back, err := strconv.Unquote(got)
		if err != nil || back != s {
			t.Fatalf("String(%q) = %s, which unquotes to %q, %v", s, got, back, err)
		}
		printable := utf8.ValidString(s)
		for _, r := range s {
			printable = printable && (r < utf8.RuneSelf || strconv.IsPrint(r))
		}
		if printable {
			if want := strconv.Quote(s); got != want {
				t.Fatalf("String(%q) = %s, strconv.Quote gives %s", s, got, want)
			}
		}
	})
}
