package liquidation

import (
	"fmt"
	"sort"
	"strings"

	"github.com/shopspring/decimal"
)

// InterestPeriod is the share of a delay that falls in one certified usury period.
type InterestPeriod struct {
	From      Date            `json:"from"`
	To        Date            `json:"to"`
	Days      int             `json:"days"`
	UsuryRate decimal.Decimal `json:"usury_rate"`
	Rate      decimal.Decimal `json:"rate"` // usury minus points (ET art. 635)
	Verified  bool            `json:"verified"`
	Interest  decimal.Decimal `json:"interest"`
}

// Interest is the outcome of a late-payment interest computation.
type Interest struct {
	Value      decimal.Decimal  `json:"value"`
	Days       int              `json:"days"`
	Periods    []InterestPeriod `json:"periods,omitempty"`
	Unresolved string           `json:"unresolved,omitempty"`
	Cite       string           `json:"cite"`
}

// MoratoryInterest computes interés moratorio (ET arts. 634-635) on capital for the
// days after due up to and including paid: daily simple interest at (usury rate of the
// day - 2 points) / 366, summed over every certified period the delay crosses:
//
//	interest = capital x sum_i(rate_i x days_i) / (100 x 366), rounded to centavos.
//
// The result is not rounded to 1,000 pesos (art. 577 applies only to declaration
// values; callers round the ICA/ReteICA renglón themselves). withPeriods asks for the
// per-period breakdown.
func (r *Rules) MoratoryInterest(capital decimal.Decimal, due, paid Date, withPeriods bool) Interest {
	return r.nat.moratory(capital, due, paid, withPeriods)
}

func (n *national) moratory(capital decimal.Decimal, due, paid Date, withPeriods bool) Interest {
	out := Interest{Value: decimal.Zero}
	if len(n.interest) > 0 {
		out.Cite = n.interest[len(n.interest)-1].cite
	}
	if due.IsZero() || paid.IsZero() || !paid.After(due) || capital.Sign() <= 0 {
		return out
	}
	first := due.AddDays(1)
	out.Days = paid.Sub(due)
	// first period covering 'first'
	i := sort.Search(len(n.usury), func(k int) bool { return !n.usury[k].to.Before(first) })
	var sum decimal.Decimal // sum of rate_i x days_i
	sum = decimal.Zero
	cur := first
	basis := int64(366)
	for cur.Sub(paid) <= 0 {
		if i >= len(n.usury) || cur.Before(n.usury[i].from) {
			out.Unresolved = fmt.Sprintf("no hay tasa de usura certificada para el %s en las reglas (ET art. 635)", cur.Spanish())
			break
		}
		p := &n.usury[i]
		end := p.to
		if paid.Before(end) {
			end = paid
		}
		days := end.Sub(cur) + 1
		if ir := pickSpan(n.interest, cur); ir >= 0 {
			basis = n.interest[ir].dayBasis
			out.Cite = n.interest[ir].cite
		}
		part := p.net.Mul(decimal.NewFromInt(int64(days)))
		sum = sum.Add(part)
		if withPeriods {
			out.Periods = append(out.Periods, InterestPeriod{From: cur, To: end, Days: days, UsuryRate: p.rate, Rate: p.net, Verified: p.verified,
				Interest: capital.Mul(part).DivRound(decimal.NewFromInt(100*basis), 2)})
		}
		cur = end.AddDays(1)
		i++
	}
	out.Value = capital.Mul(sum).DivRound(decimal.NewFromInt(100*basis), 2)
	return out
}

func describePeriods(ps []InterestPeriod) string {
	var sb strings.Builder
	for k, p := range ps {
		if k > 0 {
			sb.WriteString("; ")
		}
		v := ""
		if !p.Verified {
			v = " (tasa no verificada)"
		}
		fmt.Fprintf(&sb, "%s a %s: %d días a %s%% (usura %s%% - 2)%s", p.From, p.To, p.Days, p.Rate.String(), p.UsuryRate.String(), v)
	}
	return sb.String()
}
