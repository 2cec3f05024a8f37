package chserver

import (
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// The generated files use the root element <yandex>: ClickHouse 18.16 knows
// no other, and every later release (including those that document
// <clickhouse>) still accepts <yandex> for the main file and for the files in
// config.d / users.d, as long as all of them use the same root. Only keys that
// both old and new servers understand are written; an old server ignores
// unknown top-level keys (max_server_memory_usage is one: 18.16 does not know
// it and starts anyway).

const xmlRoot = "yandex"

func xmlEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

func (s *Server) configXML() string {
	d := func(p string) string { return xmlEscape(filepath.Join(s.dataDir, p) + "/") }
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0"?>
<%s>
    <logger>
        <level>%s</level>
        <log>%s</log>
        <errorlog>%s</errorlog>
        <size>200M</size>
        <count>1</count>
        <console>0</console>
    </logger>
    <listen_host>127.0.0.1</listen_host>
    <listen_try>0</listen_try>
    <tcp_port>%d</tcp_port>
    <http_port>%d</http_port>
    <interserver_http_port>%d</interserver_http_port>
    <interserver_http_host>127.0.0.1</interserver_http_host>
    <path>%s</path>
    <tmp_path>%s</tmp_path>
    <user_files_path>%s</user_files_path>
    <format_schema_path>%s</format_schema_path>
    <users_config>users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>%s</timezone>
    <max_connections>256</max_connections>
    <max_concurrent_queries>64</max_concurrent_queries>
    <keep_alive_timeout>3</keep_alive_timeout>
    <mark_cache_size>%d</mark_cache_size>
    <uncompressed_cache_size>%d</uncompressed_cache_size>
    <index_mark_cache_size>%d</index_mark_cache_size>
    <index_uncompressed_cache_size>%d</index_uncompressed_cache_size>
    <mmap_cache_size>64</mmap_cache_size>
    <max_server_memory_usage>%d</max_server_memory_usage>
    <mlock_executable>false</mlock_executable>
    <builtin_dictionaries_reload_interval>3600</builtin_dictionaries_reload_interval>
    <max_table_size_to_drop>0</max_table_size_to_drop>
    <max_partition_size_to_drop>0</max_partition_size_to_drop>
</%s>
`, xmlRoot, s.opts.LogLevel, xmlEscape(s.logPath), xmlEscape(s.errLogPath),
		s.tcpPort, s.httpPort, s.interPort,
		d(""), d("tmp"), d("user_files"), d("format_schemas"),
		xmlEscape(s.opts.Timezone),
		cacheSize, cacheSize, cacheSize, cacheSize, s.opts.MaxServerMemory, xmlRoot)
	return b.String()
}

const cacheSize = 32 << 20

func (s *Server) usersXML() string {
	settings := map[string]string{
		"max_memory_usage": "2000000000",
		"max_threads":      "2",
		"poll_interval":    "1", // idle native connections notice a shutdown within 1 s (default 10)
	}
	for k, v := range s.opts.Settings {
		settings[k] = v
	}
	keys := make([]string, 0, len(settings))
	for k := range settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var prof strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&prof, "            <%s>%s</%s>\n", k, xmlEscape(settings[k]), k)
	}
	return fmt.Sprintf(`<?xml version="1.0"?>
<%[1]s>
    <profiles>
        <default>
%[2]s        </default>
    </profiles>
    <users>
        <%[3]s>
            <password>%[4]s</password>
            <networks>
                <ip>127.0.0.1</ip>
                <ip>::1</ip>
            </networks>
            <profile>default</profile>
            <quota>default</quota>
        </%[3]s>
    </users>
    <quotas>
        <default>
            <interval>
                <duration>3600</duration>
                <queries>0</queries>
                <errors>0</errors>
                <result_rows>0</result_rows>
                <read_rows>0</read_rows>
                <execution_time>0</execution_time>
            </interval>
        </default>
    </quotas>
</%[1]s>
`, xmlRoot, prof.String(), s.opts.User, xmlEscape(s.opts.Password))
}

// wrap puts a snippet inside the root element, unless it already is a
// whole document.
func wrap(snippet string) string {
	t := strings.TrimSpace(snippet)
	if strings.HasPrefix(t, "<?xml") || strings.HasPrefix(t, "<"+xmlRoot+">") {
		return t + "\n"
	}
	return fmt.Sprintf("<?xml version=\"1.0\"?>\n<%s>\n%s\n</%s>\n", xmlRoot, t, xmlRoot)
}

// writeConfig (re)writes every configuration file of the server.
func (s *Server) writeConfig() error {
	for _, dir := range []string{s.dataDir, filepath.Join(s.dir, "config.d"), filepath.Join(s.dir, "users.d")} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	files := map[string]string{
		s.configPath:                      s.configXML(),
		filepath.Join(s.dir, "users.xml"): s.usersXML(),
	}
	if s.clusterXML != "" {
		files[filepath.Join(s.dir, "config.d", "00-cluster.xml")] = wrap(s.clusterXML)
	}
	for i, snip := range s.opts.ExtraConfig {
		files[filepath.Join(s.dir, "config.d", fmt.Sprintf("50-extra-%02d.xml", i))] = wrap(snip)
	}
	for i, snip := range s.opts.ExtraUsersConfig {
		files[filepath.Join(s.dir, "users.d", fmt.Sprintf("50-extra-%02d.xml", i))] = wrap(snip)
	}
	for path, body := range files {
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			return err
		}
	}
	return nil
}
