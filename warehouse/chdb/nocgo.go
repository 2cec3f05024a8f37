//go:build !cgo

package chdb

import "errors"

// errNoCgo explains why the embedded engine is unavailable in this build.
var errNoCgo = errors.New("chdb: este binario se compiló sin cgo (CGO_ENABLED=0); el motor embebido necesita cgo")

// Load always fails without cgo.
func Load(path string) error { return errNoCgo }

// Loaded is always false without cgo.
func Loaded() bool { return false }

// Conn is unavailable without cgo.
type Conn struct{}

// Connect always fails without cgo.
func Connect(args ...string) (*Conn, error) { return nil, errNoCgo }

func (c *Conn) Close() {}

// Stats are the figures chDB reports for a statement.
type Stats struct {
	RowsRead    uint64
	BytesRead   uint64
	RowsWritten uint64
	ElapsedSecs float64
}

// Error is a statement error, carrying ClickHouse's own message.
type Error struct{ Message string }

func (e *Error) Error() string { return e.Message }

func (c *Conn) Query(query, format string) ([]byte, Stats, error) { return nil, Stats{}, errNoCgo }

// Stream is unavailable without cgo.
type Stream struct{}

func (c *Conn) StreamQuery(query, format string) (*Stream, error) { return nil, errNoCgo }
func (s *Stream) Next(buf []byte) ([]byte, error)                 { return nil, errNoCgo }
func (s *Stream) Close()                                          {}
