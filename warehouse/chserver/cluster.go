package chserver

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// ClusterName is the name of the cluster in every server's remote_servers.
const ClusterName = "observatorio"

// ClusterNamePlain is a second cluster over the same servers with
// internal_replication=false. ClickHouse 18.16 refuses ALTER ... ON CLUSTER
// on a table that is not Replicated* (a Distributed table, say) when the
// cluster's shards have internal_replication=true ("Table ... isn't
// replicated, but shard #1 is replicated according to its cluster
// definition"), and the reverse for Replicated* tables; such ALTERs go
// ON CLUSTER observatorio_plain on 18.16. Newer servers accept both on
// either cluster.
const ClusterNamePlain = "observatorio_plain"

// DDLPath is the ZooKeeper path of the distributed DDL queue (ON CLUSTER).
const DDLPath = "/clickhouse/task_queue/ddl"

// Cluster is a ZooKeeper and N ClickHouse servers, one per shard, configured
// as the cluster "observatorio": N shards of one replica each. Every server
// has the macros shard (01, 02, ...), replica (r1) and cluster
// (observatorio), so that
//
//	CREATE TABLE db.t ON CLUSTER observatorio (...)
//	ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/t', '{replica}') ...
//	CREATE TABLE db.t_all ON CLUSTER observatorio AS db.t
//	ENGINE = Distributed(observatorio, db, t, rand())
//
// work from any of them.
type Cluster struct {
	name    string
	servers []*Server
	zk      *ZooKeeper
}

// Name is the cluster's name ("observatorio").
func (c *Cluster) Name() string { return c.name }

// Servers are the cluster's servers; Servers()[i] holds shard i+1.
func (c *Cluster) Servers() []*Server { return c.servers }

// Server returns the server of shard i (0-based).
func (c *Cluster) Server(i int) *Server { return c.servers[i] }

// Addrs are the native host:port of every server, in shard order.
func (c *Cluster) Addrs() []string {
	out := make([]string, len(c.servers))
	for i, s := range c.servers {
		out[i] = s.Addr()
	}
	return out
}

// ZooKeeper is the cluster's ZooKeeper.
func (c *Cluster) ZooKeeper() *ZooKeeper { return c.zk }

// ZooKeeperAddr is the host:port of the cluster's ZooKeeper.
func (c *Cluster) ZooKeeperAddr() string { return c.zk.Addr() }

// Stop stops every server (in parallel) and then ZooKeeper.
func (c *Cluster) Stop() {
	c.stopServers()
	c.zk.Stop()
}

func (c *Cluster) stopServers() {
	var wg sync.WaitGroup
	for _, s := range c.servers {
		wg.Add(1)
		go func() { defer wg.Done(); s.Stop() }()
	}
	wg.Wait()
}

// LogTail is the LogTail of every server and of ZooKeeper.
func (c *Cluster) LogTail(n int) string {
	var b strings.Builder
	for _, s := range c.servers {
		b.WriteString(s.LogTail(n))
	}
	b.WriteString(c.zk.LogTail(n))
	return b.String()
}

