package helpdesk

import (
	"strconv"
	"strings"
)

// Number is the value of a number custom field: a decimal kept exactly
// (a float64 holds about 17 significant digits, and 12345678901234567890123
// came back as 1.2345678901234568e+22), spelled canonically by
// ParseNumber so that equal numbers are equal strings.
type Number string

// The bounds of a Number: what DynamoDB's number type holds, so that
// every accepted value is stored exactly.
const (
	// MaxNumberDigits bounds the significant digits.
	MaxNumberDigits = 38
	// MinNumberExponent is the smallest power of ten of a non-zero
	// magnitude: 1e-130.
	MinNumberExponent = -130
	// MaxNumberExponent is the largest power of ten of a magnitude's
	// leading digit: magnitudes stay below 1e126.
	MaxNumberExponent = 125
)

// plainExponents are the powers of ten of the leading digit that a
// canonical Number spells without an exponent (0.0000001 to 38 digits
// before the point); others are written like 1.5e+100.
const minPlainExponent, maxPlainExponent = -7, 38

// ParseNumber returns the canonical spelling of s, a number in JSON's
// syntax: no sign for zero, no leading or trailing zeros, an exponent
// only outside plainExponents. It returns a CodeValidation error, whose
// message fits a field's problem, when s is no JSON number or DynamoDB
// cannot hold it exactly (MaxNumberDigits, MinNumberExponent,
// MaxNumberExponent).
func ParseNumber(s string) (Number, error) {
	neg, digits, exp, ok := splitNumber(s)
	if !ok {
		return "", Errorf(CodeValidation, "must be a number")
	}
	digits = strings.TrimLeft(digits, "0")
	if digits == "" {
		return "0", nil
	}
	trimmed := strings.TrimRight(digits, "0")
	exp += int64(len(digits) - len(trimmed))
	digits = trimmed
	if len(digits) > MaxNumberDigits {
		return "", Errorf(CodeValidation, "must have at most %d significant digits (it has %d)", MaxNumberDigits, len(digits))
	}
	lead := exp + int64(len(digits)) - 1 // the power of ten of the leading digit
	if lead < MinNumberExponent || lead > MaxNumberExponent {
		return "", Errorf(CodeValidation, "must be 0 or between 1e%d and 1e%d in magnitude", MinNumberExponent, MaxNumberExponent+1)
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	switch {
	case lead < minPlainExponent || lead > maxPlainExponent:
		b.WriteString(digits[:1])
		if len(digits) > 1 {
			b.WriteString("." + digits[1:])
		}
		b.WriteString("e")
		if lead >= 0 {
			b.WriteString("+")
		}
		b.WriteString(strconv.FormatInt(lead, 10))
	case exp >= 0:
		b.WriteString(digits + strings.Repeat("0", int(exp)))
	case lead >= 0:
		point := int(lead) + 1
		b.WriteString(digits[:point] + "." + digits[point:])
	default:
		b.WriteString("0." + strings.Repeat("0", int(-lead-1)) + digits)
	}
	return Number(b.String()), nil
}

// splitNumber splits a JSON number into its sign, its digits and the
// power of ten they are multiplied by: -1.50e3 is true, "150", 1. An
// exponent beyond any Number's is clamped, which keeps it out of range.
func splitNumber(s string) (neg bool, digits string, exp int64, ok bool) {
	neg = strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	mantissa, exponent, hasExp := strings.Cut(strings.ToLower(s), "e")
	whole, frac, hasPoint := strings.Cut(mantissa, ".")
	if !allDigits(whole) || len(whole) > 1 && whole[0] == '0' || hasPoint && !allDigits(frac) {
		return false, "", 0, false
	}
	if hasExp {
		sign := int64(1)
		switch {
		case strings.HasPrefix(exponent, "-"):
			sign, exponent = -1, exponent[1:]
		case strings.HasPrefix(exponent, "+"):
			exponent = exponent[1:]
		}
		if !allDigits(exponent) {
			return false, "", 0, false
		}
		e, err := strconv.ParseInt(exponent, 10, 64)
		if err != nil || e > 1<<20 {
			e = 1 << 20
		}
		exp = sign * e
	}
	return neg, whole + frac, exp - int64(len(frac)), true
}

// allDigits reports whether s is one or more ASCII digits.
func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
