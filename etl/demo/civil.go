package demo

import (
	"time"

	"github.com/observatorio-civico/observatorio/ingest"
	"github.com/observatorio-civico/observatorio/liquidation"
)

// day is a civil date as days since 1970-01-01 (no time zone: the dates of
// the data set are Colombian calendar dates).
type day int32

// mkday returns the day of y-m-d (normalized like time.Date).
func mkday(y int, m time.Month, d int) day {
	return day(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// ymd returns the civil date (Howard Hinnant's days_from_civil inverse).
func (d day) ymd() (y, m, dd int) {
	z := int64(d) + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era = (z - 146096) / 146097
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	yy := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	dd = int(doy - (153*mp+2)/5 + 1)
	if mp < 10 {
		m = int(mp + 3)
	} else {
		m = int(mp - 9)
	}
	if m <= 2 {
		yy++
	}
	return int(yy), m, dd
}

func (d day) year() int { y, _, _ := d.ymd(); return y }

// quarter returns 1..4.
func (d day) quarter() int { _, m, _ := d.ymd(); return (m-1)/3 + 1 }

// weekday returns 0 (Sunday) .. 6 (Saturday).
func (d day) weekday() int { return int((int64(d)%7 + 7 + 4) % 7) }

// workday moves d back to the previous Monday-Friday day if it falls on a
// weekend.
func (d day) workday() day {
	for d.weekday() == 0 || d.weekday() == 6 {
		d--
	}
	return d
}

func (d day) liq() liquidation.Date {
	y, m, dd := d.ymd()
	return liquidation.NewDate(y, time.Month(m), dd)
}

func (d day) ing() ingest.Date {
	y, m, dd := d.ymd()
	return ingest.NewDate(y, time.Month(m), dd)
}

func fromLiq(d liquidation.Date) day {
	return day(d.Time().Unix() / 86400)
}

// randDay returns a uniform day in [lo, hi], preferring working days when
// weekdays is set (a weekend draw is moved to the previous Friday, but never
// before lo).
func randDay(r *rnd, lo, hi day, weekdays bool) day {
	if hi < lo {
		hi = lo
	}
	d := lo + day(r.intn(int(hi-lo)+1))
	if weekdays {
		if w := d.workday(); w >= lo {
			d = w
		}
	}
	return d
}

// stamp is a local (Bogotá) date and time of day, in seconds.
type stamp struct {
	d   day
	sec int
}
