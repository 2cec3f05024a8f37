package demo

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/shopspring/decimal"

	"github.com/observatorio-civico/observatorio/etl/recompute"
	"github.com/observatorio-civico/observatorio/ingest"
	"github.com/observatorio-civico/observatorio/liquidation"
	"github.com/observatorio-civico/observatorio/reference"
)

// The pipeline: the rows of a municipality are cut into tasks (ranges of
// properties, businesses or withholding agents); workers compute tasks in
// parallel into byte buffers; one writer appends the buffers to the files in
// task order, inserting the deliberately bad rows at fixed positions. At
// most a few tasks are in flight, so memory does not grow with the scale.

// gen holds what every row needs.
type gen struct {
	o     Options
	seed  uint64
	scale float64
	rules *liquidation.Rules
	cal   [3]*muniCal
	plans map[planKey]*plan
	// unknown municipality codes (not in DIVIPOLA), one per municipality
	unknownMuni [3]string
}

// muniStats are the counts the manifest reports and the calibration checks.
type muniStats struct {
	liqN   [yearSlots][3]int64       // liquidations by tax year and tax
	decl   [yearSlots][4][3][2]int64 // by issue year, quarter, tax, web|presencial
	pay    [yearSlots][4][3][5]int64 // payments by paid year, quarter, tax, channel
	paySum [yearSlots][3]int64       // pesos paid by calendar year and tax
	dev    [yearSlots][3][nDev]int64 // deliberate deviations by tax year, tax, kind
}

func (s *muniStats) add(o *muniStats) {
	for y := range s.liqN {
		for t := 0; t < 3; t++ {
			s.liqN[y][t] += o.liqN[y][t]
			s.paySum[y][t] += o.paySum[y][t]
			for k := range s.dev[y][t] {
				s.dev[y][t][k] += o.dev[y][t][k]
			}
			for q := 0; q < 4; q++ {
				for c := 0; c < 2; c++ {
					s.decl[y][q][t][c] += o.decl[y][q][t][c]
				}
				for c := 0; c < 5; c++ {
					s.pay[y][q][t][c] += o.pay[y][q][t][c]
				}
			}
		}
	}
}

// filePart is what one task adds to one file.
type filePart struct {
	buf  []byte
	rows int
	dev  [nDev]int
	ex   [nDev][]string
}

type taskOut struct {
	liq, pay [yearSlots]filePart
	st       muniStats
	err      error
}

func (t *taskOut) reset() {
	for i := range t.liq {
		t.liq[i] = filePart{buf: t.liq[i].buf[:0]}
		t.pay[i] = filePart{buf: t.pay[i].buf[:0]}
	}
	t.st = muniStats{}
	t.err = nil
}

type task struct {
	m      *muniProfile
	kind   int
	lo, hi int
	out    chan *taskOut
}

// worker holds the reusable state of one goroutine.
type worker struct {
	g   *gen
	out *taskOut
	liq liqRow
	pay payRow
	lc  cells
	pc  cells
}

const maxExamples = 5

func (w *worker) emitLiq(m *muniProfile, row *liqRow, pay *payRow) error {
	rec := &row.rec
	w.g.liqCells(m, row, w.lc)
	part := &w.out.liq[slot(rec.TaxYear)]
	part.buf = m.liq.row(part.buf, w.lc, -1)
	part.rows++
	t := taxIdx(rec.Tax)
	st := &w.out.st
	st.liqN[slot(rec.TaxYear)][t]++
	issue := dayOf(rec.IssueDate)
	c := 1
	if row.web {
		c = 0
	}
	st.decl[slot(issue.year())][issue.quarter()-1][t][c]++
	if row.devClass != devNone {
		part.dev[row.dev]++
		st.dev[slot(rec.TaxYear)][t][row.dev]++
		if len(part.ex[row.dev]) < maxExamples {
			part.ex[row.dev] = append(part.ex[row.dev], rec.LiquidationID)
		}
	}
	if pay != nil {
		w.g.payCells(m, pay, w.pc)
		y := pay.at.d.year()
		pp := &w.out.pay[slot(y)]
		pp.buf = m.pay.row(pp.buf, w.pc, -1)
		pp.rows++
		st.pay[slot(y)][pay.at.d.quarter()-1][t][channelIdx[pay.ch.canon]]++
		st.paySum[slot(y)][t] += pay.amount.IntPart()
	}
	return nil
}

