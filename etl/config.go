package etl

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/observatorio-civico/observatorio/ingest"
)

// Config is the etl section of the configuration file:
//
//	etl:
//	  batch_size: 50000
//	  jobs:
//	    - name: bucaramanga-liquidaciones
//	      schedule: "0 3 * * *"
//	      timeout: 30m
//	      retries: 2
//	      sources: [ <ingest.SourceConfig> ... ]
type Config struct {
	// BatchSize is the number of rows per warehouse insert (default
	// DefaultBatchSize).
	BatchSize int         `yaml:"batch_size"`
	Jobs      []JobConfig `yaml:"jobs"`
}

// DefaultGCPercent is the Go collector's target (GOGC) of the observatory's
// process unless the environment sets one; its benchmark runs with it too.
// The Go heap shares the process's memory with the embedded engine, and
// during a load most of it is garbage between two collections: at 19.8M
// rows the heap in use reached 113 MB with Go's default (GOGC 100) and 78
// MB at 50, for a live set of about 45 MB (the duplicate check's keys, the
// rows in flight), and the load's high-water mark fell from 529 to 496 MB
// (etl/BENCHMARKS.md, "Session 8"). It costs CPU: the 1M-row benchmark
// ran at 6.81-7.01 µs per row against 6.41-6.45 with GOGC 100 (etl/BENCHMARKS.md,
// "Session 15").
const DefaultGCPercent = 50

// DefaultBatchSize is the rows per insert when the configuration says
// none. Each insert is a part the engine merges later, so larger inserts
// cost the engine somewhat less CPU (2.6 against 2.9-3.2 µs per
// liquidation row with 200,000 rather than 50,000), but the embedded
// engine holds an insert's rows while it sorts them into a part: loading
// 1.1M liquidations, the process peaked at 949 MB with inserts of 200,000
// and at 591 MB with 50,000 (same allocator settings, etl/BENCHMARKS.md).
// With a ClickHouse server the rows of an insert wait in the observatory's
// memory, about 300 bytes each, for at most three inserts at a time.
const DefaultBatchSize = 50_000

func (c Config) batchSize() int {
	if c.BatchSize > 0 {
		return c.BatchSize
	}
	return DefaultBatchSize
}

// JobConfig is one job: its sources, loaded together as one run.
type JobConfig struct {
	Name string `yaml:"name"`
	// Schedule is a cron expression (5 fields, or @daily, @every 1h...);
	// empty: run only on demand.
	Schedule string `yaml:"schedule"`
	// Timeout bounds one attempt (default 1h).
	Timeout ingest.Duration `yaml:"timeout"`
	// Retries after a failed attempt with a transient error (default 2),
	// with exponential backoff from RetryBackoff (default 10s).
	Retries      *int                  `yaml:"retries"`
	RetryBackoff ingest.Duration       `yaml:"retry_backoff"`
	Sources      []ingest.SourceConfig `yaml:"sources"`
}

// cronParser accepts standard 5-field expressions and descriptors.
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Validate checks the whole section and returns every problem at once.
func (c *Config) Validate() error {
	var errs []string
	seen := map[string]bool{}
	for i, j := range c.Jobs {
		where := fmt.Sprintf("etl.jobs[%d]", i)
		if j.Name == "" {
			errs = append(errs, where+": falta name")
		} else if seen[j.Name] {
			errs = append(errs, fmt.Sprintf("%s: el trabajo %q está repetido", where, j.Name))
		}
		seen[j.Name] = true
		if j.Schedule != "" {
			if _, err := cronParser.Parse(j.Schedule); err != nil {
				errs = append(errs, fmt.Sprintf("%s (%s): schedule %q inválido: %v", where, j.Name, j.Schedule, err))
			}
		}
		if len(j.Sources) == 0 {
			errs = append(errs, fmt.Sprintf("%s (%s): no tiene sources", where, j.Name))
		}
		names := map[string]bool{}
		for k := range j.Sources {
			s := &j.Sources[k]
			if names[s.Name] {
				errs = append(errs, fmt.Sprintf("%s (%s): la fuente %q está repetida", where, j.Name, s.Name))
			}
			names[s.Name] = true
			if err := s.Validate(); err != nil {
				errs = append(errs, fmt.Sprintf("%s (%s).sources[%d]: %v", where, j.Name, k, err))
			}
		}
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}

// ResolvePaths makes relative file paths of sources relative to base (the
// folder of the configuration file), so a configuration works from any
// working directory.
func (c *Config) ResolvePaths(base string) {
	for i := range c.Jobs {
		for k := range c.Jobs[i].Sources {
			f := c.Jobs[i].Sources[k].File
			if f == nil {
				continue
			}
			if f.Path != "" && !filepath.IsAbs(f.Path) {
				f.Path = filepath.Join(base, f.Path)
			}
			if f.Dir != "" && !filepath.IsAbs(f.Dir) {
				f.Dir = filepath.Join(base, f.Dir)
			}
		}
	}
}

// Job returns the named job.
func (c *Config) Job(name string) (*JobConfig, error) {
	for i := range c.Jobs {
		if c.Jobs[i].Name == name {
			return &c.Jobs[i], nil
		}
	}
	return nil, fmt.Errorf("no hay un trabajo llamado %q", name)
}

func (j *JobConfig) timeout() time.Duration {
	if j.Timeout <= 0 {
		return time.Hour
	}
	return time.Duration(j.Timeout)
}

func (j *JobConfig) retries() int {
	switch {
	case j.Retries == nil:
		return 2
	case *j.Retries < 0:
		return 0
	}
	return *j.Retries
}

func (j *JobConfig) backoff() time.Duration {
	if j.RetryBackoff <= 0 {
		return 10 * time.Second
	}
	return time.Duration(j.RetryBackoff)
}
