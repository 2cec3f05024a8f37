package etl

import (
	"context"
	"errors"
	"time"

	"github.com/robfig/cron/v3"
)

// Schedule starts the jobs that have a cron expression, in Bogotá time,
// and stops them when ctx ends (waiting for runs in progress). A job whose
// previous run is still going when its time comes again is skipped, not
// queued: one run of a job at a time.
func (r *Runner) Schedule(ctx context.Context) (stop func(), err error) {
	c := cron.New(cron.WithParser(cronParser), cron.WithLocation(bogota))
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
