package warehouse

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// BusyError says that a query was not run because the warehouse already
// has as many queries from the web as it is allowed (server.HeavyQueries),
// and it would not get a turn soon enough. It is temporary: whoever answers
// a client turns it into 503 Service Unavailable with Retry-After.
type BusyError struct {
	// RetryAfter is when the client should try again.
	RetryAfter time.Duration
}

func (e *BusyError) Error() string {
	n, unit := e.Seconds(), "segundos"
	if n == 1 {
		unit = "segundo"
	}
	return fmt.Sprintf("El observatorio está atendiendo muchas consultas pesadas al mismo tiempo. Intente de nuevo en %d %s.", n, unit)
}

// Seconds is RetryAfter in whole seconds, rounded up, at least 1: the
// value of a Retry-After header.
func (e *BusyError) Seconds() int {
	return max(1, int(math.Ceil(e.RetryAfter.Seconds())))
}

// AsBusy returns the BusyError in err's chain, if any.
func AsBusy(err error) (*BusyError, bool) {
	var be *BusyError
	ok := errors.As(err, &be)
	return be, ok
}