// StartCluster starts a ZooKeeper and shards ClickHouse servers configured
// as the cluster "observatorio" (see Cluster) and waits until all answer.
// opts applies to every server (opts.Name is ignored: servers are named
// shard01, shard02...). It skips the test when clickhouse-server or
// ZooKeeper/Java is not installed. Everything is stopped when the test ends.
func StartCluster(tb testing.TB, shards int, opts Options) *Cluster {
	tb.Helper()
	if shards < 1 {
		tb.Fatalf("chserver: StartCluster con %d shards", shards)
	}
	bin := serverOrSkip(tb)
	java, cp, ok := ZooKeeperAvailable()
	if !ok {
		tb.Skip(SkipNoZooKeeper)
	}
	opts = opts.withDefaults()
	base := tb.TempDir()
	t0 := time.Now()
	zk, err := startZooKeeper(tb, java, cp, filepath.Join(base, "zookeeper"), opts.StartupTimeout)
	if err != nil {
		tb.Fatalf("chserver: ZooKeeper no arrancó: %v\n%s", err, zk.LogTail(60))
	}
	c := &Cluster{name: ClusterName, zk: zk}
	for i := 0; i < shards; i++ {
		o := opts
		o.Name = fmt.Sprintf("shard%02d", i+1)
		dir := filepath.Join(base, o.Name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			tb.Fatal(err)
		}
		s, err := newServer(bin, o, dir)
		if err != nil {
			tb.Fatal(err)
		}
		c.servers = append(c.servers, s)
	}
	// Registered after ZooKeeper's, so it runs before it: servers stop first.
	tb.Cleanup(func() {
		var wg sync.WaitGroup
		for _, s := range c.servers {
			wg.Add(1)
			go func() { defer wg.Done(); s.stopAtCleanup(tb) }()
		}
		wg.Wait()
	})

	tZK := time.Since(t0)
	for attempt := 0; ; attempt++ {
		err := c.startServers()
		if err == nil {
			tb.Logf("chserver: clúster %s listo en %v (ZooKeeper %s en %v; shards %v)",
				c.name, time.Since(t0).Round(time.Millisecond), zk.Addr(), tZK.Round(time.Millisecond), c.Addrs())
			return c
		}
		c.stopServers()
		if !errors.Is(err, errAddrInUse) || attempt == 3 {
			tb.Fatalf("chserver: el clúster no arrancó: %v\n%s", err, c.LogTail(40))
		}
	}
}

// startServers gives every server new ports, writes the cluster
// configuration and starts all servers in parallel.
func (c *Cluster) startServers() error {
	for _, s := range c.servers {
		if err := s.allocPorts(); err != nil {
			return err
		}
	}
	for i, s := range c.servers {
		s.clusterXML = c.configXML(i)
	}
	errs := make([]error, len(c.servers))
	var wg sync.WaitGroup
	for i, s := range c.servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.start(); err != nil {
				errs[i] = fmt.Errorf("%s: %w", s.opts.Name, err)
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	// Every server must reach ZooKeeper before a test sends it replicated or
	// ON CLUSTER DDL (18.16 has been seen to crash on a DDL query while its
	// first ZooKeeper session was still failing).
	for _, s := range c.servers {
		if err := s.waitZooKeeper(); err != nil {
			return fmt.Errorf("%s: %w", s.opts.Name, err)
		}
	}
	return nil
}

func (s *Server) waitZooKeeper() error {
	deadline := time.Now().Add(s.opts.StartupTimeout)
	for {
		_, err := s.HTTPQuery("SELECT count() FROM system.zookeeper WHERE path = '/'", nil)
		if err == nil {
			return nil
		}
		if !s.Running() {
			return fmt.Errorf("terminó mientras esperaba a ZooKeeper: %v", err)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no alcanzó ZooKeeper en %v: %v", s.opts.StartupTimeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// configXML is the cluster part of server i's configuration.
func (c *Cluster) configXML(i int) string {
	var b strings.Builder
	b.WriteString("<remote_servers>\n")
	for _, cl := range []struct {
		name       string
		replicated bool
	}{{c.name, true}, {ClusterNamePlain, false}} {
		fmt.Fprintf(&b, "    <%s>\n", cl.name)
		for _, s := range c.servers {
			fmt.Fprintf(&b, `        <shard>
            <internal_replication>%t</internal_replication>
            <replica>
                <host>127.0.0.1</host>
                <port>%d</port>
                <user>%s</user>
                <password>%s</password>
            </replica>
        </shard>
`, cl.replicated, s.tcpPort, s.opts.User, xmlEscape(s.opts.Password))
		}
		fmt.Fprintf(&b, "    </%s>\n", cl.name)
	}
	b.WriteString("</remote_servers>\n")
	fmt.Fprintf(&b, `<zookeeper>
    <node index="1">
        <host>127.0.0.1</host>
        <port>%d</port>
    </node>
    <session_timeout_ms>30000</session_timeout_ms>
    <operation_timeout_ms>10000</operation_timeout_ms>
</zookeeper>
<macros>
    <shard>%02d</shard>
    <replica>r1</replica>
    <cluster>%s</cluster>
</macros>
<distributed_ddl>
    <path>%s</path>
</distributed_ddl>
`, c.zk.port, i+1, c.name, DDLPath)
	return b.String()
}
