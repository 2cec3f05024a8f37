package warehouse

import "testing"

func TestWorkingTable(t *testing.T) {
	for name, want := range map[string]bool{
		"etl_stage_6b666724_20261122T211716_625Z_1b3367ff1c8bb60a__liquidations": true,
		"tmp_saldos_1795382670359452507":                                         true,
		"pub_liquidaciones_3" + sortedSuffix:                                     true,
		"pub_liquidaciones_3" + stageSuffix:                                      true,
		"liquidations":                                                           false,
		"mis_datos":                                                              false,
	} {
		if _, got := WorkingTable(name); got != want {
			t.Errorf("WorkingTable(%q) = %v, want %v", name, got, want)
		}
	}
}
