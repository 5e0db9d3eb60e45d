// Package quote quotes text for error messages on the device.
//
// It is strconv.Quote for what error messages hold (ids, keys, short
// values), without the Unicode printability tables strconv.Quote links:
// in edgewise.wasm those cost every visitor several KB for messages that
// are almost always ASCII.
package quote

import "unicode/utf8"

const hex = "0123456789abcdef"

// String returns s in double quotes as a Go string literal: quotes,
// backslashes and ASCII control characters are escaped, as are bytes that
// are not UTF-8. Valid non-ASCII text is kept as it is, where strconv.Quote
// would also escape the few code points Unicode deems unprintable.
func String(s string) string {
	b := make([]byte, 0, len(s)+2)
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				b = append(b, '\\', 'x', hex[c>>4], hex[c&15])
			} else {
				b = append(b, s[i:i+n]...)
			}
			i += n
			continue
		}
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\a', '\b', '\f', '\n', '\r', '\t', '\v':
			b = append(b, '\\', "abtnvfr"[c-'\a'])
		default:
			if c < 0x20 || c == 0x7f {
				b = append(b, '\\', 'x', hex[c>>4], hex[c&15])
			} else {
				b = append(b, c)
			}
		}
		i++
	}
	return string(append(b, '"'))
}
