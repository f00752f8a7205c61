package helpdesk

import (
	"slices"
	"time"
)

// TimeLayout is the one text form of a time in this product: RFC 3339 in
// UTC with exactly three fractional digits. It is fixed width, so stored
// times sort as they read, and it is what the API and its events show.
const TimeLayout = "2006-01-02T15:04:05.000Z"

// Clock tells the time. Operations read it once each, so that every time an
// operation records is the same instant; tests replace it to control time.
type Clock func() time.Time

// Now returns the clock's time at the product's precision: UTC, truncated
// to the millisecond, so that what is stored equals what is shown. A nil
// Clock is the system clock.
func (c Clock) Now() time.Time {
	if c == nil {
		c = time.Now
	}
	return c().UTC().Truncate(time.Millisecond)
}

// Latest returns the latest of ts: the time of a change known to come
// after changes at the others, whatever the clocks that stamped them say.
func Latest(ts ...time.Time) time.Time {
	return slices.MaxFunc(ts, time.Time.Compare)
}
