package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/observatorio-civico/observatorio/datasets"
	"github.com/observatorio-civico/observatorio/etl"
	"github.com/observatorio-civico/observatorio/warehouse"
)

// JobRunner is what the admin API needs of the ETL.
type JobRunner interface {
	Run(ctx context.Context, name string) (*etl.RunReport, error)
}

// adminRoutes mount the admin API under /api/admin. Every request there,
// to an existing route or not, needs the bearer token: without it (or when
// no token is configured) the answer is 401 and nothing tells which admin
// routes exist. The token is compared in constant time.
func (s *Server) adminRoutes(r gin.IRouter) {
	g := r.Group("/api/admin", s.requireAdmin)
	g.POST("/jobs/:job/run", s.adminRunJob)
	g.GET("/runs", s.adminRuns)
	g.GET("/quarantine", s.adminQuarantine)
	g.POST("/datasets/publish", s.adminPublish)
}

// adminNotFound answers an unknown path under /api/admin like a known one
// without the token (401), so the routes cannot be discovered; with the
// token, 404.
func (s *Server) adminNotFound(c *gin.Context) bool {
	if !strings.HasPrefix(c.Request.URL.Path, "/api/admin") {
		return false
	}
	s.requireAdmin(c)
	if !c.IsAborted() {
		c.String(http.StatusNotFound, "No encontrado.\n")
	}
	return true
}

func (s *Server) requireAdmin(c *gin.Context) {
	given, ok := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
	want := s.opts.AdminToken
	// Hashing first makes the comparison independent of the lengths.
	g, w := sha256.Sum256([]byte(given)), sha256.Sum256([]byte(want))
	if !ok || want == "" || subtle.ConstantTimeCompare(g[:], w[:]) != 1 {
		c.Header("WWW-Authenticate", `Bearer realm="observatorio"`)
		c.AbortWithStatusJSON(http.StatusUnauthorized, gin.H{"error": "se requiere el token de administración"})
		return
	}
	c.Next()
}

// audit records an admin action (best effort: a failure is logged).
func (s *Server) audit(c *gin.Context, action, target string, status int, detail string) {
	slog.Info("acción de administración", "accion", action, "objetivo", target, "estado", status, "cliente", c.ClientIP())
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request.Context()), 5*time.Second)
	defer cancel()
	if err := s.eng.Insert(ctx, "admin_audit", []string{"at", "action", "target", "status", "client", "detail"},
		[][]any{{time.Now().UTC().Truncate(time.Second), action, target, status, c.ClientIP(), detail}}); err != nil {
		slog.Error("no se pudo registrar la acción de administración", "error", err)
	}
}

// runningJobs keeps the admin API from starting a second run of a job
// while one it started is going (the runner refuses too, per process).
var runningJobs sync.Map

func (s *Server) adminRunJob(c *gin.Context) {
	job := c.Param("job")
	if s.opts.Jobs == nil {
		s.audit(c, "run_job", job, http.StatusServiceUnavailable, "sin ETL configurado")
		c.JSON(http.StatusServiceUnavailable, gin.H{"error": "este servidor no tiene trabajos ETL configurados"})
		return
	}
	if _, busy := runningJobs.LoadOrStore(job, true); busy {
		s.audit(c, "run_job", job, http.StatusConflict, "ya en curso")
		c.JSON(http.StatusConflict, gin.H{"error": "el trabajo ya se está ejecutando"})
		return
	}
	// The run goes on after the response; its outcome is in etl_runs.
	go func() {
		defer runningJobs.Delete(job)
		if _, err := s.opts.Jobs.Run(context.Background(), job); err != nil {
			slog.Error("ejecución pedida por administración fallida", "trabajo", job, "error", err)
		}
	}()
	s.audit(c, "run_job", job, http.StatusAccepted, "")
	c.JSON(http.StatusAccepted, gin.H{"trabajo": job, "estado": "en curso", "consulte": "/api/admin/runs"})
}

func limitParam(c *gin.Context, def, max int) (int, bool) {
	v := c.Query("limit")
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > max {
		c.JSON(http.StatusBadRequest, gin.H{"error": fmt.Sprintf("limit debe ser un entero entre 1 y %d", max)})
		return 0, false
	}
	return n, true
}

func (s *Server) adminRuns(c *gin.Context) {
	n, ok := limitParam(c, 50, 1000)
	if !ok {
		return
	}
	runs, err := etl.LastRuns(c.Request.Context(), s.eng, n)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.audit(c, "list_runs", "", http.StatusOK, "")
	c.JSON(http.StatusOK, gin.H{"ejecuciones": runs})
}

func (s *Server) adminQuarantine(c *gin.Context) {
	n, ok := limitParam(c, 100, 10000)
	if !ok {
		return
	}
	job := c.Query("trabajo")
	// LIMIT takes a literal on 18.16; n is a validated int, never text.
	res, err := s.eng.Query(c.Request.Context(), fmt.Sprintf(`SELECT job, source, source_file, source_line, field, raw, code, reason, run_id, quarantined_at
		FROM quarantine FINAL WHERE {todos:UInt8} = 1 OR job = {trabajo:String}
		ORDER BY quarantined_at DESC, source_file, source_line LIMIT %d`, n),
		warehouse.P("todos", boolInt(job == "")), warehouse.P("trabajo", job))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.audit(c, "list_quarantine", job, http.StatusOK, "")
	c.JSON(http.StatusOK, gin.H{"filas": res.Maps()})
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (s *Server) adminPublish(c *gin.Context) {
	rels, err := datasets.Publish(c.Request.Context(), s.eng, datasets.PublishOptions{})
	if err != nil {
		s.audit(c, "publish", "", http.StatusInternalServerError, err.Error())
		s.fail(c, err)
		return
	}
	s.audit(c, "publish", "", http.StatusOK, fmt.Sprintf("%d publicaciones", len(rels)))
	c.JSON(http.StatusOK, gin.H{"publicaciones": len(rels)})
}