func dayOf(d ingest.Date) day { return mkday(d.Year(), d.Month(), d.Day()) }

// liqCells writes a liquidation's cells as the municipality's system does.
func (g *gen) liqCells(m *muniProfile, row *liqRow, c cells) {
	for i := range c {
		c[i] = ""
	}
	l := m.liq
	rec := &row.rec
	c[lID] = rec.LiquidationID
	c[lYear] = itoa(rec.TaxYear)
	c[lPeriod] = rec.Period
	c[lTax] = m.taxLabel[rec.Tax]
	c[lMuni] = rec.MunicipalityCode
	who := row.who
	c[lTID], c[lDV] = m.displayID(who)
	if who.dv != "" {
		c[lIDType] = m.idTypeLabel[1]
	} else {
		c[lIDType] = m.idTypeLabel[0]
	}
	if who.natural {
		c[lKind] = m.kindLabel[0]
	} else {
		c[lKind] = m.kindLabel[1]
	}
	c[lName] = m.displayName(who)
	c[lAddr] = rec.TaxpayerAddress
	if m.upperNames {
		c[lAddr] = strings.ToUpper(c[lAddr])
	}
	c[lPhone] = who.phone
	c[lEmail] = who.email
	c[lProp] = rec.PropertyID
	c[lIssue] = fmtDate(l.dates, dayOf(rec.IssueDate))
	if rec.DueDate != nil {
		c[lDue] = fmtDate(l.dates, dayOf(*rec.DueDate))
	}
	if row.web {
		c[lChannel] = m.channelLabel[0]
	} else {
		c[lChannel] = m.channelLabel[1]
	}
	c[lAvaluo] = optMoney(l, rec.Avaluo)
	c[lDestino] = rec.Destino
	if rec.Estrato != nil {
		c[lEstrato] = itoa(*rec.Estrato)
	}
	switch rec.Sector {
	case "urbano":
		c[lSector] = m.sectorLabel[0]
	case "rural":
		c[lSector] = m.sectorLabel[1]
	}
	if rec.AreaM2 != nil {
		c[lArea] = l.plain(*rec.AreaM2)
	}
	if rec.BuiltAreaM2 != nil {
		c[lBuilt] = l.plain(*rec.BuiltAreaM2)
	}
	c[lPrior] = optMoney(l, rec.PriorYearTax)
	if rec.RatePerMille != nil {
		c[lRate] = l.plain(*rec.RatePerMille)
	}
	c[lGross] = optMoney(l, rec.GrossIncome)
	c[lOutside] = optMoney(l, rec.IncomeOutside)
	c[lDeduct] = optMoney(l, rec.Deductions)
	c[lTaxable] = optMoney(l, rec.TaxableIncome)
	c[lCIIU] = rec.CIIU
	if m.ciiuNoZero {
		c[lCIIU] = strings.TrimLeft(rec.CIIU, "0")
	}
	c[lTaxAmt] = optMoney(l, rec.TaxAmount)
	c[lAvisos] = optMoney(l, rec.AvisosTableros)
	c[lBomberil] = optMoney(l, rec.SobretasaBomberil)
	c[lAmbiental] = optMoney(l, rec.SobretasaAmbiental)
	c[lSanctions] = optMoney(l, rec.Sanctions)
	c[lWithh] = optMoney(l, rec.Withholdings)
	c[lTotal] = l.money(rec.TotalAmount)
}

func (g *gen) payCells(m *muniProfile, p *payRow, c cells) {
	for i := range c {
		c[i] = ""
	}
	l := m.pay
	c[pID] = p.id
	c[pLiq] = p.liqID
	c[pMuni] = m.code
	c[pTax] = m.taxLabel[p.tax]
	c[pYear] = itoa(p.year)
	c[pTID], c[pDV] = m.displayID(p.who)
	c[pPaidAt] = fmtStamp(l.dates, p.at)
	c[pAmount] = l.money(p.amount)
	c[pChannel] = p.ch.label
	c[pBank] = p.ch.bank
}

// ---------------------------------------------------------------- files

