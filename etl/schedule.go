package etl

import (
	"context"
	"errors"
	"time"

	"github.com/robfig/cron/v3"
)

// NewCron is the scheduler of every periodic task of the observatory (ETL
// jobs, backups, retention): standard five-field expressions and
// descriptors (@daily), read in Bogotá time.
func NewCron() *cron.Cron {
	return cron.New(cron.WithParser(cronParser), cron.WithLocation(bogota))
}

// ValidSchedule checks a cron expression as NewCron reads it.
func ValidSchedule(expr string) error {
	_, err := cronParser.Parse(expr)
	return err
}

// NextRun is the next time expr fires after t, in Bogotá time.
func NextRun(expr string, t time.Time) (time.Time, error) {
	s, err := cronParser.Parse(expr)
	if err != nil {
		return time.Time{}, err
	}
	return s.Next(t.In(bogota)), nil
}

// Schedule starts the jobs that have a cron expression, in Bogotá time,
// and stops them when ctx ends (waiting for runs in progress). A job whose
// previous run is still going when its time comes again is skipped, not
// queued: one run of a job at a time.
func (r *Runner) Schedule(ctx context.Context) (stop func(), err error) {
	c := NewCron()
	for i := range r.Config.Jobs {
		job := r.Config.Jobs[i]
		if job.Schedule == "" {
			continue
		}
		if _, err := c.AddFunc(job.Schedule, func() {
			_, err := r.Run(ctx, job.Name)
			if errors.Is(err, ErrAlreadyRunning) {
				r.log().Warn("ejecución programada omitida: la anterior sigue en curso", "trabajo", job.Name)
			}
		}); err != nil {
			return nil, err
		}
		r.log().Info("trabajo programado", "trabajo", job.Name, "cron", job.Schedule)
	}
	c.Start()
	return func() {
		wait := c.Stop()
		select {
		case <-wait.Done():
		case <-time.After(time.Minute):
			r.log().Warn("hay ejecuciones que no terminaron al detener el programador")
		}
	}, nil
}

// Next returns the next time each scheduled job runs after t.
func (c *Config) Next(t time.Time) map[string]time.Time {
	out := map[string]time.Time{}
	for _, j := range c.Jobs {
		if j.Schedule == "" {
			continue
		}
		if s, err := cronParser.Parse(j.Schedule); err == nil {
			out[j.Name] = s.Next(t.In(bogota))
		}
	}
	return out
}
