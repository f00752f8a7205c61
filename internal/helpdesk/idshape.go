package helpdesk

import "strings"

// HasIDShape reports whether id is prefix followed by minLen to maxLen
// characters of lowercase base32 (a–z, 2–7), the shape NewID makes. It is
// a loop, not a regular expression, so that no pattern is compiled when a
// function starts: a counted repetition such as {1,64} compiles into a
// program with that many steps, which every cold start of every function
// paid for.
func HasIDShape(id, prefix string, minLen, maxLen int) bool {
	body, ok := strings.CutPrefix(id, prefix)
	if !ok || len(body) < minLen || len(body) > maxLen {
		return false
	}
	for i := range len(body) {
		if c := body[i]; (c < 'a' || c > 'z') && (c < '2' || c > '7') {
			return false
		}
	}
	return true
}

// validAssigneeBody reports whether s is non-empty and made of the
// characters an agent id may hold after "usr_": letters, digits, '.', '_'
// and '-'.
func validAssigneeBody(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '.' && c != '_' && c != '-' {
			return false
		}
	}
	return true
}
