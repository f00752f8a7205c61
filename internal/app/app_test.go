package app_test

import (
	"strings"
	"testing"

	"github.com/acme/helpdesk/internal/app"
	"github.com/acme/helpdesk/internal/httpapi"
)

func TestLoad(t *testing.T) {
	const key = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="
	cases := []struct {
		name, table, cursorKey, level string
		endpoints                     []httpapi.Endpoint
		wantErr                       []string
	}{
		{"All", "helpdesk", key, "", nil, nil},
		{"NoTable", "", key, "", nil, []string{"HELPDESK_TABLE"}},
		{"ListNeedsCursorKey", "t", "", "", []httpapi.Endpoint{httpapi.ListTickets}, []string{"HELPDESK_CURSOR_KEY"}},
		{"GetNeedsNoCursorKey", "t", "", "", []httpapi.Endpoint{httpapi.GetTicket}, nil},
		{"ShortCursorKey", "t", "c2hvcnQ=", "", nil, []string{"HELPDESK_CURSOR_KEY"}},
		{"BadLevel", "t", key, "loud", nil, []string{"HELPDESK_LOG_LEVEL"}},
		{"EverythingWrong", "", "x", "loud", nil, []string{"HELPDESK_TABLE", "HELPDESK_CURSOR_KEY", "HELPDESK_LOG_LEVEL"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("HELPDESK_TABLE", tc.table)
			t.Setenv("HELPDESK_CURSOR_KEY", tc.cursorKey)
			t.Setenv("HELPDESK_LOG_LEVEL", tc.level)
			cfg, err := app.Load(tc.endpoints...)
			if len(tc.wantErr) == 0 {
				if err != nil || cfg.Table != tc.table {
					t.Fatalf("Load = %+v, %v", cfg, err)
				}
				return
			}
			for _, w := range tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("error %v does not name %s", err, w)
				}
			}
		})
	}
}