// fileOut is one output file being written.
type fileOut struct {
	info  *FileInfo
	m     *muniProfile
	lay   *layout
	year  int
	f     *os.File
	bw    *bufio.Writer
	h     hash.Hash
	lines int // physical lines so far (preamble and header included)
	good  int
	bads  []badPlan
	next  int
	last  []byte // the last good row, for the duplicate
	buf   []byte // cartera rows
	bbuf  []byte // bad rows
	cells cells
	bcell cells
}

type badPlan struct {
	pos  int // insert after this many good rows
	code string
}

func createFile(dir, rel string, lay *layout) (*fileOut, error) {
	path := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	fo := &fileOut{f: f, bw: bufio.NewWriterSize(f, 256<<10), h: sha256.New(), lay: lay, cells: lay.newCells(), bcell: lay.newCells(),
		info: &FileInfo{Path: rel, Record: string(lay.kind), Encoding: lay.charset, Delimiter: string(lay.delim),
			BadRows: map[string]int{}}}
	hdr := lay.header(nil)
	fo.lines = len(lay.preamble) + 1
	fo.write(hdr)
	return fo, nil
}

func (f *fileOut) write(b []byte) {
	f.bw.Write(b)
	f.h.Write(b)
	f.info.Bytes += int64(len(b))
}

// rows appends n good rows (CRLF-terminated) and the bad rows that fall
// among them.
func (f *fileOut) rows(g *gen, buf []byte, n int) error {
	for n > 0 {
		if f.next < len(f.bads) && f.bads[f.next].pos <= f.good {
			if err := f.bad(g); err != nil {
				return err
			}
			continue
		}
		k := n
		if f.next < len(f.bads) {
			k = min(n, f.bads[f.next].pos-f.good)
		}
		cut, start := 0, 0
		for i := 0; i < k; i++ {
			j := bytes.IndexByte(buf[cut:], '\n')
			start = cut
			cut += j + 1
		}
		f.write(buf[:cut])
		f.last = append(f.last[:0], buf[start:cut]...)
		f.good += k
		f.lines += k
		f.info.Records += k
		buf = buf[cut:]
		n -= k
	}
	return nil
}

// finish writes the bad rows left (files shorter than planned) and closes.
func (f *fileOut) finish(g *gen) error {
	for f.next < len(f.bads) {
		if err := f.bad(g); err != nil {
			return err
		}
	}
	if err := f.bw.Flush(); err != nil {
		return err
	}
	f.info.SHA256 = hex.EncodeToString(f.h.Sum(nil))
	f.info.DataRows = f.info.Records + f.info.Rejected
	return f.f.Close()
}

// bad writes the next planned bad row.
func (f *fileOut) bad(g *gen) error {
	bp := f.bads[f.next]
	f.next++
	var line []byte
	if bp.code == ingest.CodeDuplicateKey {
		if f.last == nil {
			return nil // nothing to duplicate yet: skipped
		}
		line = f.last
	} else {
		line = g.badRow(f, bp.code, f.next)
	}
	f.write(line)
	f.lines++
	f.info.BadRows[bp.code]++
	f.info.Rejected++
	f.info.BadRowList = append(f.info.BadRowList, BadRow{Line: f.lines, Code: bp.code})
	return nil
}

// planBads spreads the file's bad rows over its expected length.
func planBads(expected int, codes []string) []badPlan {
	expected = max(expected, len(codes)+1)
	out := make([]badPlan, len(codes))
	for j, c := range codes {
		out[j] = badPlan{pos: max(1, (j+1)*expected/(len(codes)+1)), code: c}
	}
	return out
}

// ---------------------------------------------------------------- run

func workerCount(o Options) int {
	if o.Workers > 0 {
		return o.Workers
	}
	return max(1, runtime.GOMAXPROCS(0))
}

// eachTask cuts a municipality's rows into tasks of a few thousand rows
// and hands them to fn in order, until fn returns false. Tasks are made on
// the fly: nothing is kept per task beyond those in flight.
func (g *gen) eachTask(m *muniProfile, fn func(*task) bool) {
	for _, k := range []struct{ kind, n, per int }{
		{kPredial, g.nProps(m, lastYear), 250},
		{kICA, g.bizStart(m, lastICAYear) + g.nBiz(m, lastICAYear), 250},
		{kRet, g.agentStart(m, lastYear) + g.nAgents(m, lastYear), 60},
	} {
		for lo := 0; lo < k.n; lo += k.per {
			if !fn(&task{m: m, kind: k.kind, lo: lo, hi: min(k.n, lo+k.per)}) {
				return
			}
		}
	}
}

