// Package operations keeps the warehouse in shape over time: scheduled
// backups (warehouse.Backup, rotated) and the retention policy that bounds
// the tables that would otherwise grow forever (quarantined rows, the ETL
// run log, the admin audit log). `observatory serve` runs both on their
// schedules; `observatory backup` and `observatory retention run` run them
// on demand.
package operations

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/observatorio-civico/observatorio/etl"
)

// Age is how long rows are kept. In YAML: a number of days ("400d"), a Go
// duration ("720h"), or 0 to keep rows forever.
type Age time.Duration

// ParseAge reads "400d", "720h" or "0".
func ParseAge(s string) (Age, error) {
	s = strings.TrimSpace(s)
	if s == "0" {
		return 0, nil
	}
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("duración %q inválida: use días (400d), horas (720h) o 0 para conservar siempre", s)
		}
		return Age(time.Duration(n) * 24 * time.Hour), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("duración %q inválida: use días (400d), horas (720h) o 0 para conservar siempre", s)
	}
	return Age(d), nil
}

// UnmarshalYAML reads an Age.
func (a *Age) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseAge(n.Value)
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// MarshalYAML writes an Age as ParseAge reads it.
func (a Age) MarshalYAML() (any, error) { return a.String(), nil }

// String is "400d" for whole days, else a Go duration; "0" is forever.
func (a Age) String() string {
	d := time.Duration(a)
	switch {
	case d == 0:
		return "0"
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}

// Spanish is how reports say it: "400 días", "para siempre".
func (a Age) Spanish() string {
	d := time.Duration(a)
	switch {
	case d == 0:
		return "para siempre"
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%d días", d/(24*time.Hour))
	}
	return d.String()
}

// RetentionConfig is the retention policy (YAML section `retention`).
//
// The defaults, and why:
//   - quarantine 400 days: rejected rows explain why a source row is not
//     published; municipal sources come by vigencia (a tax year) and are
//     reloaded through it, so a year of rejects plus a month lets an
//     operator compare this year's load with last year's. Their raw values
//     come from municipal files (personal fields already masked): data
//     minimization (Ley 1581 de 2012) says keep them no longer than needed.
//   - ETL run log 2 years: two fiscal years of load history for anyone
//     checking the published ejecuciones-etl dataset. Runs whose rows are
//     still loaded, and the last committed run of every job, are kept
//     whatever their age: the published data depend on them.
//   - admin audit 5 years: a municipal government's four-year term plus a
//     year, so every admin action of one administration can be reviewed
//     by the next and by the control bodies.
type RetentionConfig struct {
	// Schedule is when serve applies the policy (cron, Bogotá time); empty
	// applies it only on demand (`observatory retention run`).
	Schedule   string `yaml:"schedule"`
	Quarantine Age    `yaml:"quarantine"`
	RunLog     Age    `yaml:"etl_runs"`
	AdminAudit Age    `yaml:"admin_audit"`
	// MutationTimeout bounds the wait for a deletion to finish (ClickHouse
	// applies ALTER ... DELETE in the background); default 10 minutes.
	MutationTimeout time.Duration `yaml:"mutation_timeout"`
}

// DefaultRetention is the policy used when the YAML says nothing.
func DefaultRetention() RetentionConfig {
	day := Age(24 * time.Hour)
	return RetentionConfig{Schedule: "30 4 * * *", Quarantine: 400 * day, RunLog: 730 * day, AdminAudit: 1825 * day}
}

// Validate checks the schedule.
func (c RetentionConfig) Validate() error {
	if c.Schedule != "" {
		if err := etl.ValidSchedule(c.Schedule); err != nil {
			return fmt.Errorf("retention.schedule %q: %v", c.Schedule, err)
		}
	}
	return nil
}

// BackupConfig configures scheduled backups (YAML section `backup`).
type BackupConfig struct {
	// Dir holds the scheduled copies, one folder each, named by their UTC
	// time (observatorio-20261121T083000Z).
	Dir string `yaml:"dir"`
	// Schedule is when serve makes a copy (cron, Bogotá time); empty makes
	// none. With the embedded engine a running serve holds the data
	// directory, so its schedule is the way to copy a live instance.
	Schedule string `yaml:"schedule"`
	// Keep is how many scheduled copies to keep (older ones are deleted
	// after a new one is complete); default 7.
	Keep int `yaml:"keep"`
	// Compression is zstd (default) or none.
	Compression string `yaml:"compression"`
}

// DefaultBackup is used when the YAML says nothing: no schedule.
func DefaultBackup() BackupConfig {
	return BackupConfig{Dir: "var/copias", Keep: 7, Compression: "zstd"}
}

// Validate checks the schedule and the rest.
func (c BackupConfig) Validate() error {
	if c.Schedule != "" {
		if err := etl.ValidSchedule(c.Schedule); err != nil {
			return fmt.Errorf("backup.schedule %q: %v", c.Schedule, err)
		}
		if c.Dir == "" {
			return fmt.Errorf("backup.schedule necesita backup.dir (carpeta de las copias)")
		}
	}
	if c.Keep < 0 {
		return fmt.Errorf("backup.keep debe ser 0 (todas) o más")
	}
	switch c.Compression {
	case "", "zstd", "none":
	default:
		return fmt.Errorf("backup.compression %q: use zstd o none", c.Compression)
	}
	return nil
}
