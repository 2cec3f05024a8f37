package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/observatorio-civico/observatorio/etl"
	"github.com/observatorio-civico/observatorio/warehouse/whtest"
)

type fakeRuns struct{ n atomic.Int32 }

// Run stands in for the ETL runner: the admin API's job is to authorize
// and hand over, which is what this test checks (the runner has its own).
func (f *fakeRuns) Run(ctx context.Context, name string) (*etl.RunReport, error) {
	f.n.Add(1)
	return &etl.RunReport{Job: name, Status: etl.StatusCommitted}, nil
}

func TestAdminAPI(t *testing.T) {
	e := whtest.Embedded(t)
	runs := &fakeRuns{}
	srv := httptest.NewServer(New(e, Options{AdminToken: "s3creto-de-prueba", Jobs: runs}).Handler())
	defer srv.Close()
	call := func(method, path, token string) (int, string) {
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		json.NewDecoder(resp.Body).Decode(&map[string]any{})
		return resp.StatusCode, b.String()
	}
	routes := [][2]string{{"POST", "/api/admin/jobs/pagos/run"}, {"GET", "/api/admin/runs"}, {"GET", "/api/admin/quarantine"},
		{"POST", "/api/admin/datasets/publish"}, {"GET", "/api/admin/no-existe"}, {"DELETE", "/api/admin/runs"}}
	for _, r := range routes {
		for _, tok := range []string{"", "otro", "s3creto-de-prueb", "s3creto-de-prueba2", "S3CRETO-DE-PRUEBA"} {
			if code, _ := call(r[0], r[1], tok); code != http.StatusUnauthorized {
				t.Errorf("%s %s with token %q: %d, want 401", r[0], r[1], tok, code)
			}
		}
	}
	if runs.n.Load() != 0 {
		t.Fatal("a job ran without the token")
	}
	ok := "s3creto-de-prueba"
	if code, _ := call("GET", "/api/admin/runs", ok); code != 200 {
		t.Errorf("runs: %d", code)
	}
	if code, _ := call("GET", "/api/admin/quarantine?limit=10&trabajo=pagos", ok); code != 200 {
		t.Errorf("quarantine: %d", code)
	}
	if code, _ := call("GET", "/api/admin/quarantine?limit=abc", ok); code != 400 {
		t.Errorf("bad limit: %d, want 400", code)
	}
	if code, _ := call("POST", "/api/admin/jobs/pagos/run", ok); code != http.StatusAccepted {
		t.Errorf("run: %d", code)
	}
	if code, _ := call("GET", "/api/admin/no-existe", ok); code != 404 {
		t.Errorf("unknown admin path with the token: %d, want 404", code)
	}
	deadline := time.Now().Add(5 * time.Second)
	for runs.n.Load() != 1 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if runs.n.Load() != 1 {
		t.Fatalf("job ran %d times", runs.n.Load())
	}
	res, err := e.Query(context.Background(), "SELECT action, target, status FROM admin_audit ORDER BY at, action")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, r := range res.Rows {
		got[r[0].(string)+":"+r[1].(string)] = true
	}
	for _, want := range []string{"list_runs:", "list_quarantine:pagos", "run_job:pagos"} {
		if !got[want] {
			t.Errorf("audit log lacks %s: %v", want, res.Rows)
		}
	}
	// With no token configured the admin API is closed, not open.
	closed := httptest.NewServer(New(e, Options{}).Handler())
	defer closed.Close()
	req, _ := http.NewRequest("GET", closed.URL+"/api/admin/runs", nil)
	req.Header.Set("Authorization", "Bearer ")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("no token configured: %d, want 401", resp.StatusCode)
	}
}