func (g *gen) runTask(w *worker, t *task) error {
	for i := t.lo; i < t.hi; i++ {
		var err error
		switch t.kind {
		case kPredial:
			err = g.predialEntity(w, t.m, i)
		case kICA:
			err = g.icaEntity(w, t.m, i)
		default:
			err = g.retEntity(w, t.m, i)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// municipality writes the liquidation and payment files of m.
func (g *gen) municipality(ctx context.Context, dir string, m *muniProfile, man *Manifest) (*muniStats, error) {
	liqFiles := map[int]*fileOut{}
	payFiles := map[int]*fileOut{}
	defer func() {
		for _, f := range liqFiles {
			f.f.Close()
		}
		for _, f := range payFiles {
			f.f.Close()
		}
	}()
	for y := firstICAYear; y <= lastYear; y++ {
		f, err := createFile(dir, fmt.Sprintf("%s/liquidaciones_%d.csv", m.dir, y), m.liq)
		if err != nil {
			return nil, err
		}
		f.m, f.year = m, y
		f.info.Source, f.info.Municipality, f.info.Year = m.liqSource(), m.code, y
		f.bads = planBads(g.expectedLiq(m, y), g.badCodes(m, ingest.KindLiquidation, y))
		liqFiles[y] = f
	}
	for y := firstYear; y <= lastYear+1; y++ {
		f, err := createFile(dir, fmt.Sprintf("%s/pagos_%d.csv", m.dir, y), m.pay)
		if err != nil {
			return nil, err
		}
		f.m, f.year = m, y
		f.info.Source, f.info.Municipality, f.info.Year = m.paySource(), m.code, y
		exp := g.expectedLiq(m, y) * 4 / 5
		if y > lastYear {
			exp = g.nAgents(m, lastYear) / 2
		}
		f.bads = planBads(exp, g.badCodes(m, ingest.KindPayment, y))
		payFiles[y] = f
	}

	nw := workerCount(g.o)
	window := make(chan struct{}, 2*nw) // tasks in flight
	todo := make(chan *task)            // to the workers
	queue := make(chan *task, 2*nw)     // to the writer, in order
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pool := sync.Pool{New: func() any { return &taskOut{} }}
	var wg sync.WaitGroup
	for k := 0; k < nw; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := &worker{g: g, lc: m.liq.newCells(), pc: m.pay.newCells()}
			for t := range todo {
				out := pool.Get().(*taskOut)
				out.reset()
				w.out = out
				if ctx.Err() == nil {
					out.err = g.runTask(w, t)
				} else {
					out.err = ctx.Err()
				}
				t.out <- out
			}
		}()
	}
	go func() {
		defer close(todo)
		defer close(queue)
		g.eachTask(m, func(t *task) bool {
			select {
			case window <- struct{}{}:
			case <-ctx.Done():
				return false
			}
			t.out = make(chan *taskOut, 1)
			select {
			case queue <- t:
			case <-ctx.Done():
				return false
			}
			select {
			case todo <- t:
				return true
			case <-ctx.Done():
				return false
			}
		})
	}()
	st := &muniStats{}
	var firstErr error
	for t := range queue {
		var out *taskOut
		select {
		case out = <-t.out:
		case <-ctx.Done():
		}
		if out == nil {
			break
		}
		if out.err != nil && firstErr == nil {
			firstErr = out.err
			cancel()
		}
		if firstErr == nil {
			for y := range out.liq {
				if p := &out.liq[y]; p.rows > 0 {
					f := liqFiles[2011+y]
					if err := f.rows(g, p.buf, p.rows); err != nil {
						firstErr = err
						cancel()
						break
					}
					f.info.addDev(p)
				}
				if p := &out.pay[y]; p.rows > 0 {
					if err := payFiles[2011+y].rows(g, p.buf, p.rows); err != nil {
						firstErr = err
						cancel()
						break
					}
				}
			}
			st.add(&out.st)
		}
		pool.Put(out)
		<-window
	}
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	if firstErr != nil {
		return nil, firstErr
	}
	if m == florencia {
		if err := g.cartera(m, st, payFiles); err != nil {
			return nil, err
		}
	}
	for y := firstICAYear; y <= lastYear; y++ {
		if err := liqFiles[y].finish(g); err != nil {
			return nil, err
		}
		man.Files = append(man.Files, *liqFiles[y].info)
		delete(liqFiles, y)
	}
	for y := firstYear; y <= lastYear+1; y++ {
		if err := payFiles[y].finish(g); err != nil {
			return nil, err
		}
		man.Files = append(man.Files, *payFiles[y].info)
		delete(payFiles, y)
	}
	return st, nil
}

func (fi *FileInfo) addDev(p *filePart) {
	for k, n := range p.dev {
		if n == 0 {
			continue
		}
		name := devNames[k]
		if k < uPrior {
			if fi.Discrepancies == nil {
				fi.Discrepancies = map[string]int{}
			}
			fi.Discrepancies[name] += n
			for _, id := range p.ex[k] {
				if len(fi.DiscrepancyExamples) < 2*maxExamples {
					fi.DiscrepancyExamples = append(fi.DiscrepancyExamples, id)
				}
			}
		} else {
			if fi.Unverifiable == nil {
				fi.Unverifiable = map[string]int{}
			}
			fi.Unverifiable[name] += n
			for _, id := range p.ex[k] {
				if len(fi.UnverifiableExamples) < 2*maxExamples {
					fi.UnverifiableExamples = append(fi.UnverifiableExamples, id)
				}
			}
		}
	}
}

// expectedLiq is the number of liquidations of tax year y.
func (g *gen) expectedLiq(m *muniProfile, y int) int {
	n := g.nProps(m, y) + g.nBiz(m, y)
	if y >= firstRetYear && y <= lastYear {
		n += g.nAgents(m, y) * len(g.cal[m.idx].ret[y])
	}
	return n
}

// badCodes lists the bad rows of a file: a date, a number, a municipality
// code, a duplicate key, a missing required field and a broken quote in
// every file, plus a wrong check digit or a value outside an enumeration,
// alternately.
func (g *gen) badCodes(m *muniProfile, kind ingest.Kind, y int) []string {
	date := ingest.CodeDate
	if kind == ingest.KindPayment {
		date = ingest.CodeDateTime
	}
	codes := []string{date, ingest.CodeNumber, ingest.CodeMunicipalityUnk, ingest.CodeDuplicateKey, ingest.CodeRequired, ingest.CodeQuoteUnterm}
	if kind == ingest.KindPayment && m.pay.defaults["municipality_code"] != "" {
		codes = append(codes[:2], codes[3:]...) // no municipality column to spoil
	}
	if y%2 == 0 {
		codes = append(codes, ingest.CodeCheckDigit)
	} else {
		codes = append(codes, ingest.CodeNotAllowed)
	}
	// a deterministic shuffle, so bad rows of the same kind are not always
	// at the same place
	r := newRnd(g.seed, kBad, uint64(m.idx), uint64(y), uint64(len(kind)))
	for i := len(codes) - 1; i > 0; i-- {
		j := r.intn(i + 1)
		codes[i], codes[j] = codes[j], codes[i]
	}
	return codes
}

// badRow builds one deliberately bad row of a file: a good synthetic row
// with exactly one defect.
func (g *gen) badRow(f *fileOut, code string, j int) []byte {
	m := f.m
	r := newRnd(g.seed, kBad, uint64(m.idx), uint64(f.year), uint64(len(f.lay.kind)), uint64(j))
	c := f.bcell
	raw := -1
	spoilNumber := func(s string) string {
		if i := strings.IndexByte(s, '0'); i >= 0 {
			return s[:i] + "O" + s[i+1:]
		}
		return s[:1] + "O" + s[1:]
	}
	who := company(&r, m, companyByCIIU["4711"])
	who.name = strings.ReplaceAll(who.name, `"`, "")
	if f.lay.kind == ingest.KindLiquidation {
		row := g.simpleLiq(m, f.year, j, &who)
		g.liqCells(m, row, c)
		switch code {
		case ingest.CodeDate:
			c[lIssue] = [...]string{dmySlash: "31/02/%d", isoDash: "%d-02-30", dMonAbbr: "30-feb-%d", dmSlashNoZ: "31/2/%d"}[f.lay.dates]
			c[lIssue] = fmt.Sprintf(c[lIssue], f.year)
		case ingest.CodeNumber:
			c[lTotal] = spoilNumber(c[lTotal])
		case ingest.CodeMunicipalityUnk:
			c[lMuni] = g.unknownMuni[m.idx]
		case ingest.CodeRequired:
			c[lTID], c[lDV] = "", ""
		case ingest.CodeQuoteUnterm:
			c[lName] = `"` + c[lName]
			raw = lName
		case ingest.CodeCheckDigit:
			bad := who
			bad.dv = string('0' + (who.dv[0]-'0'+1)%10)
			c[lTID], c[lDV] = m.displayID(&bad)
		case ingest.CodeNotAllowed:
			c[lTax] = [...]string{"Alumbrado Público", "VEHICULOS", "SOBRETASA BOMBERIL"}[m.idx]
		}
	} else {
		at := stamp{randDay(&r, mkday(f.year, 1, 15), min(mkday(f.year, 12, 15), cutoff), true), 9*3600 + r.intn(6*3600)}
		ch := pickChan(&r, m.other)
		p := &payRow{id: m.payID(m.liqID(kBad, f.year, 9000+j, 0)), liqID: m.liqID(kBad, f.year, 9000+j, 0), tax: ingest.TaxPredial,
			year: f.year, who: &who, at: at, amount: decInt(int64(50+r.intn(900)) * 1000), ch: ch}
		g.payCells(m, p, c)
		switch code {
		case ingest.CodeDateTime:
			c[pPaidAt] = [...]string{dmySlash: "31/06/%d 10:15:00", isoDash: "%d-06-31 10:15:00", dMonAbbr: "31-jun-%d", dmSlashNoZ: "31/6/%d 10:15"}[f.lay.dates]
			c[pPaidAt] = fmt.Sprintf(c[pPaidAt], f.year)
		case ingest.CodeNumber:
			c[pAmount] = spoilNumber(c[pAmount])
		case ingest.CodeMunicipalityUnk:
			c[pMuni] = g.unknownMuni[m.idx]
		case ingest.CodeRequired:
			c[pTID], c[pDV] = "", ""
		case ingest.CodeQuoteUnterm:
			c[pBank] = `"` + c[pBank]
			raw = pBank
		case ingest.CodeCheckDigit:
			bad := who
			bad.dv = string('0' + (who.dv[0]-'0'+1)%10)
			c[pTID], c[pDV] = m.displayID(&bad)
		case ingest.CodeNotAllowed:
			c[pChannel] = "Cheque"
		}
	}
	f.bbuf = f.lay.row(f.bbuf[:0], c, raw)
	return f.bbuf
}

// simpleLiq is a plain, correct liquidation used as the body of a bad row:
// a predial bill (an ICA declaration in 2011, the year with ICA only).
func (g *gen) simpleLiq(m *muniProfile, y, j int, who *party) *liqRow {
	row := &liqRow{dev: -1, who: who}
	rec := &row.rec
	rec.LiquidationID = m.liqID(kBad, y, 9000+j, 0)
	rec.MunicipalityCode = m.code
	rec.TaxYear = y
	if y < firstYear {
		rec.Tax = ingest.TaxICA
		rec.CIIU = "4711"
		rec.GrossIncome, rec.IncomeOutside, rec.Deductions, rec.TaxableIncome = ptr(decInt(250_000_000)), ptr(decimal.Zero), ptr(decimal.Zero), ptr(decInt(250_000_000))
		rec.Withholdings = ptr(decimal.Zero)
		rec.IssueDate = mkday(y+1, 3, 12).ing()
	} else {
		rec.Tax = ingest.TaxPredial
		rec.Destino = "comercial"
		rec.Avaluo = ptr(decInt(180_000_000))
		rec.PriorYearTax = ptr(decimal.Zero)
		rec.IssueDate = mkday(y, 1, 15).ing()
		rec.TaxpayerAddress = m.barrios[0]
	}
	res, err := g.rules.Liquidate(recompute.Request(g.rules, rec))
	if err == nil {
		if v, ok := lineVal(res, "20"); ok {
			rec.TaxAmount = &v
		}
		if v, ok := lineVal(res, liquidation.PImpuesto); ok {
			rec.TaxAmount = &v
		}
		rec.TotalAmount = res.Total
	}
	return row
}

// ---------------------------------------------------------------- cartera

// cartera writes the payments of vigencias before the export (2007-2011)
// that Florencia collected in 2012-2016: arrears settled at the bank or the
// treasury, without a liquidation in the export. Their amounts make
// Florencia's 2013 collections exactly 20 % above 2012's (seed 000: "los
// recaudos de la Alcaldía subieron un 20% en un año"), on top of the growth
// the liquidations already show.
func (g *gen) cartera(m *muniProfile, st *muniStats, files map[int]*fileOut) error {
	total := func(y int) (sum, n int64) {
		for t := 0; t < 3; t++ {
			sum += st.paySum[slot(y)][t]
			for q := 0; q < 4; q++ {
				for c := 0; c < 5; c++ {
					n += st.pay[slot(y)][q][t][c]
				}
			}
		}
		return sum, n
	}
	m12, n12 := total(2012)
	m13, _ := total(2013)
	if m12 == 0 || n12 == 0 {
		return nil
	}
	c12 := m12 * 4 / 100
	if need := (m13+m12*2/100)*10/12 - m12 + 1; need > c12 {
		c12 = need
	}
	c13 := (m12+c12)*12/10 - m13
	amounts := map[int]int64{2012: c12, 2013: c13}
	for y := 2014; y <= 2016; y++ {
		s, _ := total(y)
		amounts[y] = s * int64(2017-y) / 100
	}
	for y := 2012; y <= 2016; y++ {
		c := amounts[y]
		if c <= 0 {
			continue
		}
		s, n := total(y)
		avg := s / max(n, 1)
		k := int(min(max(c/max(avg, 1), 3), 1_000_000))
		// weights, then amounts that add up exactly to c
		var sumW int64
		for i := 0; i < k; i++ {
			r := newRnd(g.seed, kCartera, uint64(m.idx), uint64(y), uint64(i))
			sumW += 500 + int64(r.intn(1500))
		}
		f := files[y]
		var left = c
		for i := 0; i < k; i++ {
			r := newRnd(g.seed, kCartera, uint64(m.idx), uint64(y), uint64(i))
			wgt := 500 + int64(r.intn(1500))
			amt := c * wgt / sumW
			if i == k-1 {
				amt = left
			}
			left -= amt
			who := naturalPerson(&r, m, false)
			tax := ingest.TaxPredial
			if r.chance(0.15) {
				tax = ingest.TaxICA
			}
			at := stamp{randDay(&r, mkday(y, 2, 1), mkday(y, 12, 15), true), 8*3600 + r.intn(8*3600)}
			p := &payRow{id: fmt.Sprintf("RC%d8%07d", y, i), tax: tax, year: y - 1 - r.intn(5), who: &who, at: at,
				amount: decInt(amt), ch: pickChan(&r, m.other)}
			g.payCells(m, p, f.cells)
			f.buf = m.pay.row(f.buf[:0], f.cells, -1)
			if err := f.rows(g, f.buf, 1); err != nil {
				return err
			}
			t := taxIdx(tax)
			st.pay[slot(y)][at.d.quarter()-1][t][channelIdx[p.ch.canon]]++
			st.paySum[slot(y)][t] += amt
		}
		f.info.Cartera = k
	}
	return nil
}

// ---------------------------------------------------------------- helpers

// unknownCode returns a code near code that is not in DANE's DIVIPOLA.
func unknownCode(code string) string {
	known := map[string]bool{}
	for _, line := range strings.Split(string(reference.DIVIPOLA()), "\n") {
		if f := strings.Split(line, ","); len(f) > 1 {
			known[f[1]] = true
		}
	}
	var n int
	fmt.Sscanf(code, "%d", &n)
	for k := n + 1; ; k++ {
		c := fmt.Sprintf("%05d", k)
		if !known[c] {
			return c
		}
	}
}
