package helpdesk_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/acme/helpdesk/internal/helpdesk"
)

func TestParseNumber(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"0", "0"}, {"-0", "0"}, {"0.000", "0"}, {"0e999999999999999999", "0"},
		{"1", "1"}, {"-1", "-1"}, {"1.50", "1.5"}, {"1.5e0", "1.5"}, {"15E-1", "1.5"},
		{"100", "100"}, {"1e2", "100"}, {"1E+2", "100"}, {"0.01", "0.01"}, {"1e-7", "0.0000001"},
		{"1e-8", "1e-8"}, {"12345678901234567890123", "12345678901234567890123"},
		{"1.2345678901234567890123e22", "12345678901234567890123"},
		{"12345678901234567890123456789012345678", "12345678901234567890123456789012345678"},
		{"1e38", "100000000000000000000000000000000000000"}, {"1e39", "1e+39"},
		{"-1.25e100", "-1.25e+100"}, {"1e-130", "1e-130"}, {"9.9999999999999999999999999999999999999e125", "9.9999999999999999999999999999999999999e+125"},
		{"123.456", "123.456"}, {"0.5", "0.5"}, {"3.14159e-5", "0.0000314159"},
		{"1.2345678901234568e+22", "12345678901234568000000"}, // a float64's spelling, as stored before
	} {
		got, err := helpdesk.ParseNumber(c.in)
		if err != nil || string(got) != c.want {
			t.Errorf("ParseNumber(%s) = %s, %v; want %s", c.in, got, err, c.want)
			continue
		}
		// Canonical: parsing the spelling again keeps it, and it is the
		// same number.
		if again, err := helpdesk.ParseNumber(string(got)); err != nil || again != got {
			t.Errorf("ParseNumber(%s) = %s, %v: not canonical", got, again, err)
		}
		a, _ := strconv.ParseFloat(c.in, 64)
		b, _ := strconv.ParseFloat(string(got), 64)
		if a != b {
			t.Errorf("ParseNumber(%s) = %s, another number", c.in, got)
		}
	}
	for _, in := range []string{
		"", "-", "+1", "01", ".5", "1.", "1e", "1e+", "0x10", "1_000", "NaN", "Infinity", " 1", "1 ", "--1",
		"1234567890123456789012345678901234567890", // 40 significant digits
		"1.000000000000000000000000000000000000001",
		"1e200", "1e126", "-1e126", "1e-131", "9e-131", "1e9999999999999999999999",
	} {
		if got, err := helpdesk.ParseNumber(in); err == nil || helpdesk.ErrorCode(err) != helpdesk.CodeValidation || helpdesk.ErrorMessage(err) == "" {
			t.Errorf("ParseNumber(%q) = %s, %v; want a validation error", in, got, err)
		}
	}
	if _, err := helpdesk.ParseNumber(strings.Repeat("1", 39)); !strings.Contains(helpdesk.ErrorMessage(err), "38 significant digits") {
		t.Errorf("39 digits: %v", err)
	}
}
